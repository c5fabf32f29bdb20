import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { z } from "zod";
import { configSchema, type Config } from "./schema.js";

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
  if (issue.code === "unrecognized_keys")
    return `${path}: unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  return `${path}: ${issue.message}`;
}

/** Validates a parsed configuration object, reporting every problem at once. */
export function validateConfig(raw: unknown): ConfigResult {
  const parsed = configSchema.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, errors: parsed.error.issues.map(describe) };
}

/** Reads a YAML configuration file (absent path: all defaults). */
export async function loadConfig(path: string | undefined): Promise<ConfigResult> {
  if (path === undefined) return validateConfig({});
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    return { ok: false, errors: [`${path}: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const { parseYaml } = await import("./parse-yaml.js");
  const parsed = parseYaml(text);
  if (!parsed.ok) return { ok: false, errors: parsed.errors.map((e) => `${path}: ${e}`) };
  const result = validateConfig(parsed.value);
  return result.ok ? { ok: true, config: resolvePaths(result.config, dirname(resolve(path))) } : result;
}

/** Paths the file may give relative to itself (a secret file next to it) become absolute. */
function resolvePaths(config: Config, dir: string): Config {
  const oidc = config.auth.oidc;
  if (oidc === undefined || oidc.clientSecretFile.startsWith("/")) return config;
  return {
    ...config,
    auth: { ...config.auth, oidc: { ...oidc, clientSecretFile: resolve(dir, oidc.clientSecretFile) } },
  };
}
