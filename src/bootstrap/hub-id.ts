import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writePrivateFile } from "./data-dir.js";

/**
 * A stable id for this installation, kept in the data directory: it names the server folders in
 * users' homes, so two hubs (or a hub and its test suites) on one account never share one.
 */
export async function hubIdFor(dataDir: string): Promise<string> {
  const file = join(dataDir, "hub-id");
  try {
    const existing = (await readFile(file, "utf8")).trim();
    if (/^[a-z0-9]{4,32}$/.test(existing)) return existing;
  } catch {
    // first start: create it below
  }
  const id = randomBytes(6).toString("hex");
  await writePrivateFile(file, `${id}\n`);
  return id;
}
