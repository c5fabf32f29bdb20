import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { isSlipwayError } from "../../domain/errors.js";
import { parseBody, resolvePrincipal, sessionIdOf } from "../context.js";
import { html } from "../html.js";
import { safeNext } from "../safe-next.js";
import { htmlPage } from "./layout.js";
import { checkLoginXsrf, issueLoginXsrf } from "./login-xsrf.js";
import { providerButton, signInRefusedPage } from "./sign-in-pages.js";
import {
  answerWith,
  completeSignIn,
  finishSignIn,
  nextOf,
  setSessionCookie,
  signInRequest,
  type SignInContext,
} from "./sign-in-flow.js";

const loginBody = z.strictObject({
  username: z.string().max(256),
  password: z.string().max(1024),
  _xsrf: z.string().max(256),
  next: z.string().max(2048).optional(),
});

function loginForm(reply: FastifyReply, xsrf: string, next: string, error?: string, username = ""): string {
  return htmlPage(reply, {
    title: "Sign in",
    body: html`<section class="card narrow">
      <h1>Sign in</h1>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
      <form method="post" action="/hub/login">
        <input type="hidden" name="_xsrf" value="${xsrf}" />
        <input type="hidden" name="next" value="${next}" />
        <label
          >User name <input name="username" autocomplete="username" required value="${username}" autofocus
        /></label>
        <label
          >Password <input name="password" type="password" autocomplete="current-password" required
        /></label>
        <button type="submit">Sign in</button>
      </form>
    </section>`,
  });
}

/**
 * `/hub/login`: whatever the authenticator's `begin` asks for. The hub's own form posts back
 * here; a redirect leaves for the IdP with the sign-in's handle in the session cookie; a request
 * that already carries the identity (a front door's) is completed at once.
 */
export function registerLoginPage(app: FastifyInstance, ctx: SignInContext, randomToken: () => string): void {
  app.get("/hub/login", async (request, reply) => {
    const next = nextOf(request);
    if (await resolvePrincipal(ctx, request)) return reply.redirect(next, 302);
    const start = await ctx.authenticator.begin(next);
    if (start.kind === "redirect") {
      setSessionCookie(ctx, reply, start.handle);
      return reply.redirect(start.location, 302);
    }
    if (start.kind === "link") return providerButton(reply, start, next);
    if (start.kind === "complete") {
      const signIn = signInRequest(ctx, request, { params: {} });
      try {
        const outcome = await completeSignIn(ctx, signIn);
        const where = { next, address: signIn.address, replaced: sessionIdOf(ctx, request) };
        return await finishSignIn(ctx, reply, outcome, where);
      } catch (err) {
        if (!isSlipwayError(err)) throw err;
        return signInRefusedPage(reply, err);
      }
    }
    return loginForm(reply, issueLoginXsrf(ctx, request, reply, randomToken), next);
  });

  app.post("/hub/login", async (request, reply) => {
    const body = parseBody(loginBody, request.body);
    const next = safeNext(body.next);
    checkLoginXsrf(ctx, request, body._xsrf);
    try {
      const params = { username: body.username, password: body.password };
      const signIn = signInRequest(ctx, request, { params });
      const outcome = await completeSignIn(ctx, signIn, body.username);
      const where = { next, address: signIn.address, replaced: sessionIdOf(ctx, request) };
      return await finishSignIn(ctx, reply, outcome, where);
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      answerWith(reply, err);
      return loginForm(reply, body._xsrf, next, err.message, body.username.slice(0, 64));
    }
  });
}
