import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { HttpContext } from "../context.js";
import { html } from "../html.js";
import { logPagePath } from "../presenters.js";
import { userPage } from "./layout.js";
import { pageServer, type ServerPageParams } from "./page-server.js";
import { requirePageUser } from "./require-page-user.js";

const LOG_LINES = 200;

/** `/hub/log/<user>[/<server>]`: the last lines of a batch job's output. */
export function registerServerLogPage(app: FastifyInstance, ctx: HttpContext): void {
  const jobLogPage = async (request: FastifyRequest<{ Params: ServerPageParams }>, reply: FastifyReply) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    const { owner, name, server } = await pageServer(ctx, principal, request.params, "read:servers");
    let text: string;
    let failure: string | null = null;
    try {
      text = await ctx.servers.logTail(owner, name, LOG_LINES);
    } catch (err) {
      text = "";
      failure = `The log cannot be read now: ${err instanceof Error ? err.message : String(err)}`;
    }
    return userPage(reply, principal, {
      title: "Server log",
      script: "log",
      body: html`<section class="card">
        <h1>Log of ${name ? html`<code>${name}</code>` : "your server"}</h1>
        <p class="muted">
          The last ${LOG_LINES} lines of the job's output, as of this page's loading.
          <a href="${logPagePath(server)}">Reload</a> · <a href="/hub/home">Back to your servers</a>
        </p>
        ${failure ? html`<p class="error" role="alert">${failure}</p>` : ""}
        <pre class="job-log" id="job-log">${text || (failure ? "" : "(the log is empty)")}</pre>
      </section>`,
    });
  };
  app.get("/hub/log/:user", jobLogPage);
  app.get("/hub/log/:user/:server", jobLogPage);
}
