import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { isSlipwayError, retryAfterOf, type SlipwayError } from "../../domain/errors.js";
import type { SessionStage, User } from "../../domain/types.js";
import type { SignInOutcome, SignInRequest, SignInStep } from "../../ports/authenticator.js";
import type { SignInResult } from "../../services/session-service.js";
import { clientAddress, peerOf, sessionIdOf, type HttpContext } from "../context.js";
import { headerValuesIn } from "../header-values.js";
import { safeNext } from "../safe-next.js";

// The moves every sign-in page shares: reading what the browser sent into a request for the
// authenticator, and turning its answer into a session cookie and a redirect.

/** What the sign-in pages use of the hub. */
export type SignInContext = Pick<
  HttpContext,
  | "authenticator"
  | "identity"
  | "sessions"
  | "signIn"
  | "tokens"
  | "cookies"
  | "publicOrigin"
  | "trustForwarded"
  | "logoutClearCookies"
>;

/**
 * The page of each step, and the stage of the session that stands for it: the built-in accounts'
 * steps are sessions of their own, whose ids are the steps' handles.
 */
const STEPS: Record<SignInStep, { readonly page: string; readonly stage: SessionStage }> = {
  "second-factor": { page: "/hub/login/totp", stage: "totp" },
  "enrol-second-factor": { page: "/hub/enrol-totp", stage: "enrol" },
};

const nextQuery = z.object({ next: z.string().optional() }).loose();

export function nextOf(request: FastifyRequest): string {
  const parsed = nextQuery.safeParse(request.query);
  return safeNext(parsed.success ? parsed.data.next : undefined);
}

export function withNext(path: string, next: string): string {
  return next === "/hub/home" ? path : `${path}?next=${encodeURIComponent(next)}`;
}

/** The status of a refused form, with Retry-After when the error says when to come back. */
export function answerWith(reply: FastifyReply, err: SlipwayError): void {
  reply.code(err.status);
  const wait = retryAfterOf(err);
  if (wait !== undefined) reply.header("retry-after", String(wait));
}

export function cookieOptions(ctx: Pick<HttpContext, "cookies">, maxAgeSeconds?: number) {
  return {
    path: "/",
    httpOnly: true,
    sameSite: "lax" as const,
    secure: ctx.cookies.secure,
    ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
  };
}

/** A session cookie holds a full session or the handle of a sign-in under way. */
export function setSessionCookie(
  ctx: Pick<HttpContext, "cookies">,
  reply: FastifyReply,
  value: string,
): void {
  // A new value at every step of sign-in: a planted or stolen pre-login value is worth nothing.
  reply.setCookie(ctx.cookies.session, value, cookieOptions(ctx));
}

/** What the authenticator gets of a request: the fields the page has checked, and who sent them. */
export function signInRequest(
  ctx: Pick<HttpContext, "trustForwarded">,
  request: FastifyRequest,
  fields: Pick<SignInRequest, "step" | "handle" | "params">,
): SignInRequest {
  return {
    ...fields,
    header: (name) => {
      // A repeated header, joined by Node, could be half the client's: only one counts.
      const values = headerValuesIn(request.raw.rawHeaders, name.toLowerCase());
      return values.length === 1 ? values[0] : undefined;
    },
    headerValues: (name) => headerValuesIn(request.raw.rawHeaders, name.toLowerCase()),
    peer: peerOf(request),
    address: clientAddress(ctx, request),
  };
}

/**
 * Asks the authenticator to complete a sign-in; a refusal is recorded in the audit trail (with
 * the name tried, when the request gave one) and thrown on.
 */
export async function completeSignIn(
  ctx: SignInContext,
  request: SignInRequest,
  claimedName?: string,
): Promise<SignInOutcome> {
  try {
    return await ctx.authenticator.complete(request);
  } catch (error) {
    if (isSlipwayError(error)) await ctx.signIn.refused(error.code, request.address, claimedName);
    throw error;
  }
}

/** Sets the cookie of a new session and sends the browser to its stage's page, or to `next`. */
export function enterSession(
  ctx: Pick<HttpContext, "cookies">,
  reply: FastifyReply,
  result: SignInResult,
  next: string,
): FastifyReply {
  setSessionCookie(ctx, reply, result.sessionId);
  const page = Object.values(STEPS).find((step) => step.stage === result.session.stage)?.page;
  return reply.redirect(page ? withNext(page, next) : next, 303);
}

/**
 * Acts on the authenticator's answer: a step still needed gets its handle in the cookie and its
 * page; an identity gets a full session and `next` (the method's own, re-checked, when it carried
 * one across a redirect). `replaced`, a session the browser had before, ends once the new one is set.
 */
export async function finishSignIn(
  ctx: SignInContext,
  reply: FastifyReply,
  outcome: SignInOutcome,
  where: { readonly next: string; readonly address: string; readonly replaced?: string | undefined },
): Promise<FastifyReply> {
  const { next, replaced } = where;
  if (outcome.kind === "step") {
    if (replaced) await ctx.sessions.signOut(replaced);
    setSessionCookie(ctx, reply, outcome.handle);
    return reply.redirect(withNext(STEPS[outcome.step].page, next), 303);
  }
  const result = await ctx.signIn.start(outcome.identity, where.address);
  if (replaced) await ctx.sessions.signOut(replaced);
  return enterSession(ctx, reply, result, outcome.next === undefined ? next : safeNext(outcome.next));
}

export interface PendingStep {
  readonly handle: string;
  readonly user: User;
  /** Protects the step's form, as a full session's token protects the pages. */
  readonly xsrfToken: string;
}

/** The sign-in waiting at `step` whose handle is in the session cookie, if there is one. */
export async function pendingStep(
  ctx: SignInContext,
  request: FastifyRequest,
  step: SignInStep,
): Promise<PendingStep | undefined> {
  const handle = sessionIdOf(ctx, request);
  const resolved = handle ? await ctx.sessions.resolveSession(handle) : null;
  if (!handle || !resolved || resolved.session.stage !== STEPS[step].stage) return undefined;
  return { handle, user: resolved.user, xsrfToken: resolved.session.xsrfToken };
}
