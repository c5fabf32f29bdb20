import { errorCatalogue, type ErrorCode } from "../domain/errors.js";

/** A refusal or failure the proxy answers itself, rendered as `{status, code, message}`. */
export interface GateFailure {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
}

export function gateFailure(code: ErrorCode, message?: string): GateFailure {
  const entry = errorCatalogue[code];
  return Object.freeze({ status: entry.status, code, message: message ?? entry.message });
}
