/**
 * The hub's pages are rendered on the server; this script adds what needs the browser: live
 * server status over server-sent events, and the buttons that call the REST API with the
 * session's XSRF token.
 */

function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? "";
}

const xsrf = meta("slipway-xsrf");
const me = meta("slipway-user");

interface ServerModel {
  name: string;
  ready: boolean;
  pending: string | null;
  stopped: boolean;
  url: string;
  progress_url: string;
  slipway: {
    state: string;
    reason: string | null;
    target: string;
    status_unknown: string | null;
    /** When the scheduler ends the running server (its job's time limit); null when none. */
    ends_at?: string | null;
  };
}

function isServerModel(value: unknown): value is ServerModel {
  if (!isRecord(value) || typeof value["name"] !== "string" || typeof value["url"] !== "string") return false;
  const s = value["slipway"];
  return (
    isRecord(s) &&
    typeof s["state"] === "string" &&
    typeof s["target"] === "string" &&
    (s["reason"] === null || typeof s["reason"] === "string") &&
    (s["status_unknown"] === null || typeof s["status_unknown"] === "string") &&
    (s["ends_at"] === undefined || s["ends_at"] === null || typeof s["ends_at"] === "string")
  );
}

function parseServerModel(data: string): ServerModel | null {
  try {
    const value: unknown = JSON.parse(data);
    return isServerModel(value) ? value : null;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

interface ApiError {
  message?: string;
}

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { "X-XSRF-Token": xsrf, Accept: "application/json" };
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(path, init);
}

async function errorText(res: Response): Promise<string> {
  try {
    const data = (await res.json()) as ApiError;
    return data.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

function serverPath(user: string, server: string): string {
  const u = encodeURIComponent(user);
  return server === ""
    ? `/hub/api/users/${u}/server`
    : `/hub/api/users/${u}/servers/${encodeURIComponent(server)}`;
}

function logPage(user: string, server: string): string {
  return `/hub/log/${encodeURIComponent(user)}${server ? `/${encodeURIComponent(server)}` : ""}`;
}

function pendingPage(user: string, server: string): string {
  return `/hub/spawn-pending/${encodeURIComponent(user)}${server ? `/${encodeURIComponent(server)}` : ""}`;
}

// --- home ------------------------------------------------------------------------------------

const WORDS: Record<string, string> = {
  requested: "requested",
  submitting: "starting",
  queued: "queued",
  starting: "starting",
  running: "running",
  stopping: "stopping",
  stopped: "stopped",
  failed: "failed",
};

/** Names of the targets whose servers are batch jobs with a log (rendered by the home page). */
function logTargets(): string[] {
  let value: unknown;
  try {
    value = JSON.parse(document.getElementById("servers")?.dataset["logTargets"] ?? "[]");
  } catch {
    return [];
  }
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function updateRow(row: HTMLElement, model: ServerModel): void {
  const state = model.slipway.state;
  row.dataset["state"] = state;
  row.dataset["target"] = model.slipway.target;
  row.dataset["endsAt"] = model.slipway.ends_at ?? "";
  const badge = row.querySelector<HTMLElement>('[data-role="state"]');
  if (badge) {
    badge.textContent = model.slipway.status_unknown
      ? `${WORDS[state] ?? state} (status unknown)`
      : (WORDS[state] ?? state);
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
    ?.toggleAttribute("hidden", !logTargets().includes(model.slipway.target));
}

function rowFor(name: string): HTMLElement | null {
  for (const row of document.querySelectorAll<HTMLElement>("tr[data-server]")) {
    if (row.dataset["server"] === name) return row;
  }
  return null;
}

function newRow(model: ServerModel): HTMLElement {
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
  row.querySelector<HTMLAnchorElement>('[data-role="open"]')?.setAttribute("href", model.url);
  row
    .querySelector<HTMLAnchorElement>('[data-role="progress"]')
    ?.setAttribute("href", pendingPage(me, model.name));
  row.querySelector<HTMLAnchorElement>('[data-role="log"]')?.setAttribute("href", logPage(me, model.name));
  tbody?.appendChild(row);
  return row;
}

// --- time limits ----------------------------------------------------------------------------

/** A span of milliseconds in words: `45 s`, `12 min`, `2 h 05 min`. */
function leftInWords(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

function clockTime(at: Date): string {
  return at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Per batch target, the seconds before a server's time limit at which to warn (rendered by the page). */
function walltimeWarnings(): Map<string, number[]> {
  let value: unknown;
  try {
    value = JSON.parse(document.getElementById("servers")?.dataset["walltimeWarnings"] ?? "{}");
  } catch {
    return new Map();
  }
  const out = new Map<string, number[]>();
  if (!isRecord(value)) return out;
  for (const [target, list] of Object.entries(value)) {
    if (Array.isArray(list)) {
      out.set(
        target,
        list.filter((v): v is number => typeof v === "number" && v > 0).sort((a, b) => b - a),
      );
    }
  }
  return out;
}

/** Warnings the user dismissed, by server, end time and threshold, kept for the tab's life. */
function dismissed(key: string): boolean {
  try {
    return window.sessionStorage.getItem(`slipway-walltime:${key}`) !== null;
  } catch {
    return false;
  }
}

function dismiss(key: string): void {
  try {
    window.sessionStorage.setItem(`slipway-walltime:${key}`, "1");
  } catch {
    // Without storage the warning may come back on reload; nothing worse.
  }
}

function warningFor(name: string): HTMLElement | null {
  for (const item of document.querySelectorAll<HTMLElement>("#walltime-warnings [data-server]")) {
    if (item.dataset["server"] === name) return item;
  }
  return null;
}

/**
 * Shows each running server's time left before its job's time limit, and warns once per
 * threshold (e.g. 10 and 1 minutes before) that the cluster is about to end it.
 */
function tickTimeLimits(thresholds: Map<string, number[]>): void {
  const now = Date.now();
  for (const row of document.querySelectorAll<HTMLElement>("tr[data-server]")) {
    const name = row.dataset["server"] ?? "";
    const remaining = row.querySelector<HTMLElement>('[data-role="remaining"]');
    const endsAt = Date.parse(row.dataset["endsAt"] ?? "");
    const running = row.dataset["state"] === "running" && Number.isFinite(endsAt);
    if (!running) {
      remaining?.toggleAttribute("hidden", true);
      warningFor(name)?.remove();
      continue;
    }
    const left = endsAt - now;
    const at = clockTime(new Date(endsAt));
    if (remaining) {
      remaining.hidden = false;
      remaining.textContent = `ends at ${at} (${leftInWords(left)} left)`;
    }
    const list = thresholds.get(row.dataset["target"] ?? "") ?? [];
    // The smallest threshold already reached is the one to announce.
    const reached = list.filter((t) => left <= t * 1000).at(-1);
    if (reached === undefined) {
      warningFor(name)?.remove();
      continue;
    }
    const key = `${name}|${endsAt}|${reached}`;
    const item = warningFor(name);
    if (item?.dataset["key"] === key) continue;
    item?.remove();
    if (dismissed(key)) continue;
    // Announced once per threshold (role=alert); the countdown itself lives in the row.
    const warning = document.createElement("p");
    warning.className = "warning walltime";
    warning.dataset["server"] = name;
    warning.dataset["key"] = key;
    const who = name === "" ? "Your server" : `Your server ${name}`;
    const text = document.createElement("span");
    text.textContent =
      left > 0
        ? `${who} reaches its time limit in ${leftInWords(left)}, at ${at}: the cluster will stop it then. Save your work. `
        : `${who} has reached its time limit; the cluster is stopping it. `;
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "Dismiss";
    close.addEventListener("click", () => {
      dismiss(key);
      warning.remove();
    });
    warning.append(text, close);
    document.getElementById("walltime-warnings")?.appendChild(warning);
  }
}

function initHome(): void {
  const thresholds = walltimeWarnings();
  const status = document.getElementById("stream-status");
  const source = new EventSource(`/hub/api/users/${encodeURIComponent(me)}/events`);
  source.addEventListener("hello", () => {
    if (status) status.textContent = "";
  });
  source.addEventListener("server", (event) => {
    const model = parseServerModel((event as MessageEvent<string>).data);
    if (model) {
      updateRow(rowFor(model.name) ?? newRow(model), model);
      tickTimeLimits(thresholds);
    }
  });
  source.addEventListener("deleted", (event) => {
    const data = JSON.parse((event as MessageEvent<string>).data) as { name: string };
    rowFor(data.name)?.remove();
  });
  source.onerror = () => {
    if (status) status.textContent = "Live updates interrupted; reconnecting…";
  };
  tickTimeLimits(thresholds);
  window.setInterval(() => tickTimeLimits(thresholds), 1000);

  document.getElementById("servers")?.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
    const row = button?.closest<HTMLElement>("tr[data-server]");
    if (!button || !row) return;
    const name = row.dataset["server"] ?? "";
    const action = button.dataset["action"];
    void (async () => {
      button.disabled = true;
      try {
        if (action === "start") {
          window.location.assign(
            `/hub/spawn/${encodeURIComponent(me)}${name ? `/${encodeURIComponent(name)}` : ""}`,
          );
          return;
        }
        const res =
          action === "delete"
            ? await api("DELETE", serverPath(me, name), { remove: true })
            : await api("DELETE", serverPath(me, name));
        if (!res.ok) alert(await errorText(res));
        if (action === "delete" && res.ok) row.remove();
      } finally {
        button.disabled = false;
      }
    })();
  });

  const form = document.getElementById("new-server") as HTMLFormElement | null;
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const name = String(data.get("name") ?? "");
    const display = String(data.get("display_name") ?? "");
    const error = document.getElementById("new-server-error");
    void (async () => {
      if (display) {
        const put = await api("PUT", serverPath(me, name), { display_name: display });
        if (!put.ok) {
          if (error) error.textContent = await errorText(put);
          return;
        }
      }
      window.location.assign(`/hub/spawn/${encodeURIComponent(me)}/${encodeURIComponent(name)}`);
    })();
  });
}

// --- spawn form ------------------------------------------------------------------------------

interface FieldBound {
  min: number;
  max: number;
  def: number;
}

interface PartitionModel {
  name: string;
  gpus: FieldBound;
  cpus: FieldBound;
  memory: FieldBound;
  runtime: FieldBound;
}

const NUMBER_FIELDS = ["gpus", "cpus", "memory", "runtime"] as const;

function boundOf(value: unknown): FieldBound | null {
  if (!isRecord(value)) return null;
  const { min, max, def } = value;
  return typeof min === "number" && typeof max === "number" && typeof def === "number"
    ? { min, max, def }
    : null;
}

/** The partition limits the page rendered into `data-model`; anything malformed is dropped. */
function partitionModels(raw: string | undefined): PartitionModel[] {
  let data: unknown;
  try {
    data = JSON.parse(raw ?? "null");
  } catch {
    return [];
  }
  if (!isRecord(data) || !Array.isArray(data["partitions"])) return [];
  const out: PartitionModel[] = [];
  for (const p of data["partitions"]) {
    if (!isRecord(p) || typeof p["name"] !== "string") continue;
    const gpus = boundOf(p["gpus"]);
    const cpus = boundOf(p["cpus"]);
    const memory = boundOf(p["memory"]);
    const runtime = boundOf(p["runtime"]);
    if (gpus && cpus && memory && runtime) out.push({ name: p["name"], gpus, cpus, memory, runtime });
  }
  return out;
}

/** Shows the GPU field only where the partition has GPUs, and bounds every number by it. */
function applyPartition(fields: HTMLFieldSetElement, partitions: readonly PartitionModel[]): void {
  const select = fields.querySelector<HTMLSelectElement>('select[name="partition"]');
  const p = partitions.find((c) => c.name === select?.value);
  if (!p) return;
  for (const name of NUMBER_FIELDS) {
    const bound = p[name];
    const label = fields.querySelector<HTMLElement>(`[data-field="${name}"]`);
    const input = label?.querySelector<HTMLInputElement>("input");
    if (!label || !input) continue;
    const absent = bound.max < bound.min || (name === "gpus" && bound.max === 0);
    label.hidden = absent;
    input.disabled = absent;
    input.min = String(bound.min);
    input.max = String(bound.max);
    const current = /^\d+$/.test(input.value) ? Number(input.value) : bound.def;
    input.value = String(Math.min(Math.max(current, bound.min), bound.max));
    const limit = label.querySelector<HTMLElement>('[data-role="limit"]');
    if (limit) limit.textContent = limit.textContent.replace(/\d+$/, String(bound.max));
  }
}

function initSpawn(): void {
  const form = document.getElementById("spawn-form") as HTMLFormElement | null;
  if (!form) return;
  const targetFields = [...form.querySelectorAll<HTMLFieldSetElement>("fieldset[data-target-fields]")];
  // Only the chosen target's fieldset is enabled, so only its values are submitted.
  const showTarget = () => {
    const chosen = form.querySelector<HTMLInputElement>('input[name="target"]:checked')?.value;
    for (const fields of targetFields) {
      const active = fields.dataset["targetFields"] === chosen;
      fields.hidden = !active;
      fields.disabled = !active;
    }
  };
  for (const fields of targetFields) {
    const partitions = partitionModels(fields.dataset["model"]);
    fields
      .querySelector('select[name="partition"]')
      ?.addEventListener("change", () => applyPartition(fields, partitions));
  }
  form.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.name === "target") showTarget();
  });
  showTarget();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const user = form.dataset["user"] ?? me;
    const server = form.dataset["server"] ?? "";
    // The API takes numbers as JSON numbers; anything else goes as typed and is refused there.
    const options: Record<string, string | number> = {};
    for (const [key, value] of new FormData(form)) {
      const text = String(value);
      const numeric = (NUMBER_FIELDS as readonly string[]).includes(key) && /^\d{1,9}$/.test(text);
      options[key] = numeric ? Number(text) : text;
    }
    const error = document.getElementById("spawn-error");
    void (async () => {
      if (error) error.textContent = "";
      const res = await api("POST", serverPath(user, server), options);
      if (res.status === 201 || res.status === 202) {
        window.location.assign(pendingPage(user, server));
      } else if (error) {
        error.textContent = await errorText(res);
      }
    })();
  });
}

