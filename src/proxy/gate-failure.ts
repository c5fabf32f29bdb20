import { errorCatalogue, type ErrorCode } from "../domain/errors.js";

/** A refusal or failure the proxy answers itself, rendered as `{status, code, message}`. */
export interface GateFailure {
  readonly status: number;
  readonly code: GateFailureCode;
  readonly message: string;
}

/** The proxy's own code for a server that does not answer; the rest come from the domain catalogue. */
export type GateFailureCode = ErrorCode | "server_unreachable";

const SERVER_UNREACHABLE = {
  status: 502,
  message: "The server did not answer; it may have stopped or be starting.",
} as const;

export function gateFailure(code: GateFailureCode, message?: string): GateFailure {
  const entry = code === "server_unreachable" ? SERVER_UNREACHABLE : errorCatalogue[code];
  return Object.freeze({ status: entry.status, code, message: message ?? entry.message });
}
