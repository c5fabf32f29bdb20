import { html, type Html } from "../html.js";
import type { ServerView } from "../presenters.js";

/** A row of the home page's server table; the browser script keeps it up to date by its data-roles. */
export function serverRow(view: ServerView): Html {
  return html`<tr
    data-server="${view.name}"
    data-state="${view.state}"
    data-url="${view.url}"
    data-target="${view.target}"
    data-ends-at="${view.endsAt ?? ""}"
  >
    <td class="name">
      <span class="display">${view.label}</span> ${view.name ? html`<code>${view.name}</code>` : ""}
    </td>
    <td class="state">
      <span class="badge ${view.state}" data-role="state"
        >${view.stateWord}${view.statusUnknown ? " (status unknown)" : ""}</span
      >
      <span class="reason" data-role="reason">${view.reason}</span>
      <span class="remaining" data-role="remaining" ${view.endsAt ? "" : html`hidden`}
        >${view.endsAt ? html`ends at <time datetime="${view.endsAt}">${view.endsAt}</time>` : ""}</span
      >
    </td>
    <td class="actions">
      <a class="button open" data-role="open" href="${view.url}" ${view.canOpen ? "" : html`hidden`}>Open</a>
      <button type="button" data-action="start" ${view.canStart ? "" : html`hidden`}>Start</button>
      <button type="button" data-action="stop" ${view.canStop ? "" : html`hidden`}>Stop</button>
      ${view.canDelete ? html`<button type="button" class="danger" data-action="delete">Delete</button>` : ""}
      <a href="${view.progressPage}" data-role="progress" ${view.changing ? "" : html`hidden`}>progress</a>
      <a href="${view.logPage}" data-role="log" ${view.hasLog ? "" : html`hidden`}>log</a>
    </td>
  </tr>`;
}
