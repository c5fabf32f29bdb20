import { isRecord } from "./is-record.js";
import { parseJson } from "./parse-json.js";

/**
 * Per batch target, the seconds before a server's time limit at which to warn, largest first, from
 * the home page's `data-walltime-warnings`.
 */
export function walltimeWarningsOf(raw: string | undefined): Map<string, number[]> {
  const value = parseJson(raw);
  const out = new Map<string, number[]>();
  if (!isRecord(value)) return out;
  for (const [target, list] of Object.entries(value)) {
    if (Array.isArray(list)) {
      out.set(
        target,
        list.filter((v): v is number => typeof v === "number" && v > 0).sort((a, b) => b - a),
      );
    }
  }
  return out;
}
