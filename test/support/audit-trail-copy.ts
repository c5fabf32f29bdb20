import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../src/store/open-store.js";

/** Where the audit trail of the hub logging to `logFile` is kept for the secrets suite. */
export function auditCopyOf(logFile: string): string {
  return logFile.replace(/\.log$/, ".audit.jsonl");
}

/**
 * Copies a stopped hub's audit trail, one event per line, next to its log, so the secrets suite
 * (test/final) scans every event the suites caused as it scans every log line: the data directory
 * that holds the database is removed once the suite is done with it.
 */
export async function keepAuditTrail(databaseUrl: string | undefined, dataDir: string, logFile: string) {
  const url = databaseUrl ?? `sqlite:${join(dataDir, "slipway.sqlite")}`;
  if (url.startsWith("sqlite:") && !existsSync(url.slice("sqlite:".length))) return;
  const store = await openStore(url);
  try {
    const lines: string[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const page = await store.audit.list(beforeId === undefined ? {} : { beforeId }, 500);
      lines.push(...page.items.map((event) => JSON.stringify(event)));
      beforeId = page.items.at(-1)?.id;
      if (!page.hasMore || beforeId === undefined) break;
    }
    writeFileSync(auditCopyOf(logFile), lines.map((line) => `${line}\n`).join(""));
  } finally {
    await store.close();
  }
}
