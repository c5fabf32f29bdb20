import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { isSlipwayError, SlipwayError } from "../../domain/errors.js";
import type { Principal } from "../../domain/principal.js";
import { checkSameOrigin, clientAddress, parseBody, resolvePrincipal, sessionIdOf } from "../context.js";
import { html } from "../html.js";
import { htmlPage } from "./layout.js";
import { answerWith, enterSession, withNext, type SignInContext } from "./sign-in-flow.js";
import { totpEnrolmentSection } from "./totp-enrolment-section.js";

const accountTotpBody = z.strictObject({
  password: z.string().max(1024),
  code: z.string().max(64),
  pending: z.string().max(4096),
  _xsrf: z.string().max(256),
});

/**
 * `/hub/account/authenticator`: a signed-in user without an authenticator sets one up, when TOTP
 * is optional. The password is asked again, so a session left open cannot bind someone else's app.
 */
export function registerAccountAuthenticatorPage(app: FastifyInstance, ctx: SignInContext): void {
  const accountPage = async (reply: FastifyReply, principal: Principal, error?: string): Promise<string> => {
    if (principal.user.totpEnrolled) {
      return htmlPage(reply, {
        title: "Authenticator",
        body: html`<section class="card narrow">
          <h1>Authenticator</h1>
          <p>Your account has an authenticator: signing in asks for its 6-digit code.</p>
          <p><a href="/hub/home">Back to your servers</a></p>
        </section>`,
      });
    }
    return htmlPage(reply, {
      title: "Set up an authenticator",
      body: totpEnrolmentSection({
        heading: "Set up an authenticator",
        lead: "With an authenticator, signing in also asks for a 6-digit code from your phone.",
        enrolment: await ctx.identity.beginTotpEnrolment(principal.user),
        action: "/hub/account/authenticator",
        xsrf: principal.xsrfToken ?? "",
        askPassword: true,
        error,
        footer: html`<p><a href="/hub/home">Not now</a></p>`,
      }),
      script: "enrol",
    });
  };

  const signedInByCookie = async (request: FastifyRequest): Promise<Principal | undefined> => {
    const principal = await resolvePrincipal(ctx, request);
    return principal?.via === "cookie" ? principal : undefined;
  };

  app.get("/hub/account/authenticator", async (request, reply) => {
    const principal = await signedInByCookie(request);
    if (!principal) return reply.redirect(withNext("/hub/login", "/hub/account/authenticator"), 302);
    return accountPage(reply, principal);
  });

  app.post("/hub/account/authenticator", async (request, reply) => {
    const body = parseBody(accountTotpBody, request.body);
    const principal = await signedInByCookie(request);
    const sessionId = sessionIdOf(ctx, request);
    if (!principal || sessionId === undefined) throw new SlipwayError("not_authenticated");
    checkSameOrigin(ctx, request, principal.xsrfToken);
    try {
      const result = await ctx.identity.enrolTotpSignedIn(
        sessionId,
        body.password,
        body.pending,
        body.code.trim(),
        clientAddress(ctx, request),
      );
      return enterSession(ctx, reply, result, "/hub/home");
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      answerWith(reply, err);
      return accountPage(reply, principal, err.message);
    }
  });
}
