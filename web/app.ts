/**
 * The hub's pages are rendered on the server; this script adds what needs the browser. The page
 * names its part in `<script data-page="…">` (src/http/pages/layout.ts); pages without a part of
 * their own (`enrol`, `log`) get only what every page gets.
 */
import { initCopyButtons } from "./components/copy-buttons.js";
import { initAdmin } from "./pages/admin.js";
import { initHome } from "./pages/home.js";
import { readPageContext, type PageContext } from "./pages/page-context.js";
import { initPending } from "./pages/pending.js";
import { initSpawn } from "./pages/spawn.js";
import { initTokens } from "./pages/tokens.js";

function start(): void {
  const pages = new Map<string, (ctx: PageContext) => void>([
    ["home", initHome],
    ["spawn", initSpawn],
    ["pending", initPending],
    ["tokens", initTokens],
    ["admin", initAdmin],
  ]);
  const name = document.querySelector<HTMLScriptElement>("script[data-page]")?.dataset["page"] ?? "";
  initCopyButtons();
  pages.get(name)?.(readPageContext(document));
}

start();
