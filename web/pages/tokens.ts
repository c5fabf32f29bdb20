import { errorText, replyField } from "../api/hub-api.js";
import { tokensApiPath } from "../api/hub-paths.js";
import { clickedButton } from "../components/clicked-button.js";
import { onFormSubmit } from "../components/on-form-submit.js";
import type { PageContext } from "./page-context.js";

/** Asks for a new API token and shows it, the only time it can be seen. */
function handleNewToken(ctx: PageContext): void {
  onFormSubmit("new-token", (data) => {
    const expires = String(data.get("expires_in") ?? "");
    void (async () => {
      const res = await ctx.api.call("POST", tokensApiPath(ctx.user), {
        note: String(data.get("note") ?? ""),
        expires_in: expires ? Number(expires) : null,
      });
      const out = document.getElementById("new-token-value");
      if (!out) return;
      out.hidden = false;
      if (res.ok) {
        const token = await replyField(res, "token");
        out.textContent =
          token === undefined
            ? "The hub answered without a token."
            : `Your new token (shown only once): ${token}`;
      } else {
        out.textContent = await errorText(res);
      }
    })();
  });
}

/** The tokens page: new tokens, and revoking the ones listed. */
export function initTokens(ctx: PageContext): void {
  handleNewToken(ctx);
  document.querySelector("table.tokens")?.addEventListener("click", (event) => {
    const row = clickedButton(event, 'button[data-action="revoke"]')?.closest<HTMLElement>("tr[data-token]");
    if (!row) return;
    void (async () => {
      const id = encodeURIComponent(row.dataset["token"] ?? "");
      const res = await ctx.api.call("DELETE", `${tokensApiPath(ctx.user)}/${id}`);
      if (res.ok) row.remove();
    })();
  });
}
