import type { FastifyReply } from "fastify";
import type { Principal } from "../../domain/principal.js";
import type { User } from "../../domain/types.js";
import { noStore } from "../context.js";
import { html, type Html } from "../html.js";

export interface PageOptions {
  readonly title: string;
  readonly user?: User | null;
  readonly xsrf?: string | null;
  readonly body: Html;
  /** Name of the client-side module to run (`home`, `spawn-pending`, `admin`), if any. */
  readonly script?: string;
  /** Where the browser goes on its own at once (a sign-out that continues at the provider). */
  readonly refreshTo?: string;
}

export function page(options: PageOptions): string {
  const user = options.user ?? null;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title} · Slipway</title>
        <link rel="stylesheet" href="/hub/static/slipway.css" />
        ${options.refreshTo ? html`<meta http-equiv="refresh" content="0;url=${options.refreshTo}" />` : ""}
        ${options.xsrf ? html`<meta name="slipway-xsrf" content="${options.xsrf}" />` : ""}
        ${user ? html`<meta name="slipway-user" content="${user.name}" />` : ""}
        ${options.script ? html`<script type="module" src="/hub/static/app.js" data-page="${options.script}"></script>` : ""}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/hub/home">Slipway</a>
          ${
            user
              ? html`<nav>
                  <a href="/hub/home">Servers</a>
                  <a href="/hub/token">Tokens</a>
                  ${user.admin ? html`<a href="/hub/admin">Admin</a>` : ""}
                  <span class="who">${user.name}</span>
                  <form method="post" action="/hub/logout" class="inline">
                    <input type="hidden" name="_xsrf" value="${options.xsrf ?? ""}" />
                    <button type="submit" id="sign-out">Sign out</button>
                  </form>
                </nav>`
              : ""
          }
        </header>
        <main>${options.body}</main>
      </body>
    </html>`.value;
}

/** A page as the answer to `reply`, kept out of every cache: pages carry XSRF tokens and secrets. */
export function htmlPage(reply: FastifyReply, options: PageOptions): string {
  noStore(reply);
  reply.type("text/html; charset=utf-8");
  return page(options);
}

/** A page for a signed-in user: the navigation with their name, and their XSRF token for the script. */
export function userPage(
  reply: FastifyReply,
  principal: Principal,
  options: Omit<PageOptions, "user" | "xsrf">,
): string {
  return htmlPage(reply, { ...options, user: principal.user, xsrf: principal.xsrfToken });
}

export function errorPage(status: number, message: string, user?: User | null): string {
  return page({
    title: `Error ${status}`,
    user: user ?? null,
    body: html`<section class="card">
      <h1>${status}</h1>
      <p class="error" role="alert">${message}</p>
      <p><a href="/hub/home">Back to your servers</a></p>
    </section>`,
  });
}
