import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { serverPrefix } from "../../domain/names.js";
import { can } from "../../domain/principal.js";
import type { Server, User } from "../../domain/types.js";
import type { HttpContext } from "../context.js";
import { html, type Html } from "../html.js";
import { userPage } from "./layout.js";
import { requirePageUser } from "./require-page-user.js";
import { zoneAndGroupsCells, zoneAndGroupsHeadings } from "./zone-and-groups-cells.js";

const PAGE_SIZE = 200;

const offsetQuery = z.object({ offset: z.coerce.number().int().min(0).default(0) }).loose();

/** How many users there are, and links to the pages before and after when there are more than one page. */
function userCount(total: number, offset: number): Html {
  if (total <= PAGE_SIZE) return html`${total} users`;
  const last = Math.min(offset + PAGE_SIZE, total);
  return html`${total} users · showing ${offset + 1}–${last}
  ${offset > 0 ? html`<a href="/hub/admin?offset=${Math.max(0, offset - PAGE_SIZE)}">previous</a>` : ""}
  ${offset + PAGE_SIZE < total ? html`<a href="/hub/admin?offset=${offset + PAGE_SIZE}">next</a>` : ""}`;
}

function serverChip(user: User, server: Server): Html {
  const stopped = server.state === "stopped" || server.state === "failed";
  return html`<span class="server-chip" data-server="${server.name}" data-state="${server.state}"
    >${server.name || "default"}: ${server.state}
    ${stopped ? "" : html`<button type="button" data-action="stop-server" data-server="${server.name}">stop</button>`}
    ${server.state === "running" ? html`<a href="${serverPrefix(user.name, server.name)}">open</a>` : ""}</span
  >`;
}

/** A user's row; an admin cannot disable themself or replace their own credentials from here. */
function userRow(user: User, servers: readonly Server[], groups: readonly string[], self: boolean): Html {
  return html`<tr data-user="${user.name}" data-disabled="${user.disabled ? "true" : "false"}">
    <td>${user.name}${user.disabled ? html` <span class="badge failed">disabled</span>` : ""}</td>
    <td>${user.admin ? "admin" : "user"}</td>
    ${zoneAndGroupsCells(user, groups)}
    <td>${servers.map((server) => serverChip(user, server))}</td>
    <td>
      ${
        self
          ? ""
          : html`<button type="button" data-action="${user.disabled ? "enable" : "disable"}">
                ${user.disabled ? "Enable" : "Disable"}
              </button>
              <button type="button" data-action="setup-link">New set-up link</button>`
      }
    </td>
  </tr>`;
}

/** `/hub/admin`: users and their servers, a page at a time; the actions go through the REST API. */
export function registerAdminPage(app: FastifyInstance, ctx: HttpContext): void {
  app.get("/hub/admin", async (request, reply) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    if (!can(principal, "admin:users", null)) throw new SlipwayError("forbidden");
    const query = offsetQuery.safeParse(request.query);
    const offset = query.success ? query.data.offset : 0;
    const users = await ctx.users.list(offset, PAGE_SIZE);
    const servers = await ctx.servers.listForUsers(users.items.map((u) => u.id));
    const groups = await ctx.groups.groupsOfUsers(users.items);
    const rows = users.items.map((u) =>
      userRow(
        u,
        servers.filter((s) => s.userId === u.id),
        groups.get(u.id) ?? [],
        u.id === principal.user.id,
      ),
    );
    return userPage(reply, principal, {
      title: "Admin",
      script: "admin",
      body: html`<section class="card">
        <h1>Users</h1>
        <p><a href="/hub/admin/groups" id="groups-link">Groups</a>: members, and who set them</p>
        <p>
          <a href="/hub/admin/audit" id="audit-link">Audit trail</a>: who signed in, started and stopped
          servers, changed accounts and tokens.
        </p>
        <form id="add-user" class="inline-form">
          <label>User name <input name="name" required pattern="[a-z0-9][a-z0-9._\\-]{0,31}" /></label>
          <label><input type="checkbox" name="admin" /> admin</label>
          <button type="submit">Add user</button>
        </form>
        <p id="setup-link" class="secret" role="status" hidden></p>
        <p class="error" role="alert" id="admin-error"></p>
        <p class="muted">${userCount(users.total, offset)}</p>
        <table class="users">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              ${zoneAndGroupsHeadings}
              <th>Servers</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${rows}
          </tbody>
        </table>
      </section>`,
    });
  });
}
