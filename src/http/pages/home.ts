import type { FastifyInstance } from "fastify";
import type { User } from "../../domain/types.js";
import type { HttpContext } from "../context.js";
import { html, type Html } from "../html.js";
import { absentDefaultServer, serverView, type ServerView } from "../presenters.js";
import { userPage } from "./layout.js";
import { requirePageUser } from "./require-page-user.js";
import { serverRow } from "./server-row.js";

/** The user's servers, the default one first even before it was ever created. */
async function serverViews(ctx: HttpContext, user: User): Promise<ServerView[]> {
  const servers = await ctx.servers.list(user);
  const views = servers.map((server) =>
    serverView(server, {
      unknownReason: ctx.servers.unknownReason(server.id),
      hasLog: ctx.spawnOptions.isBatchTarget(server.target),
    }),
  );
  if (servers.some((server) => server.name === "")) return views;
  const absent = absentDefaultServer(user.name);
  return [serverView(absent, { hasLog: ctx.spawnOptions.isBatchTarget(absent.target) }), ...views];
}

/** An invitation to add a second factor, where the method has one of its own and it is optional. */
function totpOffer(ctx: HttpContext, user: User): Html | "" {
  if (!ctx.authenticator.capabilities.ownSecondFactor || ctx.identity.totpRequired || user.totpEnrolled)
    return "";
  return html`<p class="notice" id="totp-offer">
    Protect your account with a second step at sign-in:
    <a href="/hub/account/authenticator">set up an authenticator</a>.
  </p>`;
}

/** `/hub/home` (and `/`, `/hub`): the user's servers, kept live by the browser script. */
export function registerHomePage(app: FastifyInstance, ctx: HttpContext): void {
  app.get("/", async (_request, reply) => reply.redirect("/hub/home", 302));
  app.get("/hub", async (_request, reply) => reply.redirect("/hub/home", 302));
  app.get("/hub/", async (_request, reply) => reply.redirect("/hub/home", 302));

  app.get("/hub/home", async (request, reply) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    const user = principal.user;
    const views = await serverViews(ctx, user);
    return userPage(reply, principal, {
      title: "Your servers",
      script: "home",
      body: html`<section class="card">
        <h1>Your servers</h1>
        ${totpOffer(ctx, user)}
        <p class="status-line" id="stream-status" role="status"></p>
        <div id="walltime-warnings" role="alert"></div>
        <table
          class="servers"
          id="servers"
          data-log-targets="${JSON.stringify(ctx.spawnOptions.batchTargets())}"
          data-walltime-warnings="${JSON.stringify(ctx.spawnOptions.walltimeWarnings())}"
        >
          <thead>
            <tr>
              <th>Server</th>
              <th>Status</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${views.map(serverRow)}
          </tbody>
        </table>
        <form id="new-server" class="new-server">
          <label
            >New named server
            <input name="name" required pattern="[a-z][a-z0-9\\-]{0,29}" placeholder="e.g. analysis"
          /></label>
          <label>Display name <input name="display_name" maxlength="80" placeholder="optional" /></label>
          <button type="submit">Add and start</button>
          <p class="error" role="alert" id="new-server-error"></p>
        </form>
      </section>`,
    });
  });
}
