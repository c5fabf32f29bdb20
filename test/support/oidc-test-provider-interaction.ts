import type { IncomingMessage, ServerResponse } from "node:http";
import { errors, type Interaction } from "oidc-provider";
import type Provider from "oidc-provider";
import { LOA1, LOA2, requestedLevels } from "./oidc-test-provider-config.js";
import { errorPage, loginPage } from "./oidc-test-provider-pages.js";

/** What an interaction needs from the test provider. */
export interface InteractionInput {
  readonly provider: Provider;
  /** The account that signs in with this name (its sub or preferred_username). */
  readonly accountNamed: (name: string) => { sub: string; password: string; otp?: string } | undefined;
  /** The acr and amr every sign-in is forced to give, if any. */
  readonly forced: () => { acr: string; amr: string[] } | undefined;
}

const MAX_FORM_BYTES = 16_384;

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_FORM_BYTES) throw new errors.InvalidRequest("the form is too large");
    chunks.push(buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Grants what the client asked for without asking: the test provider has no consent screen. */
async function grantConsent(
  input: InteractionInput,
  req: IncomingMessage,
  res: ServerResponse,
  details: Interaction,
) {
  const { provider } = input;
  const accountId = details.session?.accountId;
  if (accountId === undefined) throw new errors.SessionNotFound("no account signed in");
  const clientId = text(details.params["client_id"]);
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId });
  if (grant === undefined) throw new errors.InvalidRequest("the grant is gone");
  const promptDetails = details.prompt.details;
  const scope = stringList(promptDetails["missingOIDCScope"]);
  if (scope.length > 0) grant.addOIDCScope(scope.join(" "));
  const claims = stringList(promptDetails["missingOIDCClaims"]);
  if (claims.length > 0) grant.addOIDCClaims(claims);
  const resources = promptDetails["missingResourceScopes"];
  if (typeof resources === "object" && resources !== null) {
    for (const [indicator, scopes] of Object.entries(resources)) {
      grant.addResourceScope(indicator, stringList(scopes).join(" "));
    }
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

/** Checks the form; answers the form again with an error, or finishes the sign-in. */
async function signIn(
  input: InteractionInput,
  req: IncomingMessage,
  res: ServerResponse,
  details: Interaction,
) {
  const wantsOtp = requestedLevels(details.params["acr_values"])[0] === LOA2;
  const form = await readForm(req);
  const username = form.get("username") ?? "";
  const account = input.accountNamed(username);
  const page = (error: string) =>
    loginPage({
      action: `/interaction/${details.uid}`,
      clientId: text(details.params["client_id"]),
      username,
      otp: wantsOtp,
      error,
    });
  if (account === undefined || account.password !== (form.get("password") ?? "")) {
    return sendHtml(res, 401, page("Wrong user name or password."));
  }
  // An account without a code cannot reach level 2: it signs in at level 1, which a client that
  // asked for level 2 must refuse.
  const secondFactor = wantsOtp && account.otp !== undefined;
  if (secondFactor && form.get("otp") !== account.otp) {
    return sendHtml(res, 401, page("Wrong one-time code."));
  }
  const { acr, amr } =
    input.forced() ?? (secondFactor ? { acr: LOA2, amr: ["pwd", "otp"] } : { acr: LOA1, amr: ["pwd"] });
  await input.provider.interactionFinished(
    req,
    res,
    { login: { accountId: account.sub, acr, amr, remember: true } },
    { mergeWithLastSubmission: false },
  );
}

async function interaction(
  input: InteractionInput,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const details = await input.provider.interactionDetails(req, res);
  if (details.prompt.name === "consent") return grantConsent(input, req, res, details);
  if (details.prompt.name !== "login")
    throw new errors.InvalidRequest(`unexpected prompt ${details.prompt.name}`);
  if (req.method === "POST") return signIn(input, req, res, details);
  sendHtml(
    res,
    200,
    loginPage({
      action: `/interaction/${details.uid}`,
      clientId: text(details.params["client_id"]),
      username: text(details.params["login_hint"]) || (details.session?.accountId ?? ""),
      otp: requestedLevels(details.params["acr_values"])[0] === LOA2,
    }),
  );
}

/** Serves `/interaction/:uid`: the sign-in form (GET), its submission (POST), consent. */
export function handleInteraction(input: InteractionInput, req: IncomingMessage, res: ServerResponse): void {
  interaction(input, req, res).catch((err: unknown) => {
    const known = err instanceof errors.OIDCProviderError;
    if (!known) console.error("test provider: interaction failed:", err);
    if (res.headersSent) return void res.destroy();
    sendHtml(
      res,
      known ? err.statusCode : 500,
      known ? errorPage(err.error, err.error_description) : errorPage("server_error", undefined),
    );
  });
}
