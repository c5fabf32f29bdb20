import { errorText, replyField, type HubApi } from "../api/hub-api.js";
import { serverApiPath, userApiPath } from "../api/hub-paths.js";
import { clickedButton } from "../components/clicked-button.js";
import { onFormSubmit } from "../components/on-form-submit.js";
import type { PageContext } from "./page-context.js";

/** Where the page shows what came of an action: a set-up link to hand on, or an error. */
interface AdminOutput {
  showLink(url: string): void;
  showError(text: string): void;
}

function adminOutput(): AdminOutput {
  const error = document.getElementById("admin-error");
  const link = document.getElementById("setup-link");
  return {
    showLink(url) {
      if (!link) return;
      link.hidden = false;
      link.textContent = `One-time set-up link (send it to the user): ${url}`;
    },
    showError(text) {
      if (error) error.textContent = text;
    },
  };
}

/** Adds a user and shows the one-time link with which they set up their account. */
function handleAddUser(api: HubApi, out: AdminOutput): void {
  onFormSubmit("add-user", (data) => {
    void (async () => {
      const name = String(data.get("name") ?? "");
      const res = await api.call("POST", userApiPath(name), { admin: data.get("admin") === "on" });
      if (res.ok) {
        const url = await replyField(res, "setup_url");
        if (url !== undefined) out.showLink(url);
        out.showError("");
      } else {
        out.showError(await errorText(res));
      }
    })();
  });
}

/** One button of a user's row: disable or enable the account, a new set-up link, stop a server. */
async function userAction(api: HubApi, out: AdminOutput, user: string, button: HTMLElement): Promise<void> {
  const action = button.dataset["action"];
  let res: Response;
  if (action === "disable" || action === "enable") {
    res = await api.call("PATCH", userApiPath(user), { disabled: action === "disable" });
  } else if (action === "setup-link") {
    res = await api.call("POST", `${userApiPath(user)}/setup-link`, {});
    const url = res.ok ? await replyField(res, "setup_url") : undefined;
    if (url !== undefined) out.showLink(url);
    return;
  } else if (action === "stop-server") {
    res = await api.call("DELETE", serverApiPath(user, button.dataset["server"] ?? ""));
  } else {
    return;
  }
  if (res.ok) window.location.reload();
  else out.showError(await errorText(res));
}

/** The admin page: add users, and act on the listed users and their servers. */
export function initAdmin(ctx: PageContext): void {
  const out = adminOutput();
  handleAddUser(ctx.api, out);
  document.querySelector("table.users")?.addEventListener("click", (event) => {
    const button = clickedButton(event, "button[data-action]");
    const row = button?.closest<HTMLElement>("tr[data-user]");
    if (!button || !row) return;
    void userAction(ctx.api, out, row.dataset["user"] ?? "", button);
  });
}
