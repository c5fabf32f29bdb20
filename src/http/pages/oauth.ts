import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { isSlipwayError, SlipwayError } from "../../domain/errors.js";
import { parseBody, resolvePrincipal, sessionIdOf } from "../context.js";
import { BeginLimiter } from "./begin-limiter.js";
import { signedOutPage, signInRefusedPage } from "./sign-in-pages.js";
import {
  completeSignIn,
  cookieOptions,
  finishSignIn,
  nextOf,
  setSessionCookie,
  signInRequest,
  type SignInContext,
} from "./sign-in-flow.js";

/** A callback's query: short strings only (a code, a state, an error from the provider). */
const callbackQuery = z.record(z.string().max(64), z.string().max(4096));

const logoutTokenBody = z.strictObject({ logout_token: z.string().min(1).max(16_384) });

/**
 * The trip to an identity provider and back: `/hub/oauth_login` (JupyterHub's name) sends the
 * browser straight to the provider; `/hub/oauth_callback` completes the sign-in; `/hub/logged-out`
 * is where the provider's logout returns; `/hub/oidc/backchannel-logout` takes the provider's
 * logout tokens. A refused sign-in gets a page that says why, an audit event, and no session.
 */
/** `/hub/logged-out`: where a sign-out that went on to a provider or front door comes back to. */
export function registerSignedOutPage(app: FastifyInstance): void {
  app.get("/hub/logged-out", async (request, reply) => {
    const query = z.object({ provider: z.string().optional() }).loose().safeParse(request.query);
    return signedOutPage(reply, query.success && query.data.provider === "unreachable");
  });
}

export function registerOAuthPages(app: FastifyInstance, ctx: SignInContext): void {
  // A person begins a few; a course behind one NAT some dozens in ten minutes.
  const begins = new BeginLimiter({ limit: 60, windowMs: 10 * 60_000 });
  app.get("/hub/oauth_login", async (request, reply) => {
    const next = nextOf(request);
    if (await resolvePrincipal(ctx, request)) return reply.redirect(next, 302);
    const address = signInRequest(ctx, request, { params: {} }).address;
    try {
      if (!begins.allow(address)) {
        throw new SlipwayError("too_many_attempts", undefined, { retryAfter: begins.retryAfter(address) });
      }
      const start = await ctx.authenticator.begin(next, { direct: true });
      if (start.kind !== "redirect") return reply.redirect("/hub/login", 302);
      setSessionCookie(ctx, reply, start.handle);
      return reply.redirect(start.location, 302);
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      await ctx.signIn.refused(err.code, address);
      return signInRefusedPage(reply, err);
    }
  });

  app.get("/hub/oauth_callback", async (request, reply) => {
    const parsed = callbackQuery.safeParse(request.query);
    const handle = sessionIdOf(ctx, request);
    const signIn = signInRequest(ctx, request, {
      params: parsed.success ? parsed.data : {},
      ...(handle !== undefined && { handle }),
    });
    // The handle is spent whatever happens: the cookie that carried it goes.
    reply.clearCookie(ctx.cookies.session, cookieOptions(ctx));
    try {
      const outcome = await completeSignIn(ctx, signIn);
      return await finishSignIn(ctx, reply, outcome, { next: "/hub/home", address: signIn.address });
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      return signInRefusedPage(reply, err);
    }
  });

  app.post("/hub/oidc/backchannel-logout", async (request, reply) => {
    reply.header("cache-control", "no-store");
    const address = signInRequest(ctx, request, { params: {} }).address;
    const verify = ctx.authenticator.verifyLogoutToken?.bind(ctx.authenticator);
    if (!verify) throw new SlipwayError("not_found");
    try {
      const body = parseBody(logoutTokenBody, request.body);
      await ctx.signIn.providerLogout(await verify(body.logout_token), address);
      return await reply.code(200).send();
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      await ctx.signIn.refusedLogout(err.code, address);
      // OpenID Connect Back-Channel Logout 1.0 §2.8: 400 for a token that failed validation.
      return reply
        .code(400)
        .send({ error: "invalid_request", error_description: err.message, code: err.code });
    }
  });
}
