import type { z } from "zod";
import type { Verb } from "../helper/protocol.js";

/**
 * Runs one of slipway-helper's verbs as a user (`sudo -n -u <user>`, argv only, the request on
 * stdin) and validates its answer: what a scheduler adapter submits and cancels through, since
 * the hub never acts on a cluster as itself. `HelperClient` (src/launchers/helper-client.ts)
 * implements it; the composition root hands it over.
 */
export interface UserHelper {
  call<S extends z.ZodType>(
    userName: string,
    verb: Verb,
    request: object,
    resultSchema: S,
    timeoutMs: number,
  ): Promise<z.output<S>>;
}

/**
 * Whether a failed call was the helper's own answer (`{ok: false}`: it refused the request, or
 * the scheduler's command failed), rather than no answer at all (it could not run, or timed out).
 */
export function helperAnswered(err: unknown): boolean {
  return err instanceof Error && "failure" in err && err.failure !== undefined;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
