import { z } from "zod";
import { isValidUserName } from "../domain/names.js";
import {
  findResultSchema,
  logTailResultSchema,
  pollResultSchema,
  responseSchema,
  startResultSchema,
  stopResultSchema,
  type Failure,
  type FindRequest,
  type FindResult,
  type LogTailRequest,
  type LogTailResult,
  type PollRequest,
  type PollResult,
  type StartRequest,
  type StartResult,
  type StopRequest,
  type StopResult,
  type Verb,
} from "../helper/protocol.js";
import type { HelperContext } from "../helper/helper-context.js";
import { runHelper } from "../helper/run-helper.js";
import type { ProcessRunner } from "../ports/process-runner.js";

export type RunAs = "hub" | "user";

export interface HelperClientOptions {
  readonly runner: ProcessRunner;
  /** How to run the helper, e.g. `[process.execPath, "/opt/slipway/dist/src/helper/cli.js"]`. */
  readonly helperArgv: readonly string[];
  readonly runAs: RunAs;
  /**
   * The helper's environment when it runs as the hub (sudo replaces it otherwise). Its PATH is
   * the servers' PATH; nothing else of the hub's environment is handed on.
   */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Why a helper call failed. `failure` is the helper's own answer (`{ok: false}`); it is absent
 * when the helper could not be run, timed out, or did not answer with a valid response.
 */
export class HelperCallError extends Error {
  constructor(
    message: string,
    readonly failure?: Failure,
  ) {
    super(message);
    this.name = "HelperCallError";
  }
}

const envelopeSchema = responseSchema(z.unknown());

/** Short, single-line text of a program's stderr, for an error message. */
function brief(text: string): string {
  const line = text.trim().split("\n").slice(-3).join(" | ");
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** How a request reaches the helper's code and its JSON answer comes back. */
export interface HelperChannel {
  /**
   * The helper's answer (not yet validated) to one verb. Throws HelperCallError when no answer
   * came. The request may hold the token: it is passed as data, never as argv or environment.
   */
  exchange(userName: string, verb: Verb, request: string, timeoutMs: number): Promise<unknown>;
}

/** The helper's argv for one verb: run directly as the hub, or through `sudo -n -u <user>`. */
export function helperArgvFor(options: HelperClientOptions, userName: string, verb: Verb): string[] {
  const { helperArgv, runAs } = options;
  if (runAs === "hub") return [...helperArgv, verb];
  // The name becomes an argument of sudo; the domain pattern keeps it from looking like a flag.
  if (!isValidUserName(userName)) {
    throw new HelperCallError(`Not a valid user name: ${JSON.stringify(userName)}.`);
  }
  return ["sudo", "-n", "-u", userName, "--", ...helperArgv, verb];
}

/** The helper as a program of its own: the only way to act as another user. */
export class ProcessHelperChannel implements HelperChannel {
  constructor(private readonly options: HelperClientOptions) {}

  async exchange(userName: string, verb: Verb, request: string, timeoutMs: number): Promise<unknown> {
    const argv = helperArgvFor(this.options, userName, verb);
    let run;
    try {
      // The request goes through stdin only, never argv or env.
      run = await this.options.runner.run(argv, { stdin: request, timeoutMs, env: this.options.env });
    } catch (err) {
      throw new HelperCallError(
        `Could not run the helper: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (run.timedOut) throw new HelperCallError(`The helper did not answer ${verb} within ${timeoutMs} ms.`);
    try {
      return JSON.parse(run.stdout);
    } catch {
      const how = run.signal !== null ? `was killed by ${run.signal}` : `exited with code ${run.code}`;
      throw new HelperCallError(`The helper ${how} without an answer: ${brief(run.stderr) || "no output"}`);
    }
  }
}

/**
 * The helper's code run inside the hub, for servers that run as the hub's own account: the same
 * verbs, checks and files, without starting a program per call. What it starts is detached just
 * the same (own session), so it outlives the hub. Each verb bounds its own waits (the start
 * timeout, the stop grace), so no further timeout applies.
 */
export class InProcessHelperChannel implements HelperChannel {
  constructor(private readonly ctx: HelperContext) {}

  async exchange(_userName: string, verb: Verb, request: string): Promise<unknown> {
    return (await runHelper(verb, request, this.ctx)).response;
  }
}

/** Runs one helper verb through a channel (as a user via `sudo -n -u`, as the hub, or in-process) and validates the answer. */
export class HelperClient {
  private readonly channel: HelperChannel;

  constructor(
    private readonly options: HelperClientOptions,
    channel?: HelperChannel,
  ) {
    this.channel = channel ?? new ProcessHelperChannel(options);
  }

  argv(userName: string, verb: Verb): string[] {
    return helperArgvFor(this.options, userName, verb);
  }

  start(userName: string, request: StartRequest, timeoutMs: number): Promise<StartResult> {
    return this.call(userName, "start", request, startResultSchema, timeoutMs);
  }

  find(userName: string, request: FindRequest, timeoutMs: number): Promise<FindResult> {
    return this.call(userName, "find", request, findResultSchema, timeoutMs);
  }

  poll(userName: string, request: PollRequest, timeoutMs: number): Promise<PollResult> {
    return this.call(userName, "poll", request, pollResultSchema, timeoutMs);
  }

  stop(userName: string, request: StopRequest, timeoutMs: number): Promise<StopResult> {
    return this.call(userName, "stop", request, stopResultSchema, timeoutMs);
  }

  logTail(userName: string, request: LogTailRequest, timeoutMs: number): Promise<LogTailResult> {
    return this.call(userName, "log-tail", request, logTailResultSchema, timeoutMs);
  }

  /** Any verb, with the schema its result must match (the Slurm verbs: `src/schedulers/user-helper.ts`). */
  async call<S extends z.ZodType>(
    userName: string,
    verb: Verb,
    request: object,
    resultSchema: S,
    timeoutMs: number,
  ): Promise<z.output<S>> {
    const data = await this.channel.exchange(userName, verb, JSON.stringify(request), timeoutMs);
    const envelope = envelopeSchema.safeParse(data);
    if (!envelope.success) throw new HelperCallError(`The helper's answer to ${verb} is not valid.`);
    if (!envelope.data.ok) throw new HelperCallError(envelope.data.error.message, envelope.data.error);
    const result = resultSchema.safeParse(envelope.data.result);
    if (!result.success) throw new HelperCallError(`The helper's answer to ${verb} is not valid.`);
    return result.data;
  }
}
