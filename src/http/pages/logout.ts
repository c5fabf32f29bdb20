import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { checkSameOrigin, clientAddress, parseBody, sessionIdOf } from "../context.js";
import { html } from "../html.js";
import { page } from "./layout.js";
import { continueSignOutPage } from "./sign-in-pages.js";
import { cookieOptions, type SignInContext } from "./sign-in-flow.js";

const logoutBody = z.strictObject({ _xsrf: z.string().max(256).optional() });

/** `/hub/logout`: ends the session, then leaves by the authenticator's way out. */
export function registerLogoutPage(app: FastifyInstance, ctx: SignInContext): void {
  app.get("/hub/logout", async (request, reply) => {
    // Signing out changes state, so it takes a POST; this page only offers the button.
    const sessionId = sessionIdOf(ctx, request);
    const resolved = sessionId ? await ctx.sessions.resolveSession(sessionId) : null;
    if (!resolved) return reply.redirect("/hub/login", 302);
    reply.type("text/html; charset=utf-8");
    return page({
      title: "Sign out",
      user: resolved.user,
      xsrf: resolved.session.xsrfToken,
      body: html`<section class="card narrow">
        <h1>Sign out?</h1>
        <form method="post" action="/hub/logout">
          <input type="hidden" name="_xsrf" value="${resolved.session.xsrfToken}" />
          <button type="submit">Sign out</button>
        </form>
      </section>`,
    });
  });

  app.post("/hub/logout", async (request, reply) => {
    const body = parseBody(logoutBody, request.body);
    const sessionId = sessionIdOf(ctx, request);
    const resolved = sessionId ? await ctx.sessions.resolveSession(sessionId) : null;
    let authState = null;
    if (sessionId && resolved) {
      const sent = request.headers["x-xsrf-token"];
      checkSameOrigin(ctx, request, null);
      const token = typeof sent === "string" ? sent : body._xsrf;
      if (token !== resolved.session.xsrfToken) throw new SlipwayError("csrf_failed");
      authState = ctx.signIn.authStateOf(resolved.session);
      await ctx.signIn.signOut(sessionId, resolved.user, clientAddress(ctx, request));
    }
    reply.clearCookie(ctx.cookies.session, cookieOptions(ctx));
    // The front door's and load balancer's cookies too (Apache's ROUTEID), with their path and domain.
    for (const extra of ctx.logoutClearCookies) {
      reply.clearCookie(extra.name, {
        path: extra.path,
        ...(extra.domain !== undefined && { domain: extra.domain }),
      });
    }
    // On to the method's own way out (the provider's end-session endpoint, the front door's
    // logout), so that signing out does not sign the user straight back in.
    const target = await ctx.authenticator.logoutUrl(authState);
    if (target.startsWith("/hub/")) return reply.redirect(target, 303);
    // Off to the provider or the front door's logout, which redirect on to the provider. The pages'
    // Content-Security-Policy (form-action 'self') forbids a form's POST to end up elsewhere through
    // redirects, so the browser goes there from a page of its own instead, as a new navigation.
    return continueSignOutPage(reply, target);
  });
}
