import { ClientRequest, type IncomingMessage, type RequestOptions, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { gateFailure } from "./gate-failure.js";
import { replyWithError } from "./gate-replies.js";
import { isFieldText } from "./http-syntax.js";
import { MAX_RESPONSE_HEAD, MAX_RESPONSE_HEADERS, invalidResponse } from "./response-head.js";
import { statusClass } from "./proxy-metrics.js";
import { TargetAgents } from "./target-connection.js";
import type { TargetContext } from "./target-context.js";
import type { ProxyRoute } from "./types.js";

const SERVER_UNREACHABLE = gateFailure("server_unreachable");

/**
 * One request to a user's server. The listeners are shared functions that find their state
 * on `this`, so forwarding allocates no closures beyond the one that watches the client.
 */
class TargetRequest extends ClientRequest {
  response: IncomingMessage | undefined;
  /** Answered already (error page, or a retry took over): `close` must not touch the client. */
  settled = false;
  /** The client went away first; errors that follow are ours, not the server's. */
  abandoned = false;

  constructor(
    readonly forwarder: HttpForwarder,
    readonly clientRequest: IncomingMessage,
    readonly clientResponse: ServerResponse,
    readonly route: ProxyRoute,
    readonly hasBody: boolean,
    readonly retryable: boolean,
    options: RequestOptions,
  ) {
    super(options);
    this.on("response", onTargetResponse);
    this.on("upgrade", onTargetUpgrade);
    this.on("error", onTargetError);
    this.on("close", onTargetClose);
    clientResponse.once("close", this.onClientClose);
  }

  private readonly onClientClose = (): void => {
    if (this.clientResponse.writableEnded) return;
    this.abandoned = true;
    this.destroy();
  };
}

function onTargetResponse(this: TargetRequest, response: IncomingMessage): void {
  this.response = response;
  this.forwarder.relay(this, response);
}

/** A `101` nobody asked for: without this listener Node's client would drop the client's connection unanswered. */
function onTargetUpgrade(this: TargetRequest, _response: IncomingMessage, socket: Duplex): void {
  socket.destroy();
  this.forwarder.fail(this, invalidResponse("101 to a request that asked for no upgrade"));
}

/**
 * What the fast path's strict parser (`parseResponseHead`) refuses and Node's client lets
 * through, so that a response is a 502 on either path: an HTTP version other than 1.0 and 1.1,
 * a transfer coding other than `chunked` (its label would be lost, the body relayed still
 * coded), too many header lines (Node's client would drop those past 2000), and a reason phrase
 * with bytes `writeHead` refuses.
 */
function responseFault(response: IncomingMessage): string | undefined {
  if (response.httpVersionMajor !== 1 || response.httpVersionMinor > 1)
    return "not an HTTP/1.0 or 1.1 status line";
  const coding = response.headers["transfer-encoding"];
  if (coding !== undefined && coding.toLowerCase() !== "chunked")
    return "a transfer coding other than chunked";
  if (response.rawHeaders.length > MAX_RESPONSE_HEADERS * 2) return "malformed header line";
  if (!isFieldText(response.statusMessage ?? "")) return "malformed reason phrase";
  return undefined;
}

function onTargetError(this: TargetRequest, error: Error): void {
  this.forwarder.fail(this, error);
}

function onTargetClose(this: TargetRequest): void {
  if (this.settled || this.abandoned) return;
  // The server closed before the whole response arrived: cut the client off too, so it
  // sees a broken response rather than a short one that looks complete.
  if (this.response === undefined || !this.response.complete) this.clientResponse.destroy();
}

export interface HttpForwarderOptions {
  readonly context: TargetContext;
  /** Connections kept per user's server; further requests queue. */
  readonly maxSocketsPerTarget: number;
}

/** Forwards HTTP requests to users' servers over pooled keep-alive connections, streaming both ways. */
export class HttpForwarder {
  private readonly agents: TargetAgents;
  private readonly context: TargetContext;

  constructor(options: HttpForwarderOptions) {
    this.context = options.context;
    this.agents = new TargetAgents(options.maxSocketsPerTarget);
  }

  /** `url` is the canonical path and query: exactly what was routed on. */
  forward(req: IncomingMessage, res: ServerResponse, route: ProxyRoute, url: string, retried = false): void {
    const headers = this.context.rewriter.forRequest(req, route.token, false);
    const method = req.method ?? "GET";
    let target: TargetRequest;
    try {
      target = new TargetRequest(
        this,
        req,
        res,
        route,
        headers.hasBody,
        // A reused keep-alive connection may have been closed by the server just as we sent;
        // a request with no body and no side effects can then be sent once more.
        !retried && !headers.hasBody && (method === "GET" || method === "HEAD" || method === "OPTIONS"),
        {
          ...this.context.pins.requestOptions(route.target),
          method,
          path: url,
          headers: headers.list,
          agent: this.agents.for(route.target),
          setHost: false,
          maxHeaderSize: MAX_RESPONSE_HEAD,
        },
      );
    } catch (error) {
      // Node refuses a header value or path it would not put on the wire.
      replyWithError(
        req,
        res,
        gateFailure("bad_request", error instanceof Error ? error.message : undefined),
      );
      this.context.metrics.request("4xx");
      return;
    }
    if (headers.hasBody) req.pipe(target);
    else target.end();
  }

  relay(target: TargetRequest, response: IncomingMessage): void {
    const res = target.clientResponse;
    if (res.destroyed) {
      target.abandoned = true;
      target.destroy();
      return;
    }
    const status = response.statusCode ?? 502;
    const fault = responseFault(response);
    if (fault !== undefined) {
      this.refuseResponse(target, invalidResponse(fault));
      return;
    }
    try {
      res.writeHead(
        status,
        response.statusMessage,
        this.context.rewriter.forResponse(response.rawHeaders, status),
      );
    } catch (error) {
      this.refuseResponse(target, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    response.pipe(res);
    if (target.hasBody) response.once("end", () => this.dropUnreadBody(target));
    // Errors, redirects to login and missing files are not a user at work.
    if (status < 400) this.context.activity.record(target.route);
    this.context.metrics.request(statusClass(status));
  }

  /**
   * The server answered before it took the whole body (a 403 or 413 to an upload). Node's
   * client stops relaying 'drain' once a response is complete (`socketOnData` drops the
   * listener), so the pipe would stall and with it the client's keep-alive connection: stop
   * sending, discard the rest of the client's body, and give up this connection to the server.
   */
  private dropUnreadBody(target: TargetRequest): void {
    if (target.writableEnded) return;
    const req = target.clientRequest;
    req.unpipe(target);
    req.resume();
    target.settled = true;
    target.destroy();
  }

  /** The response cannot be relayed: 502, and the connection to the server is given up. */
  private refuseResponse(target: TargetRequest, error: Error): void {
    target.settled = true;
    target.destroy();
    this.context.reportTargetError(target.route, error);
    const res = target.clientResponse;
    // A `writeHead` that threw has kept its reason phrase, which the next one would throw on again.
    res.statusMessage = "";
    replyWithError(target.clientRequest, res, SERVER_UNREACHABLE);
    this.context.metrics.request("5xx");
  }

  fail(target: TargetRequest, error: Error): void {
    if (target.abandoned || target.settled) return;
    // Bytes after a complete response (a body on a 204 or a HEAD, more than `Content-Length`)
    // break only the connection, which Node's client has closed: the response goes on to the
    // client, as on the fast path, which drops them and that connection too.
    if (target.response?.complete === true) {
      target.settled = true;
      return;
    }
    const res = target.clientResponse;
    if (
      target.retryable &&
      target.reusedSocket &&
      target.response === undefined &&
      !res.headersSent &&
      "code" in error &&
      error.code === "ECONNRESET"
    ) {
      target.settled = true;
      this.forward(target.clientRequest, res, target.route, target.path, true);
      return;
    }
    target.settled = true;
    this.context.reportTargetError(target.route, error);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    replyWithError(target.clientRequest, res, SERVER_UNREACHABLE);
    this.context.metrics.request("5xx");
  }

  /** Closes pooled connections; requests in flight end with an error. */
  close(): void {
    this.agents.destroy();
  }
}
