import type { z } from "zod";
import type { HelperContext } from "./helper-context.js";
import { HelperFailure } from "./helper-failure.js";
import {
  EXIT_BAD_REQUEST,
  EXIT_FAILED,
  EXIT_OK,
  isVerb,
  verbs,
  type Failure,
  type Verb,
} from "./protocol.js";

export type HelperResponse =
  { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: Failure };

export interface HelperOutcome {
  readonly exitCode: number;
  readonly response: HelperResponse;
}

type Handler = (data: unknown, ctx: HelperContext) => Promise<unknown>;

/** Validates the request for a verb strictly, then runs it. */
function handler<S extends z.ZodType>(
  schema: S,
  run: (req: z.output<S>, ctx: HelperContext) => Promise<unknown>,
): Handler {
  return async (data, ctx) => {
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      // Paths and messages only: zod's messages do not repeat the input, so no token leaks here.
      const why = parsed.error.issues.map((i) => `${i.path.join(".") || "request"}: ${i.message}`).join("; ");
      throw new HelperFailure("bad_request", why);
    }
    return run(parsed.data, ctx);
  };
}

/**
 * Each verb's code is loaded only when that verb runs: as a program the helper is one process
 * per call, and a poll should not pay for loading the start or Slurm code.
 */
const handlers: Record<Verb, () => Promise<Handler>> = {
  start: async () => handler(verbs.start.request, (await import("./start-server.js")).startServer),
  find: async () => handler(verbs.find.request, (await import("./find-server.js")).findServer),
  poll: async () => handler(verbs.poll.request, (await import("./poll-process.js")).pollProcess),
  stop: async () => handler(verbs.stop.request, (await import("./stop-server.js")).stopServer),
  "log-tail": async () =>
    handler(verbs["log-tail"].request, (await import("./server-log-tail.js")).serverLogTail),
  "slurm-submit": async () =>
    handler(verbs["slurm-submit"].request, (await import("./slurm-submit.js")).slurmSubmit),
  "slurm-cancel": async () =>
    handler(verbs["slurm-cancel"].request, (await import("./slurm-cancel.js")).slurmCancel),
  "slurm-log-tail": async () =>
    handler(verbs["slurm-log-tail"].request, (await import("./slurm-cancel.js")).slurmLogTail),
};

function failed(code: Failure["code"], message: string, logTail?: string): HelperOutcome {
  return {
    exitCode: code === "bad_request" ? EXIT_BAD_REQUEST : EXIT_FAILED,
    response: { ok: false, error: logTail === undefined ? { code, message } : { code, message, logTail } },
  };
}

/** Runs one verb on one JSON request and says what to print and how to exit. Never throws. */
export async function runHelper(
  verb: string | undefined,
  input: string,
  ctx: HelperContext,
): Promise<HelperOutcome> {
  if (verb === undefined || !isVerb(verb)) {
    return failed(
      "bad_request",
      `Unknown verb ${JSON.stringify(verb ?? "")}; one of: ${Object.keys(verbs).join(", ")}.`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(input);
  } catch {
    return failed("bad_request", "The request is not valid JSON.");
  }
  try {
    const run = await handlers[verb]();
    return { exitCode: EXIT_OK, response: { ok: true, result: await run(data, ctx) } };
  } catch (err) {
    if (err instanceof HelperFailure) return failed(err.code, err.message, err.logTail);
    return failed("failed", err instanceof Error ? err.message : String(err));
  }
}
