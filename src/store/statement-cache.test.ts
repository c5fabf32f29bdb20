import assert from "node:assert/strict";
import { describe, it } from "node:test";
import SqliteDatabase from "better-sqlite3";
import { cachingStatements } from "./statement-cache.js";

function counted(): { db: SqliteDatabase.Database; prepared: string[] } {
  const db = new SqliteDatabase(":memory:");
  const prepared: string[] = [];
  const prepare = db.prepare.bind(db);
  return {
    prepared,
    db: Object.assign(db, {
      prepare: (sql: string) => {
        prepared.push(sql);
        return prepare(sql);
      },
    }),
  };
}

describe("the SQLite statement cache", () => {
  it("prepares each distinct query once and answers from the same statement after", () => {
    const { db, prepared } = counted();
    const cache = cachingStatements(db);
    cache.prepare("create table t (x integer)").run([]);
    for (let i = 0; i < 5; i += 1) cache.prepare("insert into t (x) values (?)").run([i]);
    const rows = cache.prepare("select x from t order by x").all([]);
    assert.deepEqual(rows, [{ x: 0 }, { x: 1 }, { x: 2 }, { x: 3 }, { x: 4 }]);
    assert.deepEqual(prepared, [
      "create table t (x integer)",
      "insert into t (x) values (?)",
      "select x from t order by x",
    ]);
    cache.close();
  });

  it("keeps at most max statements, dropping the least recently used", () => {
    const { db, prepared } = counted();
    const cache = cachingStatements(db, 2);
    cache.prepare("select 1");
    cache.prepare("select 2");
    cache.prepare("select 1");
    cache.prepare("select 3");
    assert.equal(cache.cached, 2);
    cache.prepare("select 1");
    cache.prepare("select 2");
    assert.deepEqual(prepared, ["select 1", "select 2", "select 3", "select 2"]);
    cache.close();
  });

  it("closes the database with it", () => {
    const { db } = counted();
    const cache = cachingStatements(db);
    cache.close();
    assert.equal(db.open, false);
  });
});
