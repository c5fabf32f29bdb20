import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSlipwayError } from "../domain/errors.js";
import { auditQueryString, parseAuditQuery, parseTime } from "./audit-query.js";

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isSlipwayError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  assert.fail("expected a refusal");
}

describe("the audit trail's query", () => {
  it("asks for the newest 100 events of every kind when given nothing", () => {
    assert.deepEqual(parseAuditQuery({}), { filter: {}, limit: 100 });
  });

  it("treats blank fields as absent, as a form submitted with empty inputs sends them", () => {
    assert.deepEqual(parseAuditQuery({ user: "", kind: "", since: " ", until: "", before: "", limit: "" }), {
      filter: {},
      limit: 100,
    });
  });

  it("takes kinds repeated and comma-separated, once each", () => {
    const { filter } = parseAuditQuery({ kind: ["sign_in,token_created", "sign_in", " server_started "] });
    assert.deepEqual(filter.kinds, ["sign_in", "token_created", "server_started"]);
  });

  it("refuses a kind it does not know with validation_failed, naming it", () => {
    const { code, message } = refusal(() => parseAuditQuery({ kind: "sign_in,signin" }));
    assert.equal(code, "validation_failed");
    assert.match(message, /unknown kind "signin"/);
  });

  it("refuses a parameter it does not know, so a typo never silently filters nothing", () => {
    assert.equal(refusal(() => parseAuditQuery({ kinds: "sign_in" })).code, "unknown_field");
  });

  it("reads the user, the cursor and the limit, within 1 to 500", () => {
    assert.deepEqual(parseAuditQuery({ user: "alice", before: "1234", limit: "500" }), {
      filter: { user: "alice", beforeId: 1234 },
      limit: 500,
    });
    for (const limit of ["0", "501", "-1", "1.5", "ten", "1e2"]) {
      assert.equal(refusal(() => parseAuditQuery({ limit })).code, "validation_failed", limit);
    }
    for (const before of ["0", "-3", "abc", "99999999999999999"]) {
      assert.equal(refusal(() => parseAuditQuery({ before })).code, "validation_failed", before);
    }
  });

  it("refuses a repeated user or limit rather than picking one", () => {
    assert.equal(refusal(() => parseAuditQuery({ user: ["alice", "bob"] })).code, "validation_failed");
    assert.equal(refusal(() => parseAuditQuery({ limit: ["1", "2"] })).code, "validation_failed");
  });

  it("refuses since after until", () => {
    const query = { since: "2026-12-09", until: "2026-12-08" };
    assert.equal(refusal(() => parseAuditQuery(query)).code, "validation_failed");
  });

  it("takes no limit or cursor for the export, which has every event", () => {
    assert.equal(refusal(() => parseAuditQuery({ limit: "5" }, { paged: false })).code, "validation_failed");
    assert.equal(refusal(() => parseAuditQuery({ before: "5" }, { paged: false })).code, "validation_failed");
    assert.deepEqual(parseAuditQuery({ user: "bob" }, { paged: false }).filter, { user: "bob" });
  });
});

describe("times in the audit trail's query (ISO 8601)", () => {
  it("reads a date as midnight UTC, and a time without an offset as UTC", () => {
    assert.equal(parseTime("since", "2026-12-08").toISOString(), "2026-12-08T00:00:00.000Z");
    assert.equal(parseTime("since", "2026-12-08T09:30").toISOString(), "2026-12-08T09:30:00.000Z");
    assert.equal(parseTime("since", "2026-12-08T09:30:15").toISOString(), "2026-12-08T09:30:15.000Z");
  });

  it("applies an offset and keeps milliseconds", () => {
    assert.equal(parseTime("since", "2026-12-08T09:30:00.250Z").toISOString(), "2026-12-08T09:30:00.250Z");
    assert.equal(parseTime("since", "2026-12-08T10:30:00+01:00").toISOString(), "2026-12-08T09:30:00.000Z");
    assert.equal(parseTime("since", "2026-12-08T04:00:00-0530").toISOString(), "2026-12-08T09:30:00.000Z");
  });

  it("refuses what is not a real time, with validation_failed", () => {
    for (const value of [
      "yesterday",
      "2026-02-30",
      "2026-13-01",
      "2026-12-08T24:00",
      "2026-12-08T09:60",
      "2026-12-08T09",
      "2026-12-08T09:30:00+15:00",
      "1733650000",
      "2026-12-08T09:30:00Z junk",
    ]) {
      const { code, message } = refusal(() => parseTime("since", value));
      assert.equal(code, "validation_failed", value);
      assert.match(message, /^since: /);
    }
  });
});

describe("the query string of a filter", () => {
  it("asks for the same events again, with a cursor when given, and is read back unchanged", () => {
    const filter = {
      user: "alice smith",
      kinds: ["sign_in", "token_created"] as const,
      since: new Date("2026-12-01T00:00:00Z"),
      until: new Date("2026-12-08T12:00:00Z"),
    };
    const query = auditQueryString({ ...filter, kinds: [...filter.kinds] }, { before: 42 });
    const params = Object.fromEntries(new URLSearchParams(query.slice(1)));
    assert.deepEqual(parseAuditQuery(params), {
      filter: { ...filter, kinds: [...filter.kinds], beforeId: 42 },
      limit: 100,
    });
  });

  it("is empty for no filter", () => {
    assert.equal(auditQueryString({}), "");
  });
});
