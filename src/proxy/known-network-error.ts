/** Errors that mean "the server is down or went away": expected, logged without a stack. */
const KNOWN_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  // A server's Unix socket is removed with its directory when the server stops.
  "ENOENT",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

export function networkErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !("code" in error)) return undefined;
  const code = error.code;
  return typeof code === "string" && KNOWN_CODES.has(code) ? code : undefined;
}
