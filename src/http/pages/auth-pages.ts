import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { isSlipwayError, retryAfterOf, SlipwayError } from "../../domain/errors.js";
import type { Principal } from "../../domain/principal.js";
import type { SignInResult } from "../../services/identity-service.js";
import {
  checkSameOrigin,
  clientAddress,
  noStore,
  parseBody,
  resolvePrincipal,
  sessionIdOf,
  type HttpContext,
} from "../context.js";
import { readCookie } from "../cookies.js";
import { html, type Html } from "../html.js";
import { safeNext } from "../safe-next.js";
import { page } from "./layout.js";

const nextQuery = z.object({ next: z.string().optional() }).loose();
const loginBody = z.strictObject({
  username: z.string().max(256),
  password: z.string().max(1024),
  _xsrf: z.string().max(256),
  next: z.string().max(2048).optional(),
});
const codeBody = z.strictObject({
  code: z.string().max(64),
  _xsrf: z.string().max(256),
  next: z.string().max(2048).optional(),
  pending: z.string().max(4096).optional(),
});
const setupBody = z.strictObject({
  username: z.string().max(256).optional(),
  password: z.string().max(1024),
  confirm: z.string().max(1024),
  _xsrf: z.string().max(256),
});
const accountTotpBody = z.strictObject({
  password: z.string().max(1024),
  code: z.string().max(64),
  pending: z.string().max(4096),
  _xsrf: z.string().max(256),
});
const logoutBody = z.strictObject({ _xsrf: z.string().max(256).optional() });

function nextOf(request: FastifyRequest): string {
  const parsed = nextQuery.safeParse(request.query);
  return safeNext(parsed.success ? parsed.data.next : undefined);
}

/** The status of a refused form, with Retry-After when the error says when to come back. */
function answerWith(reply: FastifyReply, err: SlipwayError): void {
  reply.code(err.status);
  const wait = retryAfterOf(err);
  if (wait !== undefined) reply.header("retry-after", String(wait));
}

function withNext(path: string, next: string): string {
  return next === "/hub/home" ? path : `${path}?next=${encodeURIComponent(next)}`;
}

