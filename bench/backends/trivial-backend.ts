/**
 * The trivial backend: what a proxy costs when the server behind it costs next to nothing.
 * `GET …/big` answers 1 MiB, any other request a small JSON body; a websocket upgrade on any
 * path echoes every message.
 *
 * Started by a hub's launcher, like a Jupyter server, with `--config=<file>`: it listens on the
 * Unix socket `ServerApp.sock` (with `ServerApp.sock_mode`), as Slipway's proxy reaches it, and
 * also on 127.0.0.1 port 0, so that the anchors (direct, configurable-http-proxy, nginx), which
 * need a TCP port, reach the same process. Standalone: `--port N` or `--socket <path>`.
 * Once every listener is up it prints one `listening on <address>` line per listener to stdout
 * (the server's log when a launcher started it), TCP as `listening on 127.0.0.1:<port>`.
 */
import { chmodSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { z } from "zod";

const configSchema = z.object({
  ServerApp: z.object({
    sock: z.string().min(1),
    sock_mode: z
      .string()
      .regex(/^0?[0-7]{3}$/)
      .default("0600"),
  }),
});

type Listener = { readonly socket: string; readonly mode: number } | { readonly port: number };

function listenersOf(argv: readonly string[]): Listener[] {
  for (const [i, arg] of argv.entries()) {
    if (arg.startsWith("--config=")) {
      const config = configSchema.parse(JSON.parse(readFileSync(arg.slice("--config=".length), "utf8")));
      const { sock, sock_mode } = config.ServerApp;
      return [{ socket: sock, mode: parseInt(sock_mode, 8) }, { port: 0 }];
    }
    if (arg === "--port") return [{ port: Number(argv[i + 1] ?? "0") }];
    if (arg === "--socket") return [{ socket: argv[i + 1] ?? "", mode: 0o600 }];
  }
  return [{ port: 0 }];
}

const SMALL = Buffer.from(JSON.stringify({ ok: true, server: "trivial" }));
const BIG = Buffer.alloc(1024 * 1024, 0x62);

function answer(req: IncomingMessage, res: ServerResponse): void {
  const big = req.url?.split("?")[0]?.endsWith("/big") === true;
  const body = big ? BIG : SMALL;
  res.writeHead(200, {
    "content-type": big ? "application/octet-stream" : "application/json",
    "content-length": body.length,
  });
  res.end(body);
}

const echo = new WebSocketServer({ noServer: true, perMessageDeflate: false });
function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
  echo.handleUpgrade(req, socket, head, (ws) => {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on("error", () => ws.terminate());
  });
}

const servers = listenersOf(process.argv.slice(2)).map((listener) => {
  // Node answers 408 and closes a connection that sends no request within 60 s; jupyter-server
  // (tornado) waits an hour. Slipway's proxy holds one idle connection to each routed server to
  // learn at once when it exits, so the backend keeps idle connections as Jupyter does.
  const server = createServer({ requestTimeout: 0, headersTimeout: 3_600_000 }, answer);
  server.on("upgrade", upgrade);
  const listening = new Promise<string>((resolve, reject) => {
    server.once("error", reject);
    const onListening = () => {
      if ("socket" in listener) {
        chmodSync(listener.socket, listener.mode);
        resolve(`unix:${listener.socket}`);
      } else {
        const address = server.address();
        resolve(`127.0.0.1:${typeof address === "object" && address ? address.port : listener.port}`);
      }
    };
    if ("socket" in listener) server.listen(listener.socket, onListening);
    else server.listen(listener.port, "127.0.0.1", onListening);
  });
  return { server, listening };
});

for (const address of await Promise.all(servers.map((s) => s.listening))) {
  process.stdout.write(`listening on ${address}\n`);
}

const stop = () => {
  for (const ws of echo.clients) ws.terminate();
  let open = servers.length;
  for (const { server } of servers) {
    server.closeAllConnections();
    server.close(() => {
      open -= 1;
      if (open === 0) process.exit(0);
    });
  }
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
