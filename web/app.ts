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
  slipway: { state: string; reason: string | null; status_unknown: string | null };
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

function updateRow(row: HTMLElement, model: ServerModel): void {
  const state = model.slipway.state;
  row.dataset["state"] = state;
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
    <td class="state"><span class="badge" data-role="state"></span> <span class="reason" data-role="reason"></span></td>
    <td class="actions"><a class="button open" data-role="open" hidden>Open</a>
      <button type="button" data-action="start" hidden>Start</button>
      <button type="button" data-action="stop" hidden>Stop</button>
      <button type="button" class="danger" data-action="delete">Delete</button>
      <a data-role="progress" hidden>progress</a></td>`;
  const display = row.querySelector(".display");
  if (display) display.textContent = model.name;
  const code = row.querySelector("code");
  if (code) code.textContent = model.name;
  row.querySelector<HTMLAnchorElement>('[data-role="open"]')?.setAttribute("href", model.url);
  row
    .querySelector<HTMLAnchorElement>('[data-role="progress"]')
    ?.setAttribute("href", pendingPage(me, model.name));
  tbody?.appendChild(row);
  return row;
}

function initHome(): void {
  const status = document.getElementById("stream-status");
  const source = new EventSource(`/hub/api/users/${encodeURIComponent(me)}/events`);
  source.addEventListener("hello", () => {
    if (status) status.textContent = "";
  });
  source.addEventListener("server", (event) => {
    const model = JSON.parse((event as MessageEvent<string>).data) as ServerModel;
    updateRow(rowFor(model.name) ?? newRow(model), model);
  });
  source.addEventListener("deleted", (event) => {
    const data = JSON.parse((event as MessageEvent<string>).data) as { name: string };
    rowFor(data.name)?.remove();
  });
  source.onerror = () => {
    if (status) status.textContent = "Live updates interrupted; reconnecting…";
  };

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

function initSpawn(): void {
  const form = document.getElementById("spawn-form") as HTMLFormElement | null;
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const user = form.dataset["user"] ?? me;
    const server = form.dataset["server"] ?? "";
    const options: Record<string, string> = {};
    for (const [key, value] of new FormData(form)) options[key] = String(value);
    const error = document.getElementById("spawn-error");
    void (async () => {
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
      window.location.assign(data.url ?? section.dataset["url"] ?? "/hub/home");
    } else if (data.failed) {
      source.close();
      if (error) error.textContent = data.message ?? "The server failed to start.";
    }
  };
  document.getElementById("cancel")?.addEventListener("click", () => {
    void (async () => {
      const res = await api(
        "DELETE",
        serverPath(section.dataset["user"] ?? me, section.dataset["server"] ?? ""),
      );
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
