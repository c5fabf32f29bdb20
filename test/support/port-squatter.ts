import { spawn } from "node:child_process";
import { once } from "node:events";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { z } from "zod";

/** The checkout (not test-hub.ts's REPO: the program imports this module, and it alone). */
const REPO = resolve(import.meta.dirname, "../..");

/** What bob's server answers to anyone who gets a request through to it. */
export const SQUATTER_ANSWER = "answered by bob's server";

/** What the squatter saw: TCP connections, completed TLS handshakes, bytes, HTTP requests. */
export const squatterEventSchema = z.discriminatedUnion("event", [
  z.strictObject({ event: z.literal("listening") }),
  z.strictObject({ event: z.literal("connection") }),
  z.strictObject({ event: z.literal("handshake") }),
  z.strictObject({ event: z.literal("handshake-failed") }),
  /** Bytes as they arrived: raw on a plain server, decrypted on a TLS one. */
  z.strictObject({ event: z.literal("data"), base64: z.string() }),
  z.strictObject({ event: z.literal("request"), line: z.string() }),
  z.strictObject({ event: z.literal("failed"), message: z.string() }),
]);
export type SquatterEvent = z.infer<typeof squatterEventSchema>;

export interface Squatter {
  /** Everything reported so far, in order. */
  readonly events: SquatterEvent[];
  /** Every byte it received, concatenated. */
  received(): Buffer;
  /** Resolves once the next event of `kind` is reported (or one already was). */
  seen(kind: SquatterEvent["event"]): Promise<void>;
  /** Closes its stdin, which ends it, and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Runs `port-squatter-program.ts` as `user` (runuser, as these suites run as root): a server of
 * that account's on `port`, with its own TLS key and certificate when `tls` is given. Resolves
 * once it listens; rejects if it could not bind.
 */
export async function startSquatter(
  user: string,
  port: number,
  tls?: { readonly key: string; readonly certificate: string },
): Promise<Squatter> {
  const child = spawn(
    "runuser",
    [
      "-u",
      user,
      "--",
      process.execPath,
      "--import",
      "tsx",
      join(REPO, "test/support/port-squatter-program.ts"),
    ],
    { cwd: REPO, stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = once(child, "exit");
  const events: SquatterEvent[] = [];
  const waiting: { kind: SquatterEvent["event"]; resolve: () => void }[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const event = squatterEventSchema.parse(JSON.parse(line));
    events.push(event);
    for (const w of waiting.filter((w) => w.kind === event.event)) w.resolve();
  });
  const seen = (kind: SquatterEvent["event"]) =>
    events.some((e) => e.event === kind)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiting.push({ kind, resolve }));
  child.stdin.write(`${JSON.stringify({ port, ...(tls ? { tls } : {}) })}\n`);
  const outcome = await Promise.race([
    seen("listening").then(() => "listening" as const),
    seen("failed").then(() => "failed" as const),
    exited.then(() => "exited" as const),
  ]);
  if (outcome !== "listening") {
    child.stdin.end();
    throw new Error(`${user}'s server could not listen on ${port}: ${JSON.stringify(events)}`);
  }
  return {
    events,
    received: () =>
      Buffer.concat(events.flatMap((e) => (e.event === "data" ? [Buffer.from(e.base64, "base64")] : []))),
    seen,
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