// --- spawn pending ---------------------------------------------------------------------------

interface ProgressEvent {
  progress?: number;
  message?: string;
  ready?: boolean;
  failed?: boolean;
  url?: string;
}

function initPending(): void {
  const section = document.getElementById("pending");
  if (!section) return;
  const bar = document.getElementById("progress-bar") as HTMLProgressElement | null;
  const log = document.getElementById("progress-log");
  const error = document.getElementById("progress-error");
  const user = section.dataset["user"] ?? me;
  const server = section.dataset["server"] ?? "";
  // The queue's own story (Slurm's pending reason, the job id, an unreachable scheduler) comes
  // with the server's model, not with the progress events.
  const changes = new EventSource(`/hub/api/users/${encodeURIComponent(user)}/events`);
  changes.addEventListener("server", (event) => {
    const model = parseServerModel((event as MessageEvent<string>).data);
    if (!model || model.name !== server) return;
    const state = document.getElementById("pending-state");
    if (state) {
      state.textContent = WORDS[model.slipway.state] ?? model.slipway.state;
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
  const source = new EventSource(section.dataset["progressUrl"] ?? "");
  source.onmessage = (event: MessageEvent<string>) => {
    const data = JSON.parse(event.data) as ProgressEvent;
    if (bar && typeof data.progress === "number") bar.value = data.progress;
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
  document.getElementById("cancel")?.addEventListener("click", () => {
    void (async () => {
      const res = await api("DELETE", serverPath(user, server));
      if (res.ok) window.location.assign("/hub/home");
      else if (error) error.textContent = await errorText(res);
    })();
  });
}

// --- tokens ----------------------------------------------------------------------------------

function initTokens(): void {
  const form = document.getElementById("new-token") as HTMLFormElement | null;
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const expires = String(data.get("expires_in") ?? "");
    void (async () => {
      const res = await api("POST", `/hub/api/users/${encodeURIComponent(me)}/tokens`, {
        note: String(data.get("note") ?? ""),
        expires_in: expires ? Number(expires) : null,
      });
      const out = document.getElementById("new-token-value");
      if (!out) return;
      out.hidden = false;
      if (res.ok) {
        const body = (await res.json()) as { token: string };
        out.textContent = `Your new token (shown only once): ${body.token}`;
      } else {
        out.textContent = await errorText(res);
      }
    })();
  });
  document.querySelector("table.tokens")?.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-action="revoke"]');
    const row = button?.closest<HTMLElement>("tr[data-token]");
    if (!row) return;
    void (async () => {
      const res = await api(
        "DELETE",
        `/hub/api/users/${encodeURIComponent(me)}/tokens/${row.dataset["token"] ?? ""}`,
      );
      if (res.ok) row.remove();
    })();
  });
}

