import { parseJson } from "./parse-json.js";

/** Names of the targets whose servers are batch jobs with a log, from the home page's `data-log-targets`. */
export function logTargetsOf(raw: string | undefined): string[] {
  const value = parseJson(raw);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
