import { open } from "node:fs/promises";

/** Enough for thousands of log lines; a runaway log is never read whole. */
const MAX_BYTES = 256 * 1024;

/** The last `lines` lines of a file, reading at most the last 256 KiB; "" when it is missing. */
export async function readLogTail(path: string, lines: number, redact?: string): Promise<string> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (err) {
    if (err instanceof Error && "code" in err && err.code === "ENOENT") return "";
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - MAX_BYTES);
    const buf = Buffer.alloc(size - start);
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    let text = buf.subarray(0, bytesRead).toString("utf8");
    // A read that starts mid-file starts mid-line; drop that fragment.
    if (start > 0) text = text.slice(text.indexOf("\n") + 1);
    const all = text.split("\n");
    if (all.at(-1) === "") all.pop();
    let tail = all.slice(-lines).join("\n");
    // Jupyter does not log a token that came from its config, but a user's own code might.
    if (redact !== undefined && redact !== "") tail = tail.replaceAll(redact, "[token]");
    return tail;
  } finally {
    await fh.close();
  }
}