export function registerAuthPages(app: FastifyInstance, ctx: HttpContext, randomToken: () => string): void {
  const cookieOptions = (maxAgeSeconds?: number) => ({
    path: "/",
    httpOnly: true,
    sameSite: "lax" as const,
    secure: ctx.cookies.secure,
    ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
  });

  /** Double-submit token for forms shown before there is a session. */
  const loginXsrf = (request: FastifyRequest, reply: FastifyReply): string => {
    const existing = readCookie(request.headers.cookie, ctx.cookies.loginXsrf);
    if (existing && /^[A-Za-z0-9_-]{20,128}$/.test(existing)) return existing;
    const fresh = randomToken();
    reply.setCookie(ctx.cookies.loginXsrf, fresh, cookieOptions(3600));
    return fresh;
  };

  const checkLoginXsrf = (request: FastifyRequest, sent: string) => {
    const expected = readCookie(request.headers.cookie, ctx.cookies.loginXsrf);
    checkSameOrigin(ctx, request, null);
    if (!expected || expected !== sent) throw new SlipwayError("csrf_failed");
  };

  const startSession = (reply: FastifyReply, result: SignInResult) => {
    // A new id at every step of sign-in: a planted or stolen pre-login id is worth nothing.
    reply.setCookie(ctx.cookies.session, result.sessionId, cookieOptions());
  };

  const afterSignIn = (reply: FastifyReply, result: SignInResult, next: string) => {
    startSession(reply, result);
    const stage = result.session.stage;
    if (stage === "totp") return reply.redirect(withNext("/hub/login/totp", next), 303);
    if (stage === "enrol") return reply.redirect(withNext("/hub/enrol-totp", next), 303);
    return reply.redirect(next, 303);
  };

  const renderLogin = (reply: FastifyReply, xsrf: string, next: string, error?: string, username = "") => {
    noStore(reply);
    reply.type("text/html; charset=utf-8");
    return page({
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
  };

  app.get("/hub/login", async (request, reply) => {
    const next = nextOf(request);
    if (await resolvePrincipal(ctx, request)) return reply.redirect(next, 302);
    return renderLogin(reply, loginXsrf(request, reply), next);
  });

  app.post("/hub/login", async (request, reply) => {
    const body = parseBody(loginBody, request.body);
    const next = safeNext(body.next);
    checkLoginXsrf(request, body._xsrf);
    try {
      const result = await ctx.identity.signInWithPassword(
        body.username,
        body.password,
        clientAddress(ctx, request),
      );
      const old = sessionIdOf(ctx, request);
      if (old) await ctx.identity.signOut(old);
      return afterSignIn(reply, result, next);
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      answerWith(reply, err);
      return renderLogin(reply, body._xsrf, next, err.message, body.username.slice(0, 64));
    }
  });

  // --- second factor -------------------------------------------------------------------------

  const pendingSession = async (request: FastifyRequest, stage: "totp" | "enrol") => {
    const sessionId = sessionIdOf(ctx, request);
    const resolved = sessionId ? await ctx.identity.resolveSession(sessionId) : null;
    if (!sessionId || !resolved || resolved.session.stage !== stage) return undefined;
    return { sessionId, ...resolved };
  };

  const renderCode = (reply: FastifyReply, xsrf: string, next: string, error?: string) => {
    noStore(reply);
    reply.type("text/html; charset=utf-8");
    return page({
      title: "One-time code",
      body: html`<section class="card narrow">
        <h1>One-time code</h1>
        <p>Enter the 6-digit code from your authenticator app.</p>
        ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
        <form method="post" action="/hub/login/totp">
          <input type="hidden" name="_xsrf" value="${xsrf}" />
          <input type="hidden" name="next" value="${next}" />
          <label
            >Code
            <input
              name="code"
              inputmode="numeric"
              pattern="[0-9]{6}"
              autocomplete="one-time-code"
              required
              autofocus
          /></label>
          <button type="submit">Verify</button>
        </form>
      </section>`,
    });
  };

  app.get("/hub/login/totp", async (request, reply) => {
    const pending = await pendingSession(request, "totp");
    const next = nextOf(request);
    if (!pending) return reply.redirect(withNext("/hub/login", next), 302);
    return renderCode(reply, pending.session.xsrfToken, next);
  });

  app.post("/hub/login/totp", async (request, reply) => {
    const body = parseBody(codeBody, request.body);
    const next = safeNext(body.next);
    const pending = await pendingSession(request, "totp");
    if (!pending) return reply.redirect(withNext("/hub/login", next), 303);
    checkSameOrigin(ctx, request, pending.session.xsrfToken);
    try {
      const result = await ctx.identity.completeTotp(
        pending.sessionId,
        body.code.trim(),
        clientAddress(ctx, request),
      );
      return afterSignIn(reply, result, next);
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      answerWith(reply, err);
      return renderCode(reply, pending.session.xsrfToken, next, err.message);
    }
  });

  const renderEnrol = async (
    reply: FastifyReply,
    pending: NonNullable<Awaited<ReturnType<typeof pendingSession>>>,
    next: string,
    error?: string,
  ) => {
    const enrolment = await ctx.identity.beginTotpEnrolment(pending.user);
    noStore(reply);
    reply.type("text/html; charset=utf-8");
    const qr = `data:image/svg+xml;base64,${Buffer.from(enrolment.qrSvg).toString("base64")}`;
    return page({
      title: "Set up your authenticator",
      body: html`<section class="card narrow">
        <h1>Set up your authenticator</h1>
        <p>
          Scan this code with an authenticator app (FreeOTP, Google Authenticator, Aegis, 1Password…), then
          enter the 6-digit code it shows.
        </p>
        ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
        <img
          class="qr"
          id="totp-qr"
          alt="QR code of your authenticator secret"
          src="${qr}"
          width="220"
          height="220"
        />
        <p>
          Or type this secret: <code id="totp-secret" class="secret">${enrolment.secret}</code>
          <button type="button" class="copy" data-copy="#totp-secret">Copy</button>
        </p>
        <form method="post" action="/hub/enrol-totp">
          <input type="hidden" name="_xsrf" value="${pending.session.xsrfToken}" />
          <input type="hidden" name="next" value="${next}" />
          <input type="hidden" name="pending" value="${enrolment.pending}" />
          <label
            >Code
            <input name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required
          /></label>
          <button type="submit">Confirm</button>
        </form>
      </section>`,
      script: "enrol",
    });
  };

  app.get("/hub/enrol-totp", async (request, reply) => {
    const next = nextOf(request);
    const pending = await pendingSession(request, "enrol");
    if (!pending) return reply.redirect(withNext("/hub/login", next), 302);
    return renderEnrol(reply, pending, next);
  });

  app.post("/hub/enrol-totp", async (request, reply) => {
    const body = parseBody(codeBody, request.body);
    const next = safeNext(body.next);
    const pending = await pendingSession(request, "enrol");
    if (!pending) return reply.redirect(withNext("/hub/login", next), 303);
    checkSameOrigin(ctx, request, pending.session.xsrfToken);
    try {
      const result = await ctx.identity.completeTotpEnrolment(
        pending.sessionId,
        body.pending ?? "",
        body.code.trim(),
      );
      return afterSignIn(reply, result, next);
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      answerWith(reply, err);
      return renderEnrol(reply, pending, next, err.message);
    }
  });

  // --- an authenticator later, when TOTP is optional ---------------------------------------

  const renderAccountTotp = async (
    reply: FastifyReply,
    principal: Principal,
    error?: string,
  ): Promise<string> => {
    noStore(reply);
    reply.type("text/html; charset=utf-8");
    if (principal.user.totpEnrolled) {
      return page({
        title: "Authenticator",
        body: html`<section class="card narrow">
          <h1>Authenticator</h1>
          <p>Your account has an authenticator: signing in asks for its 6-digit code.</p>
          <p><a href="/hub/home">Back to your servers</a></p>
        </section>`,
      });
    }
    const enrolment = await ctx.identity.beginTotpEnrolment(principal.user);
    const qr = `data:image/svg+xml;base64,${Buffer.from(enrolment.qrSvg).toString("base64")}`;
    return page({
      title: "Set up an authenticator",
      body: html`<section class="card narrow">
        <h1>Set up an authenticator</h1>
        <p>
          With an authenticator, signing in also asks for a 6-digit code from your phone. Scan this code with
          an authenticator app (FreeOTP, Google Authenticator, Aegis, 1Password…), then enter your password
          and the code it shows.
        </p>
        ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
        <img
          class="qr"
          id="totp-qr"
          alt="QR code of your authenticator secret"
          src="${qr}"
          width="220"
          height="220"
        />
        <p>
          Or type this secret: <code id="totp-secret" class="secret">${enrolment.secret}</code>
          <button type="button" class="copy" data-copy="#totp-secret">Copy</button>
        </p>
        <form method="post" action="/hub/account/authenticator">
          <input type="hidden" name="_xsrf" value="${principal.xsrfToken ?? ""}" />
          <input type="hidden" name="pending" value="${enrolment.pending}" />
          <label
            >Password <input name="password" type="password" autocomplete="current-password" required
          /></label>
          <label
            >Code
            <input name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required
          /></label>
          <button type="submit">Confirm</button>
        </form>
        <p><a href="/hub/home">Not now</a></p>
      </section>`,
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
    return renderAccountTotp(reply, principal);
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
      return afterSignIn(reply, result, "/hub/home");
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      answerWith(reply, err);
      return renderAccountTotp(reply, principal, err.message);
    }
  });

  // --- set-up links --------------------------------------------------------------------------

  const renderSetup = (
    reply: FastifyReply,
    action: string,
    xsrf: string,
    askName: boolean,
    error?: string,
  ): string => {
    noStore(reply);
    reply.type("text/html; charset=utf-8");
    const intro: Html = askName
      ? html`<p>Create the first administrator account of this hub.</p>`
      : html`<p>Choose a password for your account.</p>`;
    return page({
      title: "Set up your account",
      body: html`<section class="card narrow">
        <h1>Set up your account</h1>
        ${intro} ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
        <form method="post" action="${action}">
          <input type="hidden" name="_xsrf" value="${xsrf}" />
          ${askName ? html`<label>User name <input name="username" autocomplete="username" required pattern="[a-z0-9][a-z0-9._\\-]{0,31}" /></label>` : ""}
          <label
            >Password <input name="password" type="password" autocomplete="new-password" required
          /></label>
          <label
            >Password again <input name="confirm" type="password" autocomplete="new-password" required
          /></label>
          <button type="submit">Continue</button>
        </form>
      </section>`,
    });
  };

  app.get<{ Params: { token: string } }>("/hub/setup/:token", async (request, reply) => {
    return renderSetup(reply, `/hub/setup/${request.params.token}`, loginXsrf(request, reply), false);
  });

  app.post<{ Params: { token: string } }>("/hub/setup/:token", async (request, reply) => {
    const body = parseBody(setupBody, request.body);
    checkLoginXsrf(request, body._xsrf);
    try {
      if (body.username !== undefined) throw new SlipwayError("unknown_field", "Unknown field: username");
      if (body.password !== body.confirm)
        throw new SlipwayError("validation_failed", "The two passwords differ.");
      const result = await ctx.identity.completeSetup(request.params.token, body.password);
      return afterSignIn(reply, result, "/hub/home");
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      reply.code(err.status);
      return renderSetup(reply, `/hub/setup/${request.params.token}`, body._xsrf, false, err.message);
    }
  });

  app.get<{ Params: { secret: string } }>("/hub/first-admin/:secret", async (request, reply) => {
    if (!(await ctx.firstAdmin.isOpen())) throw new SlipwayError("setup_link_invalid");
    return renderSetup(reply, `/hub/first-admin/${request.params.secret}`, loginXsrf(request, reply), true);
  });

  app.post<{ Params: { secret: string } }>("/hub/first-admin/:secret", async (request, reply) => {
    const body = parseBody(setupBody, request.body);
    checkLoginXsrf(request, body._xsrf);
    try {
      if (body.password !== body.confirm)
        throw new SlipwayError("validation_failed", "The two passwords differ.");
      ctx.identity.checkPasswordPolicy(body.password);
      const name = body.username ?? "";
      if (!/^[a-z0-9][a-z0-9._-]{0,31}$/.test(name)) throw new SlipwayError("invalid_user_name");
      if (!(await ctx.firstAdmin.consume(request.params.secret)))
        throw new SlipwayError("setup_link_invalid");
      const user = await ctx.identity.createFirstAdmin(name, body.password);
      return afterSignIn(reply, await ctx.identity.signInAfterSetup(user), "/hub/home");
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      reply.code(err.status);
      return renderSetup(reply, `/hub/first-admin/${request.params.secret}`, body._xsrf, true, err.message);
    }
  });

  // --- sign-out ------------------------------------------------------------------------------

  app.get("/hub/logout", async (request, reply) => {
    // Signing out changes state, so it takes a POST; this page only offers the button.
    const sessionId = sessionIdOf(ctx, request);
    const resolved = sessionId ? await ctx.identity.resolveSession(sessionId) : null;
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
    const resolved = sessionId ? await ctx.identity.resolveSession(sessionId) : null;
    if (sessionId && resolved) {
      const sent = request.headers["x-xsrf-token"];
      checkSameOrigin(ctx, request, null);
      const token = typeof sent === "string" ? sent : body._xsrf;
      if (token !== resolved.session.xsrfToken) throw new SlipwayError("csrf_failed");
      await ctx.identity.signOut(sessionId);
    }
    reply.clearCookie(ctx.cookies.session, cookieOptions());
    return reply.redirect("/hub/login", 303);
  });
}
