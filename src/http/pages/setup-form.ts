import type { FastifyReply } from "fastify";
import { z } from "zod";
import { html, type Html } from "../html.js";
import { htmlPage } from "./layout.js";

/** What the set-up forms post; only the first administrator's form has a user name. */
export const setupBody = z.strictObject({
  username: z.string().max(256).optional(),
  password: z.string().max(1024),
  confirm: z.string().max(1024),
  _xsrf: z.string().max(256),
});

export interface SetupForm {
  readonly action: string;
  readonly xsrf: string;
  /** The first administrator chooses a name; a set-up link's account has one already. */
  readonly askName: boolean;
  readonly error?: string;
}

/** The page of a one-time set-up link: choose a password (and, for the first administrator, a name). */
export function setupFormPage(reply: FastifyReply, form: SetupForm): string {
  const intro: Html = form.askName
    ? html`<p>Create the first administrator account of this hub.</p>`
    : html`<p>Choose a password for your account.</p>`;
  return htmlPage(reply, {
    title: "Set up your account",
    body: html`<section class="card narrow">
      <h1>Set up your account</h1>
      ${intro} ${form.error ? html`<p class="error" role="alert">${form.error}</p>` : ""}
      <form method="post" action="${form.action}">
        <input type="hidden" name="_xsrf" value="${form.xsrf}" />
        ${form.askName ? html`<label>User name <input name="username" autocomplete="username" required pattern="[a-z0-9][a-z0-9._\\-]{0,31}" /></label>` : ""}
        <label>Password <input name="password" type="password" autocomplete="new-password" required /></label>
        <label
          >Password again <input name="confirm" type="password" autocomplete="new-password" required
        /></label>
        <button type="submit">Continue</button>
      </form>
    </section>`,
  });
}
