import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { isSlipwayError, SlipwayError } from "../../domain/errors.js";
import { can, type Principal } from "../../domain/principal.js";
import type { GroupDetail } from "../../services/groups-service.js";
import { actedBy } from "../acted-by.js";
import { checkSameOrigin, parseBody, resolvePrincipal, type HttpContext } from "../context.js";
import { html, type Html } from "../html.js";
import { userPage } from "./layout.js";
import { requirePageUser } from "./require-page-user.js";

const PAGE_SIZE = 50;
const PAGE = "/hub/admin/groups";
/** As many names as the API takes in one request. */
const MAX_NAMES = 1000;

const offsetQuery = z.object({ offset: z.coerce.number().int().min(0).default(0) }).loose();
const xsrf = z.string().max(256);
const createForm = z.strictObject({ _xsrf: xsrf, name: z.string().max(256) });
const deleteForm = z.strictObject({ _xsrf: xsrf });
const membersForm = z.strictObject({
  _xsrf: xsrf,
  users: z.string().max(32 * 1024),
  action: z.enum(["add", "remove"]),
});

type Named = { Params: { name: string } };

/** User names as typed in the form: separated by commas, spaces or new lines. */
function namesIn(text: string): string[] {
  return text.split(/[\s,]+/).filter((n) => n !== "");
}

function pageLinks(total: number, offset: number): Html {
  if (total <= PAGE_SIZE) return html`${total} ${total === 1 ? "group" : "groups"}`;
  const last = Math.min(offset + PAGE_SIZE, total);
  return html`${total} groups · showing ${offset + 1}–${last}
  ${offset > 0 ? html`<a href="${PAGE}?offset=${Math.max(0, offset - PAGE_SIZE)}">previous</a>` : ""}
  ${offset + PAGE_SIZE < total ? html`<a href="${PAGE}?offset=${offset + PAGE_SIZE}">next</a>` : ""}`;
}

/** Who is in the group; the members the identity provider put there are marked. */
function membersCell(group: GroupDetail): Html {
  const count = group.members.length;
  const idp = group.members.filter((m) => m.source === "idp").length;
  const summary = html`${count}
  ${count === 1 ? "member" : "members"}${
    idp > 0 ? html` <span class="badge" data-idp="${idp}">${idp} from the identity provider</span>` : ""
  }`;
  if (count === 0) return summary;
  return html`<details>
    <summary>${summary}</summary>
    ${group.members.map(
      (m) =>
        html`<span class="server-chip" data-member="${m.user}" data-source="${m.source}"
          >${m.user}${m.source === "idp" ? html` <span class="muted">(provider)</span>` : ""}</span
        >`,
    )}
  </details>`;
}

function groupRow(group: GroupDetail, xsrfToken: string): Html {
  const base = `${PAGE}/${group.name}`;
  return html`<tr data-group="${group.name}">
    <td>${group.name}</td>
    <td>${membersCell(group)}</td>
    <td>
      <form method="post" action="${base}/members" class="inline-form">
        <input type="hidden" name="_xsrf" value="${xsrfToken}" />
        <label>Users <input name="users" required placeholder="alice, bob" /></label>
        <button type="submit" name="action" value="add">Add</button>
        <button type="submit" name="action" value="remove">Remove</button>
      </form>
    </td>
    <td class="actions">
      <form method="post" action="${base}/delete" class="inline">
        <input type="hidden" name="_xsrf" value="${xsrfToken}" />
        <button type="submit" class="danger">Delete</button>
      </form>
    </td>
  </tr>`;
}

