import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import SqliteDatabase from "better-sqlite3";
import { openStore } from "./open-store.js";
import { FakeClock, storeContract } from "./store.contract.js";

storeContract("SQLite store", {
  async open(clock) {
    const store = await openStore("sqlite::memory:", { clock });
    await store.migrate();
    return { store, dispose: () => store.close() };
  },
});

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "slipway-store-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("SQLite store on a file", () => {
  it("puts the database file in write-ahead-log mode", () =>
    withTempDir(async (dir) => {
      const file = join(dir, "slipway.sqlite");
      const store = await openStore(`sqlite:${file}`);
      await store.migrate();
      await store.close();
      const raw = new SqliteDatabase(file, { readonly: true });
      try {
        assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
      } finally {
        raw.close();
      }
    }));

  it("keeps its data when closed and opened again", () =>
    withTempDir(async (dir) => {
      const url = `sqlite:${join(dir, "slipway.sqlite")}`;
      const clock = new FakeClock(new Date(Date.UTC(2024, 5, 1)));
      const first = await openStore(url, { clock });
      await first.migrate();
      const alice = await first.users.create({ name: "alice", admin: true });
      await first.close();
      await first.close();

      const second = await openStore(url, { clock });
      try {
        await second.migrate();
        assert.deepEqual(await second.users.getByName("alice"), alice);
      } finally {
        await second.close();
      }
    }));

  it("refuses a database a newer version migrated, and says so", () =>
    withTempDir(async (dir) => {
      const file = join(dir, "slipway.sqlite");
      const first = await openStore(`sqlite:${file}`);
      await first.migrate();
      await first.close();
      const raw = new SqliteDatabase(file);
      raw
        .prepare("INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)")
        .run("9999-from-the-future", "x");
      raw.close();
      const older = await openStore(`sqlite:${file}`);
      try {
        await assert.rejects(older.migrate(), /migrated by a newer Slipway: it has 9999-from-the-future/);
      } finally {
        await older.close();
      }
    }));

  it("refuses URLs that name no SQLite file or another kind of database", async () => {
    await assert.rejects(openStore("sqlite:"), /names no file/);
    await assert.rejects(openStore("mysql://root:secret@db/slipway"), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /must start with sqlite: or postgres:\/\//);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    });
    await assert.rejects(openStore("sqlite::memory:", { schema: "hub" }), /only be chosen on PostgreSQL/);
  });
});
