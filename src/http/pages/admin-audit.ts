import type { FastifyInstance } from "fastify";
import { isSlipwayError, SlipwayError } from "../../domain/errors.js";
import { can } from "../../domain/principal.js";
import type { JsonValue } from "../../domain/types.js";
import { auditKinds, type AuditEvent, type AuditFilter } from "../../ports/audit.js";
import { auditQueryString, DEFAULT_AUDIT_LIMIT, parseAuditQuery, type AuditQuery } from "../audit-query.js";
import type { HttpContext } from "../context.js";
import { html, type Html } from "../html.js";
import { userPage } from "./layout.js";
import { requirePageUser } from "./require-page-user.js";

/** Longest summary of an event's details in a cell; the export has them whole. */
const DETAILS_SHOWN = 200;

/** A time as a `datetime-local` field holds it: UTC, to the second. */
function fieldTime(date: Date | undefined): string {
  return date === undefined ? "" : date.toISOString().slice(0, 19);
}

function summary(value: JsonValue): string {
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return value.map(summary).join(", ");
  return Object.entries(value)
    .map(([key, field]) => `${key}=${summary(field)}`)
    .join(" ");
}

/** The details as `key=value` pairs, cut short: a table cell is no place for a whole record. */
function detailsSummary(event: AuditEvent): string {
  const text = summary(event.details);
  return text.length > DETAILS_SHOWN ? `${text.slice(0, DETAILS_SHOWN)}…` : text;
}

function eventRow(event: AuditEvent): Html {
  return html`<tr data-event="${event.id}" data-kind="${event.kind}">
    <td><time datetime="${event.at.toISOString()}">${event.at.toISOString()}</time></td>
    <td>${event.kind}</td>
    <td>${event.actor ?? html`<span class="muted">hub</span>`}</td>
    <td>${event.subject ?? ""}</td>
    <td>${event.reason ?? ""}</td>
    <td>${event.address ?? ""}</td>
    <td class="details">${detailsSummary(event)}</td>
  </tr>`;
}

function filterForm(filter: AuditFilter): Html {
  const chosen = new Set<string>(filter.kinds ?? []);
  return html`<form id="audit-filter" class="inline-form" method="get" action="/hub/admin/audit">
    <label>User <input name="user" value="${filter.user ?? ""}" maxlength="256" /></label>
    <label
      >Kind
      <select name="kind" multiple size="4">
        ${auditKinds.map(
          (kind) => html`<option value="${kind}" ${chosen.has(kind) ? html`selected` : ""}>${kind}</option>`,
        )}
      </select></label
    >
    <label
      >Since (UTC) <input type="datetime-local" step="1" name="since" value="${fieldTime(filter.since)}"
    /></label>
    <label
      >Until (UTC) <input type="datetime-local" step="1" name="until" value="${fieldTime(filter.until)}"
    /></label>
    <button type="submit">Filter</button>
    <a href="/hub/admin/audit">Clear</a>
  </form>`;
}

/** Older (the cursor after this page), Newest (back to the first page), and the export of the same filters. */
function pageLinks({ filter, limit }: AuditQuery, next: number | undefined): Html {
  const { beforeId, ...withoutCursor } = filter;
  const size = limit === DEFAULT_AUDIT_LIMIT ? {} : { limit };
  return html`<nav class="pager">
    ${beforeId !== undefined ? html`<a id="audit-newest" href="/hub/admin/audit${auditQueryString(withoutCursor, size)}">Newest</a>` : ""}
    ${next !== undefined ? html`<a id="audit-older" href="/hub/admin/audit${auditQueryString(withoutCursor, { ...size, before: next })}">Older</a>` : ""}
    <a id="audit-export" href="/hub/api/audit/export${auditQueryString(withoutCursor)}">Export JSON lines</a>
  </nav>`;
}

function eventTable(events: readonly AuditEvent[]): Html {
  if (events.length === 0) return html`<p class="muted" id="audit-empty">No events match.</p>`;
  return html`<table class="audit">
    <thead>
      <tr>
        <th>Time (UTC)</th>
        <th>Kind</th>
        <th>Actor</th>
        <th>Subject</th>
        <th>Reason</th>
        <th>Address</th>
        <th>Details</th>
      </tr>
    </thead>
    <tbody>
      ${events.map(eventRow)}
    </tbody>
  </table>`;
}

/** The filters asked for, or the refusal to show in the page (with a 400) when they are not valid. */
function readQuery(query: unknown): { query: AuditQuery; error?: string } {
  try {
    return { query: parseAuditQuery(query) };
  } catch (err) {
    if (!isSlipwayError(err)) throw err;
    return { query: { filter: {}, limit: DEFAULT_AUDIT_LIMIT }, error: err.message };
  }
}

/** `/hub/admin/audit`: the audit trail, newest first, filtered and paged like `GET /hub/api/audit`. */
export function registerAdminAuditPage(app: FastifyInstance, ctx: HttpContext): void {
  app.get("/hub/admin/audit", async (request, reply) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    if (!can(principal, "admin:users", null)) throw new SlipwayError("forbidden");
    const { query, error } = readQuery(request.query);
    const page = error === undefined ? await ctx.audit.list(query.filter, query.limit) : undefined;
    const last = page?.items.at(-1);
    if (error !== undefined) reply.code(400);
    return userPage(reply, principal, {
      title: "Audit trail",
      body: html`<section class="card">
        <h1>Audit trail</h1>
        <p><a href="/hub/admin">Back to users</a></p>
        ${filterForm(query.filter)}
        ${error !== undefined ? html`<p class="error" role="alert" id="audit-error">${error}</p>` : ""}
        ${eventTable(page?.items ?? [])} ${pageLinks(query, page?.hasMore === true ? last?.id : undefined)}
      </section>`,
    });
  });
}
