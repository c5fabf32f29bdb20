import type { FastifyInstance } from "fastify";
import type { ApiToken } from "../../domain/types.js";
import type { HttpContext } from "../context.js";
import { html, type Html } from "../html.js";
import { userPage } from "./layout.js";
import { requirePageUser } from "./require-page-user.js";

/** A token as the list shows it: never the token itself, which is shown once, when created. */
function tokenRow(token: ApiToken): Html {
  return html`<tr data-token="${token.id}">
    <td>${token.note}</td>
    <td><code>slw_${token.prefix}…</code></td>
    <td>${token.createdAt.toISOString()}</td>
    <td>${token.expiresAt ? token.expiresAt.toISOString() : "never"}</td>
    <td><button type="button" class="danger" data-action="revoke">Revoke</button></td>
  </tr>`;
}

/** `/hub/token`: the user's API tokens; creating and revoking go through the REST API. */
export function registerTokensPage(app: FastifyInstance, ctx: HttpContext): void {
  app.get("/hub/token", async (request, reply) => {
    const principal = await requirePageUser(ctx, request, reply);
    if (!principal) return reply;
    const tokens = await ctx.tokens.list(principal.user);
    return userPage(reply, principal, {
      title: "API tokens",
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
            ${tokens.map(tokenRow)}
          </tbody>
        </table>
      </section>`,
    });
  });
}
