import type { User } from "../../domain/types.js";
import { html, type Html } from "../html.js";

/** The admin users table's headings of the columns below. */
export const zoneAndGroupsHeadings: Html = html`<th>Zone</th>
  <th>Groups</th>`;

/**
 * A user's zone (an external guest is marked, since policy treats them apart) and groups, each a
 * link to the groups page.
 */
export function zoneAndGroupsCells(user: Pick<User, "zone">, groups: readonly string[]): Html {
  return html`<td data-zone="${user.zone}">
      ${user.zone === "external" ? html`<span class="badge queued">external</span>` : user.zone}
    </td>
    <td class="groups">
      ${groups.length === 0 ? html`<span class="muted">none</span>` : groups.map((g) => html`<span class="server-chip">${g}</span>`)}
    </td>`;
}
