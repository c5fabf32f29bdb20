// Bundles the hub's two entry points, src/cli.ts (the `slipway` command) and src/helper/cli.ts
// (slipway-helper, run once per action as a user), with esbuild into dist/src/cli.js and
// dist/src/helper/cli.js. Part of `npm run build`, after the type check.
//
// Why a bundle: Node resolves, reads and compiles each ES module file on its own, and the hub's
// dependencies are hundreds of small files (kysely and zod alone are about 400); one file per
// entry cuts the hub's start-up CPU roughly in half. Code loaded with `import()` (PostgreSQL's
// driver, the YAML parser, the QR-code library, the Slurm target, the administrative commands)
// goes into chunks of its own, so it is neither read nor compiled unless it is used.
//
// Chunks sit next to the entry (dist/src/), because src/main.ts finds dist/web/static and job/
// relative to its own file. better-sqlite3 stays external: it loads a native addon from
// node_modules; so do a few packages the hub never loads (see `external`). Source maps are written next to every file; run with
// NODE_OPTIONS=--enable-source-maps for stack traces in terms of src/ (docs/deployment.md).
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * zod's namespace re-exports all of its ~45 translations of error messages (half of zod's code);
 * the hub reports errors in English and never calls `z.config(z.locales.…())`, so only `en` is
 * bundled. `z.locales` then holds `en` alone.
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), "..", "locales", "index.js"), namespace: "zod-locales" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), "en.js"))};`,
      resolveDir: dirname(args.path),
    }));
  },
};
const out = join(root, "dist", "src");

// Start from empty so that no file of an earlier build (or of the old per-file build) lingers.
rmSync(out, { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { cli: "src/cli.ts", "helper/cli": "src/helper/cli.ts" },
  outdir: out,
  chunkNames: "[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: [
    "better-sqlite3",
    // Required by Fastify only for route schemas (the hub declares none, src/http/app.ts) and for
    // inject(); left out of the bundle, they still resolve from node_modules if ever needed.
    "@fastify/ajv-compiler",
    "@fastify/fast-json-stringify-compiler",
    "light-my-request",
  ],
  sourcemap: true,
  // Less for Node to read and parse at every start. Identifiers are not minified, so functions
  // keep their names in stack traces (keepNames would cost more start-up time than it saves).
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  // The CommonJS dependencies (fastify, pino, pg, ...) call require() for Node's built-ins.
  banner: {
    js: 'import { createRequire as __slipwayCreateRequire } from "node:module"; const require = __slipwayCreateRequire(import.meta.url);',
  },
  plugins: [zodEnglishOnly],
  logLevel: "warning",
});
