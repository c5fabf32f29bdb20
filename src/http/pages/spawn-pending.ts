import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { HttpContext } from "../context.js";
import { html } from "../html.js";
import { serverView } from "../presenters.js";
import { userPage } from "./layout.js";
import { pageServer, type ServerPageParams } from "./page-server.js";
import { requirePageUser } from "./require-page-user.js";

/** `/hub/spawn-pending/<user>[/<server>]`: a launch's progress, followed live by the browser script. */
export function registerSpawnPendingPage(app: FastifyInstance, ctx: HttpContext): void {
  const pendingPage = async (request: FastifyRequest<{ Params: ServerPageParams }>, reply: FastifyReply) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    const { owner, name, server } = await pageServer(ctx, principal, request.params);
    const view = serverView(server, {
      unknownReason: ctx.servers.unknownReason(server.id),
      hasLog: ctx.spawnOptions.isBatchTarget(server.target),
    });
    return userPage(reply, principal, {
      title: "Starting",
      script: "pending",
      body: html`<section
        class="card narrow"
        id="pending"
        data-progress-url="${view.progressUrl}"
        data-url="${view.url}"
        data-user="${owner.name}"
        data-server="${name}"
      >
        <h1>Starting ${name ? html`<code>${name}</code>` : "your server"}</h1>
        <p class="status-line" role="status">
          <span class="badge ${view.state}" id="pending-state">${view.stateWord}</span>
          <span class="reason" id="pending-reason">${view.reason}</span>
        </p>
        <p class="warning" id="pending-unknown" role="status" ${view.statusUnknown ? "" : html`hidden`}>
          The scheduler does not answer, so this server's status is unknown; nothing is cancelled meanwhile.
          <span data-role="detail">${view.statusUnknown}</span>
        </p>
        <progress id="progress-bar" max="100" value="0"></progress>
        <ol id="progress-log" class="log"></ol>
        <p class="error" role="alert" id="progress-error"></p>
        <p>
          <button type="button" id="cancel">Cancel</button>
          ${view.hasLog ? html`<a href="${view.logPage}" id="log-link">Log</a>` : ""}
          <a href="/hub/home">Back to your servers</a>
        </p>
      </section>`,
    });
  };
  app.get("/hub/spawn-pending/:user", pendingPage);
  app.get("/hub/spawn-pending/:user/:server", pendingPage);
}
