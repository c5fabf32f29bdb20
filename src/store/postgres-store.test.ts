import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import pg from "pg";
import type { KyselyStore } from "./kysely-store.js";
import { openStore } from "./open-store.js";
import { FakeClock, storeContract } from "./store.contract.js";

const url = process.env.SLIPWAY_TEST_PG_URL;
const howTo = 'start one with: export SLIPWAY_TEST_PG_URL="$(scripts/pg-test-up.sh)"';

if (url === undefined || url === "") {
  if (process.env.CI) {
    // CI must not pass by testing only SQLite.
    it("has a PostgreSQL database to test against", () => {
      assert.fail(`SLIPWAY_TEST_PG_URL is not set; ${howTo}`);
    });
  } else {
    it("PostgreSQL store", { skip: `SLIPWAY_TEST_PG_URL is not set; ${howTo}` }, () => undefined);
  }
} else {
  postgresSuite(url);
}

function postgresSuite(url: string): void {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  after(() => admin.end());

  /** A schema of its own for every store, dropped afterwards, so tests share nothing. */
  function freshSchema(): string {
    return `slipway_test_${randomBytes(6).toString("hex")}`;
  }

  /** Waits, by asking the server rather than by sleeping, until `n` sessions wait for a lock. */
  async function waitForLockWaiters(n: number): Promise<void> {
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const { rows } = await admin.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if ((rows[0]?.waiting ?? 0) >= n) return;
    }
    assert.fail(`${n} sessions never came to wait for a lock`);
  }

  async function dropSchema(schema: string): Promise<void> {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }

  storeContract("PostgreSQL store", {
    async open(clock) {
      const schema = freshSchema();
      const store = await openStore(url, { clock, schema, maxConnections: 12 });
      await store.migrate();
      return {
        store,
        async dispose() {
          await store.close();
          await dropSchema(schema);
        },
      };
    },
  });

  /** Two stores on one schema: two replicas of a hub. */
  async function withReplicas(body: (a: KyselyStore, b: KyselyStore, schema: string) => Promise<void>) {
    const schema = freshSchema();
    const clock = new FakeClock(new Date(Date.UTC(2024, 0, 15)));
    const a = await openStore(url, { clock, schema });
    const b = await openStore(url, { clock, schema });
    try {
      await body(a, b, schema);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  }

  describe("PostgreSQL store across replicas", () => {
    it("migrates once when replicas start together", () =>
      withReplicas(async (a, b, schema) => {
        await Promise.all([a.migrate(), b.migrate()]);
        const { rows } = await admin.query<{ name: string }>(`SELECT name FROM ${schema}.kysely_migration`);
        assert.deepEqual(
          rows.map((r) => r.name),
          ["0001-initial", "0002-server-endpoint", "0003-identity"],
        );
      }));

    it("refuses, on a replica of an older version, a database a newer version migrated, and says so", () =>
      withReplicas(async (newer, older, schema) => {
        await newer.migrate();
        await admin.query(`INSERT INTO ${schema}.kysely_migration (name, timestamp) VALUES ($1, $2)`, [
          "9999-from-the-future",
          "x",
        ]);
        await assert.rejects(older.migrate(), /migrated by a newer Slipway: it has 9999-from-the-future/);
      }));

    it("keeps its tables in its own schema, with native time, flag and JSON types", () =>
      withReplicas(async (a, _b, schema) => {
        await a.migrate();
        const { rows } = await admin.query<{ table_name: string; column_name: string; data_type: string }>(
          `SELECT table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema = $1 AND (table_name, column_name) IN
             (('servers', 'created_at'), ('users', 'admin'), ('servers', 'user_options'), ('api_tokens', 'scopes'))
           ORDER BY table_name, column_name`,
          [schema],
        );
        assert.deepEqual(
          rows.map((r) => [r.table_name, r.column_name, r.data_type]),
          [
            ["api_tokens", "scopes", "jsonb"],
            ["servers", "created_at", "timestamp with time zone"],
            ["servers", "user_options", "jsonb"],
            ["users", "admin", "boolean"],
          ],
        );
      }));

    it("lets only one replica win a transition, a TOTP step or a set-up link", () =>
      withReplicas(async (a, b) => {
        await a.migrate();
        const alice = await a.users.create({ name: "alice", admin: false });
        const server = await a.servers.create({
          userId: alice.id,
          name: "",
          displayName: "",
          target: "local",
        });
        assert.deepEqual(await b.servers.getById(server.id), server);

        const at = new Date(Date.UTC(2024, 0, 15, 10));
        const moved = await Promise.all(
          [a, b, a, b].map((s) => s.servers.transition(server.id, ["stopped"], "requested", {}, at)),
        );
        assert.equal(moved.filter((s) => s !== undefined).length, 1);

        await a.users.setTotp(alice.id, "sealed");
        const used = await Promise.all(
          [a, b, a, b].map((s) => s.users.consumeTotpStep(alice.id, 57_000_000)),
        );
        assert.equal(used.filter(Boolean).length, 1);

        await a.setupLinks.create({
          hash: "link",
          userId: alice.id,
          expiresAt: new Date(at.getTime() + 60_000),
        });
        const consumed = await Promise.all([a, b, a, b].map((s) => s.setupLinks.consume("link", at)));
        assert.deepEqual(
          consumed.filter((r) => r !== undefined),
          [alice.id],
        );
      }));

    it("keeps one gapless sequence of events when replicas append at once", () =>
      withReplicas(async (a, b) => {
        await a.migrate();
        const alice = await a.users.create({ name: "alice", admin: false });
        const server = await a.servers.create({
          userId: alice.id,
          name: "",
          displayName: "",
          target: "local",
        });
        const at = new Date(Date.UTC(2024, 0, 15, 10));
        const appended = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            (i % 2 === 0 ? a : b).servers.appendEvent({
              serverId: server.id,
              at,
              state: "starting",
              progress: i,
              message: "",
            }),
          ),
        );
        assert.deepEqual(
          appended.map((e) => e.seq).sort((x, y) => x - y),
          Array.from({ length: 30 }, (_, i) => i + 1),
        );
      }));

    it("makes replicas flushing overlapping activity in opposite orders wait their turn, not deadlock", () =>
      withReplicas(async (a, b, schema) => {
        await a.migrate();
        const users = [];
        for (const name of ["u1", "u2", "u3"]) users.push(await a.users.create({ name, admin: false }));
        const [first, middle, last] = users;
        assert.ok(first && middle && last);
        // A big, analysed table makes the planner join a short batch to it row by row, in the
        // batch's order: the plan under which opposite orders used to deadlock.
        await admin.query(
          `INSERT INTO ${schema}.users (name, admin, disabled, created_at)
           SELECT 'bulk' || g, false, false, now() FROM generate_series(1, 5000) AS g`,
        );
        await admin.query(`ANALYZE ${schema}.users`);
        const at = (ms: number) => new Date(Date.UTC(2024, 0, 15) + ms);
        const forward = users.map((u) => ({ userId: u.id, at: at(1) }));
        const backward = [...users].reverse().map((u) => ({ userId: u.id, at: at(2) }));

        // Hold the middle row, so that both flushes are under way, each holding the row on its
        // side of it, before either can go on; then let go.
        const holder = await admin.connect();
        try {
          await holder.query("BEGIN");
          await holder.query(`SELECT id FROM ${schema}.users WHERE id = $1 FOR UPDATE`, [middle.id]);
          const flushes = Promise.allSettled([
            a.users.recordActivity(forward),
            b.users.recordActivity(backward),
          ]);
          await waitForLockWaiters(2);
          await holder.query("COMMIT");
          for (const outcome of await flushes) {
            assert.equal(
              outcome.status,
              "fulfilled",
              outcome.status === "rejected" ? String(outcome.reason) : "",
            );
          }
        } finally {
          holder.release();
        }
        for (const user of users) assert.deepEqual((await a.users.getById(user.id))?.lastActivity, at(2));
      }));
  });
}
