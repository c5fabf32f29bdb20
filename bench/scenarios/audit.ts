import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { stringify } from "yaml";
import type { ConfigInput } from "../../src/config/schema.js";
import { auditKinds } from "../../src/ports/audit.js";
import { benchUserName, fillAuditTrail, type AuditDatabase } from "../lib/audit-fill.js";
import { freePort } from "../lib/free-port.js";
import { figureOf, fmt } from "../lib/report.js";
import { slipwayCli, startSlipway, type SlipwayHub } from "../lib/slipway-hub.js";
import { quantile } from "../lib/stats.js";
import type { BenchContext, Scenario } from "./context.js";

export const AUDIT_EVENTS = 100_000;
export const AUDIT_USERS = 1000;
/** The figure the audit API is held to, in milliseconds: absolute, there is no anchor to compare with. */
export const AUDIT_TARGET_MS = 50;

interface AuditSubject {
  readonly name: string;
  readonly hub: SlipwayHub;
  /** The highest event id, from which the deep pages are counted back. */
  readonly lastId: number;
}

interface AuditTest {
  readonly name: string;
  /** The n-th request's path: users, kinds and cursors rotate so no answer is one cached plan's luck. */
  path(n: number, lastId: number): string;
}

const kindOf = (n: number) => auditKinds[n % auditKinds.length] ?? "sign_in";
const userOf = (n: number) => benchUserName((n * 37) % AUDIT_USERS);
/** A cursor among the oldest 5% of the trail. */
const deepCursor = (n: number, lastId: number) =>
  1000 + ((n * 97) % Math.max(1, Math.floor(lastId / 20) - 1000));

export const AUDIT_TESTS: readonly AuditTest[] = [
  {
    name: "user and kind, limit 50",
    path: (n) => `/hub/api/audit?user=${userOf(n)}&kind=${kindOf(n)}&limit=50`,
  },
  { name: "user, limit 50", path: (n) => `/hub/api/audit?user=${userOf(n)}&limit=50` },
  {
    name: "deep page, unfiltered",
    path: (n, last) => `/hub/api/audit?before=${deepCursor(n, last)}&limit=50`,
  },
  {
    name: "deep page, one kind",
    path: (n, last) => `/hub/api/audit?kind=${kindOf(n)}&before=${deepCursor(n, last)}&limit=50`,
  },
];

/** Sequential requests (one connection, keep-alive): the latency of each, in ms. */
async function timeRequests(
  subject: AuditSubject,
  test: AuditTest,
  from: number,
  count: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let n = from; n < from + count; n++) {
    const t0 = performance.now();
    const res = await fetch(subject.hub.url + test.path(n, subject.lastId), {
      headers: { authorization: `token ${subject.hub.token}` },
    });
    const body = await res.text();
    times.push(performance.now() - t0);
    if (res.status !== 200)
      throw new Error(`${subject.name} ${test.name}: ${res.status} ${body.slice(0, 200)}`);
  }
  return times;
}

/**
 * A hub on `database` (a data directory of its own; PostgreSQL through the configuration), its
 * admin made with the CLI, and the trail filled with the store's own append before it starts.
 */
async function audited(ctx: BenchContext, name: string, postgresUrl?: string): Promise<AuditSubject> {
  const dataDir = join(ctx.tmp, name);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const config: ConfigInput = postgresUrl === undefined ? {} : { database: { url: postgresUrl } };
  const configFile = join(dataDir, "audit-config.yaml");
  writeFileSync(configFile, stringify(config));
  await slipwayCli(ctx.supervisor, dataDir, ["user", "add", "bench", "--admin", "--config", configFile]);
  const token = (
    await slipwayCli(ctx.supervisor, dataDir, ["token", "create", "bench", "--config", configFile])
  ).trim();
  const target: AuditDatabase =
    postgresUrl === undefined ? { sqlite: join(dataDir, "slipway.sqlite") } : { postgres: postgresUrl };
  const began = performance.now();
  const lastId = await fillAuditTrail(target, AUDIT_EVENTS, AUDIT_USERS);
  ctx.log(`${name}: ${AUDIT_EVENTS} events written in ${fmt((performance.now() - began) / 1000, 1)} s`);
  const hub = await startSlipway(ctx.supervisor, { name, dataDir, port: await freePort(), token, config });
  return { name, hub, lastId };
}