// --- admin -----------------------------------------------------------------------------------

function initAdmin(): void {
  const error = document.getElementById("admin-error");
  const linkOut = document.getElementById("setup-link");
  const showLink = (url: string) => {
    if (!linkOut) return;
    linkOut.hidden = false;
    linkOut.textContent = `One-time set-up link (send it to the user): ${url}`;
  };
  const form = document.getElementById("add-user") as HTMLFormElement | null;
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    void (async () => {
      const name = String(data.get("name") ?? "");
      const res = await api("POST", `/hub/api/users/${encodeURIComponent(name)}`, {
        admin: data.get("admin") === "on",
      });
      if (res.ok) {
        const body = (await res.json()) as { setup_url: string };
        showLink(body.setup_url);
        if (error) error.textContent = "";
      } else if (error) {
        error.textContent = await errorText(res);
      }
    })();
  });
  document.querySelector("table.users")?.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
    const row = button?.closest<HTMLElement>("tr[data-user]");
    if (!button || !row) return;
    const user = row.dataset["user"] ?? "";
    const action = button.dataset["action"];
    void (async () => {
      let res: Response;
      if (action === "disable" || action === "enable") {
        res = await api("PATCH", `/hub/api/users/${encodeURIComponent(user)}`, {
          disabled: action === "disable",
        });
      } else if (action === "setup-link") {
        res = await api("POST", `/hub/api/users/${encodeURIComponent(user)}/setup-link`, {});
        if (res.ok) showLink(((await res.json()) as { setup_url: string }).setup_url);
        return;
      } else if (action === "stop-server") {
        res = await api("DELETE", serverPath(user, button.dataset["server"] ?? ""));
      } else {
        return;
      }
      if (res.ok) window.location.reload();
      else if (error) error.textContent = await errorText(res);
    })();
  });
}

// --- enrolment -------------------------------------------------------------------------------

function initCopyButtons(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-copy]")) {
    button.addEventListener("click", () => {
      const source = document.querySelector(button.dataset["copy"] ?? "");
      if (source?.textContent) void navigator.clipboard?.writeText(source.textContent);
    });
  }
}

const pageName = document.querySelector<HTMLScriptElement>("script[data-page]")?.dataset["page"];
initCopyButtons();
if (pageName === "home") initHome();
if (pageName === "spawn") initSpawn();
if (pageName === "pending") initPending();
if (pageName === "tokens") initTokens();
if (pageName === "admin") initAdmin();
