import { errorText } from "../api/hub-api.js";
import { serverApiPath, userEventsPath } from "../api/hub-paths.js";
import { stateWord } from "../components/state-word.js";
import { launchProgressOf } from "../models/launch-progress.js";
import { eventJson } from "../models/parse-json.js";
import { isServerModel } from "../models/server-model.js";
import type { PageContext } from "./page-context.js";

/**
 * Shows the queue's own story (Slurm's pending reason, the job id, an unreachable scheduler): it
 * comes with the server's model, not with the progress events.
 */
function followServerState(user: string, server: string): EventSource {
  const changes = new EventSource(userEventsPath(user));
  changes.addEventListener("server", (event) => {
    const model = eventJson(event);
    if (!isServerModel(model) || model.name !== server) return;
    const state = document.getElementById("pending-state");
    if (state) {
      state.textContent = stateWord(model.slipway.state);
      state.className = `badge ${model.slipway.state}`;
    }
    const reason = document.getElementById("pending-reason");
    if (reason) reason.textContent = model.slipway.state === "running" ? "" : (model.slipway.reason ?? "");
    const unknown = document.getElementById("pending-unknown");
    if (unknown) {
      unknown.hidden = model.slipway.status_unknown === null;
      const detail = unknown.querySelector('[data-role="detail"]');
      if (detail) detail.textContent = model.slipway.status_unknown ?? "";
    }
  });
  return changes;
}

/** Follows the launch's progress events into the notebook once the server is ready. */
function followProgress(section: HTMLElement, changes: EventSource): void {
  const bar = document.getElementById("progress-bar");
  const log = document.getElementById("progress-log");
  const error = document.getElementById("progress-error");
  const source = new EventSource(section.dataset["progressUrl"] ?? "");
  source.onmessage = (event) => {
    const data = launchProgressOf(eventJson(event));
    if (!data) return;
    if (bar instanceof HTMLProgressElement && data.progress !== undefined) bar.value = data.progress;
    if (data.message && log) {
      const item = document.createElement("li");
      item.textContent = data.message;
      log.appendChild(item);
    }
    if (data.ready) {
      source.close();
      changes.close();
      window.location.assign(data.url ?? section.dataset["url"] ?? "/hub/home");
    } else if (data.failed) {
      source.close();
      if (error) error.textContent = data.message ?? "The server failed to start.";
    }
  };
}

/** The page shown while a server starts: its state, progress, and a way to cancel. */
export function initPending(ctx: PageContext): void {
  const section = document.getElementById("pending");
  if (!section) return;
  const user = section.dataset["user"] ?? ctx.user;
  const server = section.dataset["server"] ?? "";
  followProgress(section, followServerState(user, server));
  const error = document.getElementById("progress-error");
  document.getElementById("cancel")?.addEventListener("click", () => {
    void (async () => {
      const res = await ctx.api.call("DELETE", serverApiPath(user, server));
      if (res.ok) window.location.assign("/hub/home");
      else if (error) error.textContent = await errorText(res);
    })();
  });
}
