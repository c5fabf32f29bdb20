import { readdirSync } from "node:fs";
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// ---------------------------------------------------------------------------------------------
// Import boundaries: what the code of each folder of src/ may import, as its README's "May
// import" says (docs/contributing.md explains how to change one). Anything a folder does not list
// is refused: another folder of src/ (a new folder too), a package, `src/main.ts`, `src/cli.ts`.
// `src/main.ts`, `src/cli.ts` and `src/bootstrap/` are the composition root and may import
// anything but main.ts and cli.ts. Tests, fixtures and contract suites may import anything, to
// build real collaborators. Static imports, `export … from` and `import()` are all checked.
// ---------------------------------------------------------------------------------------------

/**
 * `src`: folders or single modules (`helper/protocol`) of src/; `types`: the same, for
 * `import type` only; `packages`: package names, `node:` for every built-in or `node:crypto` for one.
 */
const boundaries = {
  domain: { src: [], packages: [] },
  ports: { src: ["domain"], packages: [] },
  services: { src: ["domain", "ports"], packages: ["zod", "node:crypto"] },
  store: { src: ["domain", "ports"], packages: ["kysely", "better-sqlite3", "pg", "node:"] },
  auth: {
    src: ["domain"],
    types: ["ports"],
    packages: ["otpauth", "qrcode", "openid-client", "jose", "node:"],
  },
  config: { src: [], packages: ["zod", "yaml", "node:"] },
  helper: { src: [], packages: ["zod", "node:"] },
  launchers: {
    src: [
      "domain",
      "ports",
      "helper/protocol",
      "helper/proc-reader",
      "helper/backoff",
      "helper/helper-context",
      "helper/run-helper",
    ],
    packages: ["zod", "@peculiar/x509", "reflect-metadata", "node:"],
  },
  schedulers: {
    src: ["domain", "ports", "helper/protocol"],
    packages: ["zod", "node:"],
  },
  proxy: { src: ["domain"], types: ["ports/target-probe"], packages: ["node:"] },
  http: {
    src: ["domain", "services", "ports/logger", "ports/authenticator", "ports/audit", "auth/random-token"],
    packages: ["fastify", "@fastify/cookie", "@fastify/formbody", "zod", "node:"],
  },
};

const TEST_SUPPORT = [
  "src/**/*.test.ts",
  "src/**/*fixture.ts",
  "src/**/*.contract.ts",
  "src/**/contract/**",
  "src/**/*-test-*.ts",
];

const srcFolders = readdirSync(new URL("./src", import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

// A new folder of src/ is a new boundary: say here (and in its README) what it may import.
const unruled = srcFolders.filter((folder) => folder !== "bootstrap" && !(folder in boundaries));
if (unruled.length > 0) {
  throw new Error(
    `eslint.config.js: no import boundary for src/${unruled.join(", src/")}; add it to \`boundaries\`.`,
  );
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A relative specifier that climbs out of the importing folder into src/<folder>/. */
const into = (folder) => `^(\\.\\./)+${escape(folder)}/`;
/** ... into src/<folder>/, other than the modules named. */
const intoExcept = (folder, modules) => `${into(folder)}(?!(${modules.map(escape).join("|")})\\.js$)`;
const exactly = (module) => `${into(module.split("/")[0])}${escape(module.split("/")[1])}\\.js$`;

const ENTRY_POINTS = {
  regex: "^(\\.\\./)+(main|cli)\\.js$",
  message: "Only the entry points import src/main.ts and src/cli.ts.",
};
/** `./../x`, `a/../x`, `a/./x`, `a//x`: spellings that would slip past the patterns. */
const CANONICAL = {
  regex: "^\\./\\.\\.(/|$)|/\\.(/|$)|//|(^|/)(?!\\.\\.?(/|$))[^/]+/\\.\\.(/|$)",
  message: "Write a relative import in its shortest form (../x.js), so that its boundary can be checked.",
};

/** The patterns of `@typescript-eslint/no-restricted-imports` for one folder. */
function restrictedPatterns(folder, rule) {
  const readme = `src/${folder}/README.md ("May import")`;
  const types = rule.types ?? [];
  const patterns = [];
  for (const other of srcFolders) {
    if (other === folder || rule.src.includes(other)) continue;
    const modules = [...rule.src, ...types]
      .filter((m) => m.startsWith(`${other}/`))
      .map((m) => m.slice(other.length + 1));
    if (types.includes(other)) {
      patterns.push({
        regex: into(other),
        allowTypeImports: true,
        message: `src/${folder} may import only types from src/${other}: ${readme}.`,
      });
      continue;
    }
    const regex = modules.length > 0 ? intoExcept(other, modules) : into(other);
    const only = modules.length > 0 ? ` other than ${modules.map((m) => `${m}.ts`).join(", ")}` : "";
    patterns.push({ regex, message: `src/${folder} may not import src/${other}${only}: ${readme}.` });
  }
  for (const module of types.filter((t) => t.includes("/"))) {
    patterns.push({
      regex: exactly(module),
      allowTypeImports: true,
      message: `src/${folder} may import only types from src/${module}.ts: ${readme}.`,
    });
  }
  patterns.push(ENTRY_POINTS, CANONICAL, {
    regex: packageRegex(rule.packages),
    message: `src/${folder} may use only these packages: ${rule.packages.map((p) => (p === "node:" ? "node:*" : p)).join(", ") || "none"}; ${readme}.`,
  });
  return patterns;
}

/** Any package, Node built-in or absolute path not in `packages`. */
function packageRegex(packages) {
  const allowed = packages.map((p) => (p === "node:" ? "node:" : `${escape(p)}(/|$)`));
  return `^(?!\\.|${allowed.join("|") || "$^"})`;
}

/**
 * `no-restricted-imports` does not look at `import()`; the same patterns, as an esquery selector
 * (whose regular expressions cannot hold a slash, hence \x2F). Type-only allowances do not apply:
 * `import()` loads the module.
 */
function dynamicImportSelector(patterns) {
  const any = patterns
    .map((p) => `(${p.regex})`)
    .join("|")
    .replaceAll("/", "\\x2F");
  return `ImportExpression[source.value=/${any}/]`;
}

/** Both rules over `patterns`, for the code (not the tests) under `folder`. */
function boundaryConfig(folder, patterns, message) {
  return {
    files: [`src/${folder}/**/*.ts`],
    ignores: TEST_SUPPORT,
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { patterns: patterns.map((pattern) => ({ ...pattern, caseSensitive: true })) },
      ],
      "no-restricted-syntax": ["error", { selector: dynamicImportSelector(patterns), message }],
    },
  };
}

const boundaryConfigs = [
  ...Object.entries(boundaries).map(([folder, rule]) =>
    boundaryConfig(
      folder,
      restrictedPatterns(folder, rule),
      `src/${folder} may not load this module: src/${folder}/README.md ("May import").`,
    ),
  ),
  // The composition root's pieces may import anything but the entry points.
  boundaryConfig("bootstrap", [ENTRY_POINTS, CANONICAL], "src/bootstrap may not load this module."),
];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "python/**", "bench/results/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
  ...boundaryConfigs,
);
