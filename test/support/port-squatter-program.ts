/*
 * The other account in the takeover test, run as bob: binds a port that a server of alice's has
 * just freed, on every interface as a Slurm job's server does, and reports everything that
 * reaches it as JSON lines on stdout. It stops when its stdin closes.
 *
 *   node --import tsx test/support/port-squatter-program.ts   (one JSON line on stdin: {port, tls?})
 *
 * `startSquatter` in port-squatter.ts runs it and reads what it reports.
 *
 * `tls` is a key and certificate of bob's own: a TLS server that would answer whoever trusts it.
 * Without it, a plain HTTP server that answers every request 200, as a naive server would.
 */
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { createServer as createTlsServer } from "node:tls";
import { z } from "zod";
import { SQUATTER_ANSWER, type SquatterEvent } from "./port-squatter.js";

const configSchema = z.strictObject({
  port: z.int().min(1).max(65535),
  tls: z.strictObject({ key: z.string(), certificate: z.string() }).optional(),
});

function emit(event: SquatterEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/**
 * A plain HTTP/1.1 server written over raw TCP, so that every byte is recorded before anything
 * decides what it is (Node's own HTTP server parses the socket in C++, out of sight): it answers
 * a request 200 and anything that is not HTTP (such as a TLS ClientHello) 400, as a naive server
 * would.
 */
function plainHttp(socket: Socket): void {
  emit({ event: "connection" });
  let head = "";
  socket.on("data", (chunk: Buffer) => {
    emit({ event: "data", base64: chunk.toString("base64") });
    head += chunk.toString("latin1");
    const line = /^([A-Z]+ \S+) HTTP\/1\.[01]\r\n/.exec(head);
    if (line?.[1] !== undefined && head.includes("\r\n\r\n")) {
      emit({ event: "request", line: line[1] });
      socket.end(
        `HTTP/1.1 200 OK\r\ncontent-length: ${SQUATTER_ANSWER.length}\r\nconnection: close\r\n\r\n${SQUATTER_ANSWER}`,
      );
    } else if (line === null && (/^[^A-Z]/.test(head) || head.includes("\r\n"))) {
      socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    }
  });
  socket.on("error", () => undefined);
}

function squat(config: z.infer<typeof configSchema>): Server {
  if (config.tls) {
    const server = createTlsServer({ key: config.tls.key, cert: config.tls.certificate }, (secure) => {
      emit({ event: "handshake" });
      secure.on("data", (chunk: Buffer) => emit({ event: "data", base64: chunk.toString("base64") }));
      secure.on("error", () => undefined);
      secure.end(`HTTP/1.1 200 OK\r\ncontent-length: ${SQUATTER_ANSWER.length}\r\n\r\n${SQUATTER_ANSWER}`);
    });
    server.on("connection", () => emit({ event: "connection" }));
    server.on("tlsClientError", () => emit({ event: "handshake-failed" }));
    return server;
  }
  return createNetServer(plainHttp);
}

const lines = createInterface({ input: process.stdin });
lines.once("line", (line) => {
  const config = configSchema.parse(JSON.parse(line));
  const server = squat(config);
  server.once("error", (err) => {
    emit({ event: "failed", message: err.message });
    process.exit(1);
  });
  server.listen({ port: config.port, host: "0.0.0.0" }, () => emit({ event: "listening" }));
  lines.once("close", () => {
    server.close();
    process.exit(0);
  });
});
