/**
 * The catalogue of stable error codes. Codes are part of the public API: clients and scripts
 * match on them, so a code is never renamed. HTTP statuses are attached here but only the
 * HTTP edge turns an error into a response.
 */
export const errorCatalogue = {
  bad_request: { status: 400, message: "The request is not valid." },
  duplicate_host: { status: 400, message: "The request has more than one Host header." },
  invalid_json: { status: 400, message: "The request body is not valid JSON." },
  unsupported_media_type: { status: 415, message: "The request body must be JSON." },
  validation_failed: { status: 400, message: "Some fields are not valid." },
  unknown_field: { status: 400, message: "The request has a field that is not allowed." },
  body_too_large: { status: 413, message: "The request body is too large." },
  invalid_user_name: {
    status: 400,
    message:
      "A user name is 1 to 32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.",
  },
  invalid_server_name: {
    status: 400,
    message:
      "A server name is 1 to 30 characters: lower-case letters, digits and '-', starting with a letter.",
  },
  reserved_server_name: {
    status: 400,
    message: "That server name is reserved because it would hide a path of the default server.",
  },
  invalid_option: { status: 400, message: "A launch option is not allowed." },
  target_not_allowed: {
    status: 403,
    message:
      "Your account may not run servers there: accounts from other institutions (external) are never given a shell on the centre's machines.",
  },
  not_authenticated: { status: 401, message: "Sign in or send a valid API token." },
  invalid_credentials: { status: 401, message: "The user name or password is wrong." },
  invalid_totp: { status: 401, message: "The one-time code is wrong or was already used." },
  forbidden: { status: 403, message: "You are not allowed to do that." },
  scope_not_held: {
    status: 403,
    message: "A new token can only have scopes that both its owner and the credential asking for it hold.",
  },
  csrf_failed: {
    status: 403,
    message:
      "The request was refused because it did not come from a Slipway page (missing or wrong XSRF token).",
  },
  cross_origin: { status: 403, message: "Cross-origin requests are refused." },
  user_disabled: { status: 403, message: "This account is disabled." },
  not_found: { status: 404, message: "Nothing is here." },
  user_not_found: { status: 404, message: "No such user." },
  server_not_found: { status: 404, message: "No such server." },
  token_not_found: { status: 404, message: "No such token." },
  setup_link_invalid: {
    status: 400,
    message: "This set-up link is not valid: it was already used, has expired, or was never issued.",
  },
  group_not_found: { status: 404, message: "No such group." },
  invalid_group_name: {
    status: 400,
    message:
      "A group name is 1 to 64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter.",
  },
  group_exists: { status: 409, message: "A group with that name exists already." },
  sign_in_state_invalid: {
    status: 400,
    message:
      "This sign-in cannot be completed: it was started in another browser, took too long, or was already used. Sign in again.",
  },
  idp_unreachable: {
    status: 503,
    message: "The identity provider does not answer; try again shortly. Signed-in sessions go on working.",
  },
  idp_discovery_invalid: {
    status: 503,
    message:
      "The identity provider's configuration could not be read, so nobody can sign in through it now. Signed-in sessions go on working; the hub's log says why.",
  },
  idp_refused: { status: 401, message: "The identity provider did not sign you in." },
  idp_token_invalid: {
    status: 401,
    message: "The identity provider's answer failed the hub's checks, so it cannot sign you in.",
  },
  idp_claim_missing: {
    status: 401,
    message: "The identity provider did not say who you are (a claim the hub needs is missing or not valid).",
  },
  insufficient_authentication: {
    status: 403,
    message:
      "Your sign-in did not use the second factor this hub requires. Sign in again with your one-time code or security key.",
  },
  not_in_allowed_group: {
    status: 403,
    message: "Your account is not in a group that may use this hub. Ask your centre for access.",
  },
  name_collision: {
    status: 403,
    message:
      "Your user name at the identity provider maps onto an account that belongs to someone else. Ask your centre to sort it out.",
  },
  user_not_provisioned: {
    status: 403,
    message: "There is no account for you on this hub yet. Ask your centre to create one.",
  },
  header_untrusted: {
    status: 401,
    message: "The sign-in header came from a peer that is not the configured front door.",
  },
  header_invalid: {
    status: 400,
    message: "The front door's sign-in header is sent twice, empty, or not a single valid name.",
  },
  invalid_logout_token: { status: 400, message: "The logout token is not valid." },
  setup_links_unused: {
    status: 400,
    message:
      "This hub signs people in through an identity provider or a front door, so accounts have no set-up links.",
  },
  user_exists: { status: 409, message: "A user with that name exists already." },
  server_exists: { status: 409, message: "A server with that name exists already." },
  server_busy: { status: 409, message: "The server is starting or stopping; wait for it to finish." },
  server_running: { status: 400, message: "The server is running; stop it first." },
  too_many_servers: { status: 400, message: "You have reached the limit of named servers." },
  too_many_attempts: { status: 429, message: "Too many attempts; wait a little and try again." },
  server_not_running: { status: 503, message: "The server is not running." },
  sign_in_busy: {
    status: 503,
    message: "Too many sign-ins are being checked at once; try again in a moment.",
  },
  server_unreachable: {
    status: 502,
    message: "The server did not answer; it may have stopped or be starting.",
  },
  scheduler_unavailable: {
    status: 503,
    message: "The cluster's scheduler does not answer; try again shortly.",
  },
  store_unavailable: { status: 503, message: "The hub's database is unavailable; try again shortly." },
  launch_failed: { status: 500, message: "The server could not be started." },
  internal: { status: 500, message: "Something went wrong inside the hub." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export class SlipwayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    const entry = errorCatalogue[code];
    super(message ?? entry.message);
    this.name = "SlipwayError";
    this.code = code;
    this.status = entry.status;
    this.details = details;
  }
}

export function isSlipwayError(value: unknown): value is SlipwayError {
  return value instanceof SlipwayError;
}

/** Codes whose answer tells the client when to try again (Retry-After). */
const RETRY_LATER: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["too_many_attempts", "sign_in_busy"]);

/** Whole seconds to put in Retry-After: the error's `details.retryAfter`, at least 1; none for other codes. */
export function retryAfterOf(error: SlipwayError): number | undefined {
  if (!RETRY_LATER.has(error.code)) return undefined;
  const seconds = error.details?.["retryAfter"];
  return typeof seconds === "number" && Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : 1;
}
