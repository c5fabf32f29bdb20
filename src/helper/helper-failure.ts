import type { FailureCode } from "./protocol.js";

/** A failure the helper reports to the hub as `{ok: false, error}`. */
export class HelperFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
    readonly logTail?: string,
  ) {
    super(message);
    this.name = "HelperFailure";
  }
}
