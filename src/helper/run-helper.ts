import type { z } from "zod";
import { findServer } from "./find-server.js";
import type { HelperContext } from "./helper-context.js";
import { HelperFailure } from "./helper-failure.js";
import { pollProcess } from "./poll-process.js";
import {
  EXIT_BAD_REQUEST,
  EXIT_FAILED,
  EXIT_OK,
  isVerb,
  verbs,
  type Failure,
  type Verb,
} from "./protocol.js";
import { readLogTail } from "./read-log-tail.js";
import { ServerDir } from "./server-dir.js";
import { slurmCancel, slurmLogTail } from "./slurm-cancel.js";
import { slurmSubmit } from "./slurm-submit.js";
import { startServer } from "./start-server.js";
import { stopServer } from "./stop-server.js";

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

const handlers: Record<Verb, Handler> = {
  start: handler(verbs.start.request, startServer),
  find: handler(verbs.find.request, findServer),
  poll: handler(verbs.poll.request, pollProcess),
  stop: handler(verbs.stop.request, stopServer),
  "log-tail": handler(verbs["log-tail"].request, async (req, ctx) => {
    const dir = new ServerDir(ctx.user.home, req.hub, req.serverId, ctx.user.uid);
    if (!(await dir.exists())) return { text: "" };
    return { text: await readLogTail(dir.logPath, req.lines, await dir.readToken()) };
  }),
  "slurm-submit": handler(verbs["slurm-submit"].request, slurmSubmit),
  "slurm-cancel": handler(verbs["slurm-cancel"].request, slurmCancel),
  "slurm-log-tail": handler(verbs["slurm-log-tail"].request, slurmLogTail),
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
    return { exitCode: EXIT_OK, response: { ok: true, result: await handlers[verb](data, ctx) } };
  } catch (err) {
    if (err instanceof HelperFailure) return failed(err.code, err.message, err.logTail);
    return failed("failed", err instanceof Error ? err.message : String(err));
  }
}
