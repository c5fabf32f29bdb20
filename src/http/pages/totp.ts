import type { FastifyInstance, FastifyReply } from "fastify";
import { html } from "../html.js";
import { htmlPage } from "./layout.js";
import type { SignInContext } from "./sign-in-flow.js";
import { registerStepPage } from "./step-page.js";

function codeForm(reply: FastifyReply, xsrf: string, next: string, error?: string): string {
  return htmlPage(reply, {
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
}

/** `/hub/login/totp`: the second factor at sign-in, for an account that has an authenticator. */
export function registerTotpPage(app: FastifyInstance, ctx: SignInContext): void {
  registerStepPage(app, ctx, {
    path: "/hub/login/totp",
    step: "second-factor",
    params: (body) => ({ code: body.code }),
    render: (reply, pending, next, error) => codeForm(reply, pending.xsrfToken, next, error),
  });
}
