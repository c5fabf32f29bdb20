import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSlipwayError } from "../domain/errors.js";
import {
  decodeBool,
  decodeInteger,
  decodeJsonObject,
  decodeServerState,
  decodeSessionStage,
  decodeStringArray,
  decodeTime,
} from "./column-decoders.js";

function assertCorrupt(decode: () => unknown, column: string): void {
  assert.throws(decode, (error: unknown) => {
    assert.ok(isSlipwayError(error));
    assert.equal(error.code, "internal");
    assert.match(error.message, new RegExp(column.replace(".", "\\.")));
    return true;
  });
}

describe("column decoders", () => {
  it("reads a time from SQLite milliseconds or a PostgreSQL Date alike", () => {
    const when = new Date(Date.UTC(2024, 0, 15, 9, 30, 0, 123));
    assert.deepEqual(decodeTime(when.getTime(), "t.at"), when);
    assert.deepEqual(decodeTime(when, "t.at"), when);
    assertCorrupt(() => decodeTime(Number.NaN, "t.at"), "t.at");
  });

  it("reads flags from 0/1 or booleans and nothing else", () => {
    assert.equal(decodeBool(1, "t.flag"), true);
    assert.equal(decodeBool(false, "t.flag"), false);
    assertCorrupt(() => decodeBool(2, "t.flag"), "t.flag");
  });

  it("reads PostgreSQL's decimal strings for 64-bit integers, refusing what is not a safe integer", () => {
    assert.equal(decodeInteger("57000000", "t.n"), 57_000_000);
    assert.equal(decodeInteger(12n, "t.n"), 12);
    assertCorrupt(() => decodeInteger("12abc", "t.n"), "t.n");
    assertCorrupt(() => decodeInteger("9007199254740993", "t.n"), "t.n");
    assertCorrupt(() => decodeInteger(1.5, "t.n"), "t.n");
  });

  it("reads JSON objects from text or parsed jsonb, refusing other JSON", () => {
    assert.deepEqual(decodeJsonObject('{"a":[1,null]}', "t.j"), { a: [1, null] });
    assert.deepEqual(decodeJsonObject({ a: { b: "c" } }, "t.j"), { a: { b: "c" } });
    assertCorrupt(() => decodeJsonObject("{not json", "t.j"), "t.j");
    assertCorrupt(() => decodeJsonObject("[1,2]", "t.j"), "t.j");
    assertCorrupt(() => decodeJsonObject({ a: undefined }, "t.j"), "t.j");
  });

  it("reads a list of strings and nothing else", () => {
    assert.deepEqual(decodeStringArray('["a","b"]', "t.s"), ["a", "b"]);
    assert.deepEqual(decodeStringArray([], "t.s"), []);
    assertCorrupt(() => decodeStringArray('["a",1]', "t.s"), "t.s");
    assertCorrupt(() => decodeStringArray('{"a":1}', "t.s"), "t.s");
  });

  it("reads only known server states and session stages", () => {
    assert.equal(decodeServerState("queued", "t.state"), "queued");
    assertCorrupt(() => decodeServerState("pending", "t.state"), "t.state");
    assert.equal(decodeSessionStage("enrol", "t.stage"), "enrol");
    assertCorrupt(() => decodeSessionStage("half", "t.stage"), "t.stage");
  });
});
