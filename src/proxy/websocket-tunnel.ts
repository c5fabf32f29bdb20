import type { ClientRequest, IncomingMessage } from "node:http";
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { gateFailure } from "./gate-failure.js";
import { refuseUpgrade } from "./gate-replies.js";
import { RELAY_HIGH_WATER, type TargetContext } from "./target-context.js";
import type { ProxyPrincipal, ProxyRoute } from "./types.js";

const SERVER_UNREACHABLE = gateFailure("server_unreachable");

/** Dead peers behind NAT or a crashed node would otherwise hold a tunnel open for hours. */
const TCP_KEEPALIVE_MS = 30_000;

function statusLine(response: IncomingMessage, fallback: string): string {
  return `HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage || fallback}\r\n`;
}

function headerBlock(list: readonly string[]): string {
  let block = "";
  for (let i = 0; i + 1 < list.length; i += 2) block += `${list[i] ?? ""}: ${list[i + 1] ?? ""}\r\n`;
  return block;
}

function tune(socket: Duplex): void {
  if (!(socket instanceof Socket)) return;
  socket.setNoDelay(true);
  socket.setTimeout(0);
  socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
}

/** Keeps track of open tunnels (the registry); told when one closes for any reason. */
export interface TunnelOwner {
  remove(tunnel: WebSocketTunnel): void;
}

/**
 * One websocket between a browser and a user's server, from the moment the gate let it
 * through until either side closes: the handshake is replayed to the server on the canonical
 * path with rewritten headers, then the two sockets are piped into each other.
 */
export class WebSocketTunnel {
  private targetRequest: ClientRequest | undefined;
  private targetSocket: Duplex | undefined;
  private upgraded = false;
  private closed = false;
  /** The browser sent something since the registry last asked (a person at work, not a server's chatter). */
  clientSent = false;

  constructor(
    readonly client: Duplex,
    readonly route: ProxyRoute,
    readonly principal: ProxyPrincipal,
    private readonly context: TargetContext,
    private readonly owner: TunnelOwner,
  ) {
    client.on("close", this.close);
  }

  get isOpen(): boolean {
    return this.upgraded && !this.closed;
  }

  /** `url` is the canonical path and query; `head` is what the client sent after its handshake. */
  open(req: IncomingMessage, url: string, head: Buffer): void {
    if (this.closed) return;
    const headers = this.context.rewriter.forRequest(req, this.route.token, true);
    let target: ClientRequest;
    try {
      // A tunnel keeps its connection for good; taking one from the pool would only shrink it.
      target = this.context.pins.request(this.route.target, {
        method: req.method ?? "GET",
        path: url,
        headers: headers.list,
        setHost: false,
      });
    } catch {
      this.refuse();
      return;
    }
    this.targetRequest = target;
    target.on("upgrade", (response: IncomingMessage, socket: Duplex, targetHead: Buffer) => {
      this.connect(response, socket, targetHead, head);
    });
    target.on("response", (response: IncomingMessage) => this.relayRefusal(response));
    target.on("error", (error: Error) => this.fail(error));
    target.end();
  }

  private connect(response: IncomingMessage, socket: Duplex, targetHead: Buffer, clientHead: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.targetSocket = socket;
    this.upgraded = true;
    const client = this.client;
    socket.on("error", this.close);
    socket.on("close", this.close);
    tune(socket);
    tune(client);
    client.write(
      statusLine(response, "Switching Protocols") +
        headerBlock(this.context.rewriter.forUpgradeResponse(response.rawHeaders)) +
        "\r\n",
    );
    if (targetHead.length > 0) client.write(targetHead);
    if (clientHead.length > 0) socket.write(clientHead);
    // One listener per direction does the relaying, the accounting and the flow control, rather
    // than `pipe` plus an activity listener: every frame costs one event and one write.
    socket.on("data", this.fromServer);
    client.on("data", this.fromClient);
    socket.on("drain", this.serverDrained);
    client.on("drain", this.clientDrained);
    socket.on("end", this.serverEnded);
    client.on("end", this.clientEnded);
    this.context.metrics.upgrade("opened");
  }

  private readonly fromServer = (chunk: Buffer): void => {
    this.context.activity.record(this.route);
    const client = this.client;
    client.write(chunk);
    if (client.writableLength > RELAY_HIGH_WATER) this.targetSocket?.pause();
  };

  private readonly fromClient = (chunk: Buffer): void => {
    this.context.activity.record(this.route);
    this.clientSent = true;
    const socket = this.targetSocket;
    if (socket === undefined) return;
    socket.write(chunk);
    if (socket.writableLength > RELAY_HIGH_WATER) this.client.pause();
  };

  private readonly clientDrained = (): void => {
    if (this.targetSocket?.isPaused() === true) this.targetSocket.resume();
  };

  private readonly serverDrained = (): void => {
    if (this.client.isPaused()) this.client.resume();
  };

  private readonly serverEnded = (): void => {
    this.client.end();
  };

  private readonly clientEnded = (): void => {
    this.targetSocket?.end();
  };

  /** The server answered the handshake without upgrading (Jupyter's own origin check, a 404). */
  private relayRefusal(response: IncomingMessage): void {
    this.context.metrics.upgrade("failed");
    const client = this.client;
    if (this.closed || !client.writable) {
      response.destroy();
      this.close();
      return;
    }
    client.write(
      statusLine(response, "Error") +
        headerBlock(this.context.rewriter.forResponse(response.rawHeaders, response.statusCode ?? 0)) +
        "Connection: close\r\n\r\n",
    );
    response.pipe(client);
  }

  private fail(error: Error): void {
    if (this.closed) return;
    if (this.upgraded) {
      this.close();
      return;
    }
    this.context.reportTargetError(this.route, error);
    this.context.metrics.upgrade("failed");
    this.refuse();
  }

  private refuse(): void {
    refuseUpgrade(this.client, SERVER_UNREACHABLE);
    this.closed = true;
    this.owner.remove(this);
  }

  /** Idempotent; safe as a listener on either socket. */
  readonly close = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
    this.targetSocket?.destroy();
    this.targetRequest?.destroy();
    this.owner.remove(this);
    if (this.upgraded) this.context.metrics.upgrade("closed");
  };
}
