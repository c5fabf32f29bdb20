import { logPage, pendingPage } from "../api/hub-paths.js";
import type { ServerModel } from "../models/server-model.js";
import { stateWord } from "./state-word.js";

/** The home page's row of the server `name`, if it has one. */
export function rowFor(name: string): HTMLElement | null {
  for (const row of document.querySelectorAll<HTMLElement>("tr[data-server]")) {
    if (row.dataset["server"] === name) return row;
  }
  return null;
}

/**
 * Brings a row up to date with the server's model: its state, why, which links and buttons apply,
 * and (in data attributes) what the time-limit countdown needs.
 */
export function updateRow(row: HTMLElement, model: ServerModel, logTargets: readonly string[]): void {
  const state = model.slipway.state;
  row.dataset["state"] = state;
  row.dataset["target"] = model.slipway.target;
  row.dataset["endsAt"] = model.slipway.ends_at ?? "";
  const badge = row.querySelector<HTMLElement>('[data-role="state"]');
  if (badge) {
    badge.textContent = model.slipway.status_unknown
      ? `${stateWord(state)} (status unknown)`
      : stateWord(state);
    badge.className = `badge ${state}`;
  }
  const reason = row.querySelector<HTMLElement>('[data-role="reason"]');
  if (reason) reason.textContent = state === "running" ? "" : (model.slipway.reason ?? "");
  const idle = state === "stopped" || state === "failed";
  row.querySelector<HTMLElement>('[data-role="open"]')?.toggleAttribute("hidden", state !== "running");
  row.querySelector<HTMLElement>('[data-action="start"]')?.toggleAttribute("hidden", !idle);
  row.querySelector<HTMLElement>('[data-action="stop"]')?.toggleAttribute("hidden", idle);
  row
    .querySelector<HTMLElement>('[data-role="progress"]')
    ?.toggleAttribute("hidden", idle || state === "running");
  row
    .querySelector<HTMLElement>('[data-role="log"]')
    ?.toggleAttribute("hidden", !logTargets.includes(model.slipway.target));
}

/** Adds a row for a server the page did not render (one created since, e.g. in another tab). */
export function newRow(model: ServerModel, user: string): HTMLElement {
  const tbody = document.querySelector("#servers tbody");
  const row = document.createElement("tr");
  row.dataset["server"] = model.name;
  row.innerHTML = `<td class="name"><span class="display"></span> <code></code></td>
    <td class="state"><span class="badge" data-role="state"></span> <span class="reason" data-role="reason"></span>
      <span class="remaining" data-role="remaining" hidden></span></td>
    <td class="actions"><a class="button open" data-role="open" hidden>Open</a>
      <button type="button" data-action="start" hidden>Start</button>
      <button type="button" data-action="stop" hidden>Stop</button>
      <button type="button" class="danger" data-action="delete">Delete</button>
      <a data-role="progress" hidden>progress</a>
      <a data-role="log" hidden>log</a></td>`;
  const display = row.querySelector(".display");
  if (display) display.textContent = model.name;
  const code = row.querySelector("code");
  if (code) code.textContent = model.name;
  row.querySelector('[data-role="open"]')?.setAttribute("href", model.url);
  row.querySelector('[data-role="progress"]')?.setAttribute("href", pendingPage(user, model.name));
  row.querySelector('[data-role="log"]')?.setAttribute("href", logPage(user, model.name));
  tbody?.appendChild(row);
  return row;
}
