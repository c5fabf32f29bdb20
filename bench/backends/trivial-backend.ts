/**
 * The trivial backend: what a proxy costs when the server behind it costs next to nothing.
 * `GET …/big` answers 1 MiB, any other request a small JSON body; a websocket upgrade on any
 * path echoes every message. Started either by a hub's launcher, like a Jupyter server (it
 * reads `--config=<file>` with `ServerApp.port` and `ServerApp.ip`), or with `--port N`.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { z } from "zod";

const configSchema = z.object({
  ServerApp: z.object({ port: z.int().min(0).max(65535), ip: z.string().default("127.0.0.1") }),
});

function listenAddress(argv: readonly string[]): { port: number; host: string } {
  for (const [i, arg] of argv.entries()) {
    if (arg.startsWith("--config=")) {
      const config = configSchema.parse(JSON.parse(readFileSync(arg.slice("--config=".length), "utf8")));
      return { port: config.ServerApp.port, host: config.ServerApp.ip };
    }
    if (arg === "--port") return { port: Number(argv[i + 1] ?? "0"), host: "127.0.0.1" };
  }
  return { port: 0, host: "127.0.0.1" };
}

const SMALL = Buffer.from(JSON.stringify({ ok: true, server: "trivial" }));
const BIG = Buffer.alloc(1024 * 1024, 0x62);

const server = createServer((req, res) => {
  const big = req.url?.split("?")[0]?.endsWith("/big") === true;
  const body = big ? BIG : SMALL;
  res.writeHead(200, {
    "content-type": big ? "application/octet-stream" : "application/json",
    "content-length": body.length,
  });
  res.end(body);
});

const echo = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on("upgrade", (req, socket, head) => {
  echo.handleUpgrade(req, socket, head, (ws) => {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on("error", () => ws.terminate());
  });
});

const { port, host } = listenAddress(process.argv.slice(2));
server.listen(port, host, () => {
  const address = server.address();
  process.stdout.write(`listening on ${typeof address === "object" && address ? address.port : port}\n`);
});

const stop = () => {
  for (const ws of echo.clients) ws.terminate();
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
