import { parseDocument } from "yaml";

/**
 * The YAML text of a configuration file as plain data, or the parser's errors. On its own so that
 * the YAML parser is loaded (with `import()`) only when there is a file to read; a static import
 * here also keeps its named exports intact in the bundle.
 */
export function parseYaml(text: string): { ok: true; value: unknown } | { ok: false; errors: string[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((e) => e.message) };
  return { ok: true, value: doc.toJS() };
}