async function groupsPage(
  ctx: HttpContext,
  reply: FastifyReply,
  principal: Principal,
  offset: number,
  error = "",
): Promise<string> {
  const groups = await ctx.groups.list(offset, PAGE_SIZE);
  const token = principal.xsrfToken ?? "";
  return userPage(reply, principal, {
    title: "Groups",
    body: html`<section class="card">
      <h1>Groups</h1>
      <p><a href="/hub/admin">Users</a></p>
      <form method="post" action="${PAGE}" class="inline-form" id="create-group">
        <input type="hidden" name="_xsrf" value="${token}" />
        <label>Group name <input name="name" required pattern="[a-z][a-z0-9._\\-]{0,63}" /></label>
        <button type="submit">Create group</button>
      </form>
      <p class="error" role="alert" id="groups-error">${error}</p>
      <p class="muted">
        Members marked (provider) are set by the identity provider at every sign-in: removing one here lasts
        until that user signs in again, and adding them here makes the membership the admins'.
      </p>
      <p class="muted">${pageLinks(groups.total, offset)}</p>
      <table class="groups">
        <thead>
          <tr>
            <th>Group</th>
            <th>Members</th>
            <th>Add or remove members</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${groups.items.map((g) => groupRow(g, token))}
        </tbody>
      </table>
    </section>`,
  });
}

/** A signed-in admin of groups, by cookie; any other caller is refused. */
async function groupAdmin(ctx: HttpContext, request: FastifyRequest): Promise<Principal> {
  const principal = await resolvePrincipal(ctx, request);
  if (!principal || principal.via !== "cookie") throw new SlipwayError("not_authenticated");
  if (!can(principal, "admin:groups", null)) throw new SlipwayError("forbidden");
  return principal;
}

/**
 * A form's action, XSRF-checked: back to the list when it is done (POST-redirect-GET), or the list
 * again with the reason and the error's status when it is refused; nothing is written then.
 */
async function formAction<T>(
  ctx: HttpContext,
  request: FastifyRequest,
  reply: FastifyReply,
  schema: z.ZodType<T>,
  act: (body: T, principal: Principal) => Promise<unknown>,
): Promise<unknown> {
  const principal = await groupAdmin(ctx, request);
  checkSameOrigin(ctx, request, principal.xsrfToken);
  const body = parseBody(schema, request.body);
  try {
    await act(body, principal);
  } catch (err) {
    if (!isSlipwayError(err)) throw err;
    reply.code(err.status);
    return groupsPage(ctx, reply, principal, 0, err.message);
  }
  return reply.redirect(PAGE, 303);
}

/**
 * `/hub/admin/groups`: the groups, a page at a time, with their members and which of them the
 * identity provider set; forms (plain POSTs with the session's XSRF token) create and delete groups
 * and add or remove members.
 */
export function registerAdminGroupsPage(app: FastifyInstance, ctx: HttpContext): void {
  app.get(PAGE, async (request, reply) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    if (!can(principal, "admin:groups", null)) throw new SlipwayError("forbidden");
    const query = offsetQuery.safeParse(request.query);
    return groupsPage(ctx, reply, principal, query.success ? query.data.offset : 0);
  });

  app.post(PAGE, (request, reply) =>
    formAction(ctx, request, reply, createForm, (body, principal) =>
      ctx.groups.create(body.name.trim(), [], actedBy(ctx, request, principal)),
    ),
  );

  app.post<Named>(`${PAGE}/:name/delete`, (request, reply) =>
    formAction(ctx, request, reply, deleteForm, (_body, principal) =>
      ctx.groups.delete(request.params.name, actedBy(ctx, request, principal)),
    ),
  );

  app.post<Named>(`${PAGE}/:name/members`, (request, reply) =>
    formAction(ctx, request, reply, membersForm, (body, principal) => {
      const by = actedBy(ctx, request, principal);
      const users = namesIn(body.users);
      if (users.length > MAX_NAMES)
        throw new SlipwayError("validation_failed", `At most ${MAX_NAMES} names at once.`);
      return body.action === "add"
        ? ctx.groups.addMembers(request.params.name, users, by)
        : ctx.groups.removeMembers(request.params.name, users, by);
    }),
  );
}
