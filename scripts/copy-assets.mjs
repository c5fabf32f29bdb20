// Copies the browser app's static assets (web/static/**: CSS, images, HTML, fonts, ...) into
// dist/web/static/, next to the bundled script (scripts/build-web.mjs, which runs after this).
// Part of `npm run build`; plain Node, no deps.
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const from = join(root, "web", "static");
const to = join(root, "dist", "web", "static");

// Start from empty so that assets deleted from web/static do not linger in the build.
rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
if (existsSync(from)) {
  // TypeScript sources belong to the web build (esbuild), not to the static copy.
  cpSync(from, to, { recursive: true, filter: (path) => !path.endsWith(".ts") });
}
