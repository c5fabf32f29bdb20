import { errorText } from "../api/hub-api.js";
import { serverApiPath, spawnPage, userEventsPath } from "../api/hub-paths.js";
import { clickedButton } from "../components/clicked-button.js";
import { onFormSubmit } from "../components/on-form-submit.js";
import { newRow, rowFor, updateRow } from "../components/server-row.js";
import { tickTimeLimits } from "../components/time-limits.js";
import { stringField } from "../models/is-record.js";
import { logTargetsOf } from "../models/log-targets.js";
import { eventJson } from "../models/parse-json.js";
import { isServerModel } from "../models/server-model.js";
import { walltimeWarningsOf } from "../models/walltime-warnings.js";
import type { PageContext } from "./page-context.js";

/** Keeps the rows live over the user's event stream and counts down to each server's time limit. */
function followServers(ctx: PageContext, table: HTMLElement | null): void {
  const thresholds = walltimeWarningsOf(table?.dataset["walltimeWarnings"]);
  const logTargets = logTargetsOf(table?.dataset["logTargets"]);
  const tick = () => tickTimeLimits(thresholds, Date.now());
  const status = document.getElementById("stream-status");
  const source = new EventSource(userEventsPath(ctx.user));
  source.addEventListener("hello", () => {
    if (status) status.textContent = "";
  });
  const show = (model: unknown) => {
    if (isServerModel(model)) updateRow(rowFor(model.name) ?? newRow(model, ctx.user), model, logTargets);
  };
  // Every server, sent when the stream (re)connects: what changed while the page loaded or the
  // stream was down is shown, and rows of servers removed meanwhile go.
  source.addEventListener("servers", (event) => {
    const models = eventJson(event);
    if (!Array.isArray(models)) return;
    const names = new Set(models.filter(isServerModel).map((m) => m.name));
    for (const row of document.querySelectorAll<HTMLElement>("tr[data-server]")) {
      const name = row.dataset["server"] ?? "";
      // The default server's row is always there, made in the store or not (its Start makes it).
      if (name !== "" && !names.has(name)) row.remove();
    }
    models.forEach(show);
    tick();
  });
  source.addEventListener("server", (event) => {
    show(eventJson(event));
    tick();
  });
  source.addEventListener("deleted", (event) => {
    const name = stringField(eventJson(event), "name");
    if (name !== undefined) rowFor(name)?.remove();
  });
  source.onerror = () => {
    if (status) status.textContent = "Live updates interrupted; reconnecting…";
  };
  tick();
  window.setInterval(tick, 1000);
}

/** Start (through the spawn form), stop and delete buttons of the rows. */
function handleServerActions(ctx: PageContext, table: HTMLElement | null): void {
  table?.addEventListener("click", (event) => {
    const button = clickedButton(event, "button[data-action]");
    const row = button?.closest<HTMLElement>("tr[data-server]");
    if (!button || !row) return;
    const name = row.dataset["server"] ?? "";
    const action = button.dataset["action"];
    void (async () => {
      button.disabled = true;
      try {
        if (action === "start") {
          window.location.assign(spawnPage(ctx.user, name));
          return;
        }
        const res =
          action === "delete"
            ? await ctx.api.call("DELETE", serverApiPath(ctx.user, name), { remove: true })
            : await ctx.api.call("DELETE", serverApiPath(ctx.user, name));
        if (!res.ok) alert(await errorText(res));
        if (action === "delete" && res.ok) row.remove();
      } finally {
        button.disabled = false;
      }
    })();
  });
}

/** Names a new server (and its display name), then goes to its spawn form. */
function handleNewServer(ctx: PageContext): void {
  onFormSubmit("new-server", (data) => {
    const name = String(data.get("name") ?? "");
    const display = String(data.get("display_name") ?? "");
    const error = document.getElementById("new-server-error");
    void (async () => {
      if (display) {
        const put = await ctx.api.call("PUT", serverApiPath(ctx.user, name), { display_name: display });
        if (!put.ok) {
          if (error) error.textContent = await errorText(put);
          return;
        }
      }
      window.location.assign(spawnPage(ctx.user, name));
    })();
  });
}

/** The home page: the user's servers, live, with their actions and time limits. */
export function initHome(ctx: PageContext): void {
  const table = document.getElementById("servers");
  followServers(ctx, table);
  handleServerActions(ctx, table);
  handleNewServer(ctx);
}
