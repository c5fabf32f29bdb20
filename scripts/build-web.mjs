// Bundles the browser script, web/app.ts and the modules it imports, with esbuild into one file,
// dist/web/static/app.js, which the hub serves at /hub/static/app.js. Part of `npm run build`,
// after the type check (tsc -p web/tsconfig.json) and after copy-assets.mjs, which empties
// dist/web/static/. Why one file rather than the modules themselves: web/README.md.
//
// The bundle also holds web/ to the import directions its README states: an import that leaves
// web/, names a package, or points against the table below fails the build.
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "web");

/** What the files in each part of web/ may import; app.ts, the entry, may import all of them. */
const MAY_IMPORT = new Map([
  ["app.ts", ["api", "components", "models", "pages"]],
  ["pages", ["pages", "components", "api", "models"]],
  ["components", ["components", "api", "models"]],
  ["api", ["api", "models"]],
  ["models", ["models"]],
]);

const partOf = (file) => relative(web, file).split(sep)[0] ?? "";

const importDirections = {
  name: "web-import-directions",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      const target = resolve(args.resolveDir, args.path);
      const from = partOf(args.importer);
      const allowed = MAY_IMPORT.get(from);
      const fail = (why) => ({
        errors: [{ text: `${relative(root, args.importer)} imports ${args.path}: ${why}` }],
      });
      if (!args.path.startsWith(".") || relative(web, target).startsWith("..")) {
        return fail("web/ imports nothing from outside web/ (no packages, nothing from src/)");
      }
      if (!allowed) return fail(`web/${from} has no entry in scripts/build-web.mjs's import table`);
      if (!allowed.includes(partOf(target))) return fail(`web/${from} may import only ${allowed.join(", ")}`);
      return undefined;
    });
  },
};

await build({
  absWorkingDir: root,
  entryPoints: ["web/app.ts"],
  outfile: "dist/web/static/app.js",
  tsconfig: "web/tsconfig.json",
  bundle: true,
  // Loaded with <script type="module">, which the browser runs once the page is parsed.
  format: "esm",
  platform: "browser",
  target: "es2022",
  legalComments: "none",
  plugins: [importDirections],
  logLevel: "warning",
});