/** A database of its own on the test PostgreSQL server, dropped when the group ends. */
async function benchDatabase(
  ctx: BenchContext,
  serverUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `slipway_bench_audit_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = new pg.Client({ connectionString: serverUrl });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
      ctx.log(`dropped ${name}`);
    },
  };
}

/**
 * `GET /hub/api/audit` through a real hub over a trail of 100,000 events (1,000 users, every
 * kind): filtered by user and kind, by user alone, and pages far back (cursor among the oldest 5%)
 * unfiltered and of one kind. On SQLite always; on PostgreSQL when SLIPWAY_TEST_PG_URL names a
 * server (scripts/pg-test-up.sh), in a database of its own.
 */
export const audit: Scenario = {
  group: "audit",
  title: "GET /hub/api/audit over 100,000 events (SQLite; PostgreSQL with SLIPWAY_TEST_PG_URL)",
  async run(ctx: BenchContext) {
    const subjects: AuditSubject[] = [await audited(ctx, "slipway-sqlite")];
    const pgServer = process.env["SLIPWAY_TEST_PG_URL"];
    const database = pgServer ? await benchDatabase(ctx, pgServer) : undefined;
    try {
      if (database) {
        subjects.push(await audited(ctx, "slipway-postgresql", database.url));
      } else {
        ctx.note(
          "SLIPWAY_TEST_PG_URL is not set: no PostgreSQL figures (start one with scripts/pg-test-up.sh)",
        );
      }
      await measure(ctx, subjects);
    } finally {
      for (const s of subjects) await s.hub.process.stop(15_000);
      await database?.drop();
    }
    ctx.note(
      `${AUDIT_EVENTS.toLocaleString("en-US")} events over ${AUDIT_USERS} users and ${auditKinds.length} kinds, ` +
        "written with the store's own append before the hub starts; sequential requests on one keep-alive " +
        `connection, users, kinds and cursors rotating; the target (p95 ≤ ${AUDIT_TARGET_MS} ms) is absolute: ` +
        "no other hub has an audit API to compare with",
    );
  },
};

async function measure(ctx: BenchContext, subjects: readonly AuditSubject[]): Promise<void> {
  const { runs, quick } = ctx.options;
  const perRun = quick ? 100 : 400;
  for (const test of AUDIT_TESTS) {
    const series = new Map(
      subjects.map((s) => [s.name, { p50: [] as number[], p95: [] as number[], p99: [] as number[] }]),
    );
    for (const s of subjects) await timeRequests(s, test, 0, 50); // warm-up: plans, caches, connections
    for (let run = 0; run < runs; run++) {
      for (const s of run % 2 === 0 ? subjects : [...subjects].reverse()) {
        const times = await timeRequests(s, test, (run + 1) * perRun, perRun);
        const row = series.get(s.name);
        row?.p50.push(quantile(times, 0.5));
        row?.p95.push(quantile(times, 0.95));
        row?.p99.push(quantile(times, 0.99));
        ctx.log(
          `${test.name} run ${run + 1}/${runs} ${s.name}: p50 ${fmt(quantile(times, 0.5))} ms p95 ${fmt(quantile(times, 0.95))} ms`,
        );
      }
    }
    for (const s of subjects) {
      const row = series.get(s.name);
      ctx.addRow({
        group: "audit",
        test: test.name,
        subject: s.name,
        primary: { name: "p95", higherIsBetter: false, ...figureOf(row?.p95 ?? [], "ms") },
        figures: { p50: figureOf(row?.p50 ?? [], "ms"), p99: figureOf(row?.p99 ?? [], "ms") },
        note: `${perRun} sequential requests per run, e.g. ${test.path(0, s.lastId)}`,
      });
    }
  }
}
