import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { User } from "../../domain/types.js";
import { targetUser, type HttpContext } from "../context.js";
import { html } from "../html.js";
import { userPage } from "./layout.js";
import { requirePageUser } from "./require-page-user.js";
import { spawnFormFields } from "./spawn-form.js";

/**
 * `/hub/spawn[/<user>[/<server>]]`: the form of launch options, pre-filled from the query and
 * the last choices; and JupyterHub's "server not running" URL, which leads to it.
 */
export function registerSpawnPage(app: FastifyInstance, ctx: HttpContext): void {
  const spawnPage = async (
    request: FastifyRequest<{ Params: { user?: string; server?: string } }>,
    reply: FastifyReply,
  ) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    const owner = await targetUser(ctx, principal, request.params.user ?? principal.user.name);
    const name = request.params.server ?? "";
    const model = await ctx.spawnOptions.model(owner);
    const current = await ctx.servers.find(owner, name);
    // Repeated parameters arrive as arrays; only single values are suggestions.
    const query = z.record(z.string(), z.unknown()).safeParse(request.query);
    const suggested = query.success ? query.data : {};
    return userPage(reply, principal, {
      title: "Start a server",
      script: "spawn",
      body: html`<section class="card narrow">
        <h1>Start ${name ? html`<code>${name}</code>` : "your server"}</h1>
        ${
          model.targets.length === 0
            ? html`<p class="error" role="alert" id="no-targets">
                There is no place this account may run a server. Accounts from other institutions (external)
                are never given a shell on the centre's machines; ask your centre.
              </p>`
            : html`<form id="spawn-form" data-user="${owner.name}" data-server="${name}">
                ${spawnFormFields(model, suggested, current?.userOptions ?? {})}
                <button type="submit">Start</button>
                <p class="error" role="alert" id="spawn-error"></p>
              </form>`
        }
      </section>`,
    });
  };
  app.get("/hub/spawn", spawnPage);
  app.get("/hub/spawn/:user", spawnPage);
  app.get("/hub/spawn/:user/:server", spawnPage);

  // JupyterHub's "server not running" URL: the proxy sends stopped-server visits here.
  app.get("/hub/user/*", async (request, reply) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    const rest = request.url.slice("/hub/user/".length).split("?")[0] ?? "";
    const [ownerName = "", maybeServer = ""] = rest.split("/");
    const owner: User = await targetUser(ctx, principal, decodeURIComponent(ownerName));
    const server = maybeServer ? await ctx.servers.find(owner, maybeServer) : undefined;
    const name = server ? server.name : "";
    return reply.redirect(`/hub/spawn/${owner.name}${name ? `/${name}` : ""}`, 302);
  });
}
