import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { LOG_DIR } from "../support/test-hub.js";

// Named zz- so that it runs last: it reads what every earlier suite's hubs logged to .test-logs/.

interface LogLine {
  readonly where: string;
  readonly text: string;
}

/** Runs of the base64url/base32 alphabet: every secret the suites record is one such run. */
const RUN = /[A-Za-z0-9_-]{12,}/g;
const SECRET_ALPHABET = /^[A-Za-z0-9_-]+$/;
/** The passwords test/support/accounts.ts gives every account, and the ones the suites make up. */
const PASSWORD = /pw-[a-z0-9._-]*-(correct-horse|attacker-chosen)/;

/** Every line of the files in LOG_DIR whose names end with `suffix`, each with where it is. */
function linesOf(suffix: string): LogLine[] {
  const files = existsSync(LOG_DIR) ? readdirSync(LOG_DIR).filter((f) => f.endsWith(suffix)) : [];
  return files.flatMap((file) =>
    readFileSync(join(LOG_DIR, file), "utf8")
      .split("\n")
      .map((text, i) => ({ where: `${file}:${i + 1}`, text }))
      .filter((line) => line.text.length > 0),
  );
}

/** Where any of `secrets` appears in `lines`, a secret shown by its first characters only. */
function secretsIn(lines: readonly LogLine[], secrets: readonly string[]): string[] {
  const plain = secrets.filter((s) => SECRET_ALPHABET.test(s));
  const exact = new Set(plain);
  const shortest = Math.min(...plain.map((s) => s.length));
  const odd = secrets.filter((s) => !SECRET_ALPHABET.test(s));
  const found: string[] = [];
  for (const line of lines) {
    // A secret made of the alphabet can only sit inside one run of it: compare runs, not lines.
    for (const [run] of line.text.matchAll(RUN)) {
      if (run.length < shortest) continue;
      const hit = exact.has(run) ? run : plain.find((s) => s.length < run.length && run.includes(s));
      if (hit !== undefined) found.push(`${line.where}: ${hit.slice(0, 6)}… (${hit.length} chars)`);
    }
    for (const secret of odd) {
      if (line.text.includes(secret)) found.push(`${line.where}: ${secret.slice(0, 6)}…`);
    }
  }
  return found;
}

describe("no secret in any log line the suites wrote (ASVS 16.2.5, threats §5a.7)", () => {
  let lines: LogLine[] = [];
  /** The audit trails of the hubs the suites stopped (test/support/audit-trail-copy.ts). */
  let events: LogLine[] = [];
  let secrets: string[] = [];

  before(() => {
    lines = linesOf(".log");
    events = linesOf(".audit.jsonl");
    const recorded = join(LOG_DIR, "secrets.txt");
    secrets = existsSync(recorded)
      ? [
          ...new Set(
            readFileSync(recorded, "utf8")
              .split("\n")
              .map((s) => s.trim()),
          ),
        ].filter((s) => s.length >= 12)
      : [];
  });

  it("has log lines to scan and secrets to look for: a scan of nothing fails", () => {
    assert.ok(lines.length > 0, `no log lines under ${LOG_DIR}`);
    assert.ok(
      lines.some((line) => line.text.includes('"event":"hub_started"')),
      "no hub's start was logged",
    );
    assert.ok(
      lines.some((line) => line.text.includes('"event":"sign_in"')),
      "no sign-in was logged: the scan would prove nothing about sign-in",
    );
    assert.ok(secrets.length >= 10, `only ${secrets.length} secrets were recorded`);
  });

  it("finds no API token, session id, XSRF token, TOTP secret or set-up link in any log line", () => {
    assert.deepEqual(secretsIn(lines, secrets), []);
  });

  it("finds no password of the test accounts in any log line", () => {
    const found = lines.filter((line) => PASSWORD.test(line.text)).map((line) => line.where);
    assert.deepEqual(found, []);
  });

  it("has audit events to scan, of the kinds that handle secrets: a scan of nothing fails", () => {
    const kinds = new Set(events.map((line) => /"kind":"([a-z_]+)"/.exec(line.text)?.[1]));
    for (const kind of ["sign_in", "token_created", "token_revoked", "admin_action", "server_started"]) {
      assert.ok(kinds.has(kind), `no ${kind} event in the audit trails the suites left`);
    }
  });

  it("finds no secret and no password of the test accounts in any audit event", () => {
    assert.deepEqual(secretsIn(events, secrets), []);
    assert.deepEqual(
      events.filter((line) => PASSWORD.test(line.text)).map((line) => line.where),
      [],
    );
  });

  it("finds only whole JSON records where a record starts: no user input split a line", () => {
    // Files of `slipway serve` child processes also hold its console banner; only records are JSON.
    const broken = lines
      .filter((line) => line.text.startsWith("{"))
      .filter((line) => {
        try {
          const record: unknown = JSON.parse(line.text);
          return typeof record !== "object" || record === null;
        } catch {
          return true;
        }
      })
      .map((line) => line.where);
    assert.deepEqual(broken, []);
  });
});
