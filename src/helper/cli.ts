#!/usr/bin/env node
/**
 * slipway-helper: the one program the hub runs as another user (`sudo -n -u <user> slipway-helper
 * <verb>`), or directly when servers run as the hub's own account. One JSON request on stdin,
 * one JSON response on stdout; exit 0 ok, 2 bad request, 1 failure. See README.md.
 */
import { systemHelperContext } from "./helper-context.js";
import { EXIT_BAD_REQUEST } from "./protocol.js";
import { runHelper } from "./run-helper.js";

/** Requests are a few hundred bytes; anything far bigger is not one. */
const MAX_REQUEST_BYTES = 1024 * 1024;

async function readStdin(): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const input = await readStdin();
const outcome =
  input === undefined
    ? {
        exitCode: EXIT_BAD_REQUEST,
        response: { ok: false, error: { code: "bad_request", message: "The request is too large." } },
      }
    : await runHelper(process.argv[2], input, systemHelperContext(process.env));
process.stdout.write(JSON.stringify(outcome.response) + "\n");
// exitCode rather than exit(): stdout may be a pipe that has not drained yet.
process.exitCode = outcome.exitCode;
