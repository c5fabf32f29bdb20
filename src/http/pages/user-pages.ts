import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { can, type Principal } from "../../domain/principal.js";
import { serverPrefix } from "../../domain/names.js";
import { withoutTokenParams } from "../../domain/without-token-params.js";
import type { Server, User } from "../../domain/types.js";
import { noStore, requireScope, resolvePrincipal, targetUser, type HttpContext } from "../context.js";
import { html } from "../html.js";
import { serverModel } from "../presenters.js";
import { page } from "./layout.js";
import { spawnFormFields } from "./spawn-form.js";

const LOG_LINES = 200;

const STATE_WORDS: Record<Server["state"], string> = {
  requested: "requested",
  submitting: "starting",
  queued: "queued",
  starting: "starting",
  running: "running",
  stopping: "stopping",
  stopped: "stopped",
  failed: "failed",
};

/** Pages need a full session; anyone else goes to sign-in and comes back. */
async function requirePageUser(
  ctx: HttpContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<Principal | undefined> {
  const principal = await resolvePrincipal(ctx, request);
  if (principal && principal.via === "cookie") return principal;
  // A `?token=` stays out of `next`, as it does on the proxy's way to the login page.
  const next = encodeURIComponent(withoutTokenParams(request.url));
  await reply.redirect(`/hub/login?next=${next}`, 302);
  return undefined;
}

/** The page with the last lines of a batch job's output. */
function logPage(server: Pick<Server, "userName" | "name">): string {
  return `/hub/log/${server.userName}${server.name ? `/${server.name}` : ""}`;
}

function serverRow(server: Server, unknownReason: string | undefined, hasLog: boolean) {
  const model = serverModel(server, unknownReason);
  const label = server.name === "" ? "Default server" : server.displayName || server.name;
  const endsAt = model.slipway.ends_at;
  return html`<tr
    data-server="${server.name}"
    data-state="${server.state}"
    data-url="${model.url}"
    data-target="${server.target}"
    data-ends-at="${endsAt ?? ""}"
  >
    <td class="name">
      <span class="display">${label}</span> ${server.name ? html`<code>${server.name}</code>` : ""}
    </td>
    <td class="state">
      <span class="badge ${server.state}" data-role="state"
        >${STATE_WORDS[server.state]}${unknownReason ? " (status unknown)" : ""}</span
      >
      <span class="reason" data-role="reason"
        >${server.reason && server.state !== "running" ? server.reason : ""}</span
      >
      <span class="remaining" data-role="remaining" ${endsAt ? "" : html`hidden`}
        >${endsAt ? html`ends at <time datetime="${endsAt}">${endsAt}</time>` : ""}</span
      >
    </td>
    <td class="actions">
      <a
        class="button open"
        data-role="open"
        href="${model.url}"
        ${server.state === "running" ? "" : html`hidden`}
        >Open</a
      >
      <button
        type="button"
        data-action="start"
        ${server.state === "stopped" || server.state === "failed" ? "" : html`hidden`}
      >
        Start
      </button>
      <button
        type="button"
        data-action="stop"
        ${server.state === "stopped" || server.state === "failed" ? html`hidden` : ""}
      >
        Stop
      </button>
      ${server.name ? html`<button type="button" class="danger" data-action="delete">Delete</button>` : ""}
      <a
        href="/hub/spawn-pending/${server.userName}/${server.name}"
        data-role="progress"
        ${server.state === "running" || server.state === "stopped" || server.state === "failed" ? html`hidden` : ""}
        >progress</a
      >
      <a href="${logPage(server)}" data-role="log" ${hasLog ? "" : html`hidden`}>log</a>
    </td>
  </tr>`;
}

export function registerUserPages(app: FastifyInstance, ctx: HttpContext): void {
  app.get("/", async (_request, reply) => reply.redirect("/hub/home", 302));
  app.get("/hub", async (_request, reply) => reply.redirect("/hub/home", 302));
  app.get("/hub/", async (_request, reply) => reply.redirect("/hub/home", 302));

  app.get("/hub/home", async (request, reply) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    const user = principal.user;
    const servers = await ctx.servers.list(user);
    const hasDefault = servers.some((s) => s.name === "");
    const rows = hasDefault
      ? servers
      : [
          {
            id: 0,
            userId: user.id,
            userName: user.name,
            name: "",
            displayName: "",
            state: "stopped" as const,
            reason: null,
            userOptions: {},
            target: "",
            launcherState: {},
            attemptId: null,
            endpoint: null,
            tokenSealed: null,
            createdAt: new Date(0),
            startedAt: null,
            stateChangedAt: new Date(0),
            lastActivity: null,
            version: 0,
          },
          ...servers,
        ];
    noStore(reply);
    reply.type("text/html; charset=utf-8");
    return page({
      title: "Your servers",
      user,
      xsrf: principal.xsrfToken,
      script: "home",
      body: html`<section class="card">
        <h1>Your servers</h1>
        ${
          !ctx.identity.totpRequired && !user.totpEnrolled
            ? html`<p class="notice" id="totp-offer">
                Protect your account with a second step at sign-in:
                <a href="/hub/account/authenticator">set up an authenticator</a>.
              </p>`
            : ""
        }
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
            ${rows.map((s) =>
              serverRow(s, ctx.servers.unknownReason(s.id), ctx.spawnOptions.isBatchTarget(s.target)),
            )}
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
    noStore(reply);
    reply.type("text/html; charset=utf-8");
    return page({
      title: "Start a server",
      user: principal.user,
      xsrf: principal.xsrfToken,
      script: "spawn",
      body: html`<section class="card narrow">
        <h1>Start ${name ? html`<code>${name}</code>` : "your server"}</h1>
        <form id="spawn-form" data-user="${owner.name}" data-server="${name}">
          ${spawnFormFields(model, suggested, current?.userOptions ?? {})}
          <button type="submit">Start</button>
          <p class="error" role="alert" id="spawn-error"></p>
        </form>
      </section>`,
    });
  };
  app.get("/hub/spawn", spawnPage);
  app.get("/hub/spawn/:user", spawnPage);
  app.get("/hub/spawn/:user/:server", spawnPage);

  const pendingPage = async (
    request: FastifyRequest<{ Params: { user: string; server?: string } }>,
    reply: FastifyReply,
  ) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    const owner = await targetUser(ctx, principal, request.params.user);
    const name = request.params.server ?? "";
    const server = await ctx.servers.find(owner, name);
    if (!server) throw new SlipwayError("server_not_found");
    const unknown = ctx.servers.unknownReason(server.id);
    const model = serverModel(server, unknown);
    const hasLog = ctx.spawnOptions.isBatchTarget(server.target);
    noStore(reply);
    reply.type("text/html; charset=utf-8");
    return page({
      title: "Starting",
      user: principal.user,
      xsrf: principal.xsrfToken,
      script: "pending",
      body: html`<section
        class="card narrow"
        id="pending"
        data-progress-url="${model.progress_url}"
        data-url="${model.url}"
        data-user="${owner.name}"
        data-server="${name}"
      >
        <h1>Starting ${name ? html`<code>${name}</code>` : "your server"}</h1>
        <p class="status-line" role="status">
          <span class="badge ${server.state}" id="pending-state">${STATE_WORDS[server.state]}</span>
          <span class="reason" id="pending-reason">${server.state === "running" ? "" : server.reason}</span>
        </p>
        <p class="warning" id="pending-unknown" role="status" ${unknown ? "" : html`hidden`}>
          The scheduler does not answer, so this server's status is unknown; nothing is cancelled meanwhile.
          <span data-role="detail">${unknown}</span>
        </p>
        <progress id="progress-bar" max="100" value="0"></progress>
        <ol id="progress-log" class="log"></ol>
        <p class="error" role="alert" id="progress-error"></p>
        <p>
          <button type="button" id="cancel">Cancel</button>
          ${hasLog ? html`<a href="${logPage(server)}" id="log-link">Log</a>` : ""}
          <a href="/hub/home">Back to your servers</a>
        </p>
      </section>`,
    });
  };
  app.get("/hub/spawn-pending/:user", pendingPage);
  app.get("/hub/spawn-pending/:user/:server", pendingPage);

  const jobLogPage = async (
    request: FastifyRequest<{ Params: { user: string; server?: string } }>,
    reply: FastifyReply,
  ) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    const owner = await targetUser(ctx, principal, request.params.user);
    requireScope(principal, "read:servers", owner.name);
    const name = request.params.server ?? "";
    const server = await ctx.servers.find(owner, name);
    if (!server) throw new SlipwayError("server_not_found");
    let text: string;
    let failure: string | null = null;
    try {
      text = await ctx.servers.logTail(owner, name, LOG_LINES);
    } catch (err) {
      text = "";
      failure = `The log cannot be read now: ${err instanceof Error ? err.message : String(err)}`;
    }
    noStore(reply);
    reply.type("text/html; charset=utf-8");
    return page({
      title: "Server log",
      user: principal.user,
      xsrf: principal.xsrfToken,
      script: "log",
      body: html`<section class="card">
        <h1>Log of ${name ? html`<code>${name}</code>` : "your server"}</h1>
        <p class="muted">
          The last ${LOG_LINES} lines of the job's output, as of this page's loading.
          <a href="${logPage(server)}">Reload</a> · <a href="/hub/home">Back to your servers</a>
        </p>
        ${failure ? html`<p class="error" role="alert">${failure}</p>` : ""}
        <pre class="job-log" id="job-log">${text || (failure ? "" : "(the log is empty)")}</pre>
      </section>`,
    });
  };
  app.get("/hub/log/:user", jobLogPage);
  app.get("/hub/log/:user/:server", jobLogPage);

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

  app.get("/hub/token", async (request, reply) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    const tokens = await ctx.tokens.list(principal.user);
    noStore(reply);
    reply.type("text/html; charset=utf-8");
    return page({
      title: "API tokens",
      user: principal.user,
      xsrf: principal.xsrfToken,
      script: "tokens",
      body: html`<section class="card">
        <h1>API tokens</h1>
        <form id="new-token">
          <label>Note <input name="note" maxlength="200" placeholder="what it is for" /></label>
          <label
            >Expires in
            <select name="expires_in">
              <option value="3600">1 hour</option>
              <option value="86400">1 day</option>
              <option value="604800" selected>1 week</option>
              <option value="2592000">30 days</option>
              <option value="">never</option>
            </select></label
          >
          <button type="submit">Create token</button>
        </form>
        <p id="new-token-value" class="secret" hidden></p>
        <table class="tokens">
          <thead>
            <tr>
              <th>Note</th>
              <th>Prefix</th>
              <th>Created</th>
              <th>Expires</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${tokens.map(
              (t) =>
                html`<tr data-token="${t.id}">
                  <td>${t.note}</td>
                  <td><code>slw_${t.prefix}…</code></td>
                  <td>${t.createdAt.toISOString()}</td>
                  <td>${t.expiresAt ? t.expiresAt.toISOString() : "never"}</td>
                  <td><button type="button" class="danger" data-action="revoke">Revoke</button></td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>`,
    });
  });

  app.get("/hub/admin", async (request, reply) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    if (!can(principal, "admin:users", null)) throw new SlipwayError("forbidden");
    const pageSize = 200;
    const offsetParse = z
      .object({ offset: z.coerce.number().int().min(0).default(0) })
      .loose()
      .safeParse(request.query);
    const offset = offsetParse.success ? offsetParse.data.offset : 0;
    const users = await ctx.users.list(offset, pageSize);
    const servers = await ctx.servers.listForUsers(users.items.map((u) => u.id));
    noStore(reply);
    reply.type("text/html; charset=utf-8");
    return page({
      title: "Admin",
      user: principal.user,
      xsrf: principal.xsrfToken,
      script: "admin",
      body: html`<section class="card">
        <h1>Users</h1>
        <form id="add-user" class="inline-form">
          <label>User name <input name="name" required pattern="[a-z0-9][a-z0-9._\\-]{0,31}" /></label>
          <label><input type="checkbox" name="admin" /> admin</label>
          <button type="submit">Add user</button>
        </form>
        <p id="setup-link" class="secret" role="status" hidden></p>
        <p class="error" role="alert" id="admin-error"></p>
        <p class="muted">
          ${users.total}
          users${
            users.total > pageSize
              ? html` · showing ${offset + 1}–${Math.min(offset + pageSize, users.total)}
                ${offset > 0 ? html`<a href="/hub/admin?offset=${Math.max(0, offset - pageSize)}">previous</a>` : ""}
                ${offset + pageSize < users.total ? html`<a href="/hub/admin?offset=${offset + pageSize}">next</a>` : ""}`
              : ""
          }
        </p>
        <table class="users">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>Servers</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${users.items.map((u) => {
              const own = servers.filter((s) => s.userId === u.id);
              return html`<tr data-user="${u.name}" data-disabled="${u.disabled ? "true" : "false"}">
                <td>${u.name}${u.disabled ? html` <span class="badge failed">disabled</span>` : ""}</td>
                <td>${u.admin ? "admin" : "user"}</td>
                <td>
                  ${own.map(
                    (s) =>
                      html`<span class="server-chip" data-server="${s.name}" data-state="${s.state}"
                        >${s.name || "default"}: ${s.state}
                        ${s.state !== "stopped" && s.state !== "failed" ? html`<button type="button" data-action="stop-server" data-server="${s.name}">stop</button>` : ""}
                        ${s.state === "running" ? html`<a href="${serverPrefix(u.name, s.name)}">open</a>` : ""}</span
                      >`,
                  )}
                </td>
                <td>
                  ${
                    u.id === principal.user.id
                      ? ""
                      : html`<button type="button" data-action="${u.disabled ? "enable" : "disable"}">
                            ${u.disabled ? "Enable" : "Disable"}
                          </button>
                          <button type="button" data-action="setup-link">New set-up link</button>`
                  }
                </td>
              </tr>`;
            })}
          </tbody>
        </table>
      </section>`,
    });
  });
}
