import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AuditEvent, AuditFilter, AuditTrail } from "../../ports/audit.js";
import { exportLines } from "./api-audit.js";

/** A trail of `count` sign-ins (ids 1…count), read as the store reads it, that notes each read. */
function trailOf(count: number): { trail: AuditTrail; reads: { filter: AuditFilter; limit: number }[] } {
  const events = Array.from({ length: count }, (_, i): AuditEvent => ({
    id: i + 1,
    at: new Date(Date.UTC(2026, 11, 8, 0, 0, i)),
    kind: "sign_in",
    actor: `u${i % 7}`,
    subject: null,
    reason: null,
    address: "192.0.2.1",
    details: {},
  })).reverse();
  const reads: { filter: AuditFilter; limit: number }[] = [];
  const trail: AuditTrail = {
    record: () => Promise.resolve(),
    list: (filter, limit) => {
      reads.push({ filter, limit });
      const older = events.filter((e) => filter.beforeId === undefined || e.id < filter.beforeId);
      return Promise.resolve({ items: older.slice(0, limit), hasMore: older.length > limit });
    },
  };
  return { trail, reads };
}

async function collect(lines: AsyncGenerator<string>): Promise<{ ids: number[]; chunks: number }> {
  const ids: number[] = [];
  let chunks = 0;
  for await (const chunk of lines) {
    chunks++;
    for (const line of chunk.split("\n").filter((l) => l !== "")) {
      ids.push((JSON.parse(line) as { id: number }).id);
    }
  }
  return { ids, chunks };
}

describe("the audit export", () => {
  it("reads the store a page at a time with the cursor, and yields every event once, newest first", async () => {
    const { trail, reads } = trailOf(1234);
    const { ids, chunks } = await collect(exportLines(trail, { user: "u3" }, 500));
    assert.deepEqual(
      ids,
      Array.from({ length: 1234 }, (_, i) => 1234 - i),
    );
    assert.equal(chunks, 3, "one chunk per page");
    assert.deepEqual(
      reads.map((r) => [r.filter.beforeId, r.limit, r.filter.user]),
      [
        [undefined, 500, "u3"],
        [735, 500, "u3"],
        [235, 500, "u3"],
      ],
    );
  });

  it("writes each event as one JSON line of the fields that leave the hub", async () => {
    const { trail } = trailOf(1);
    const lines: string[] = [];
    for await (const chunk of exportLines(trail, {})) lines.push(chunk);
    assert.deepEqual(lines, [
      '{"id":1,"at":"2026-12-08T00:00:00.000Z","kind":"sign_in","actor":"u0","subject":null,"reason":null,"address":"192.0.2.1","details":{}}\n',
    ]);
  });

  it("yields nothing for an empty trail, after one read", async () => {
    const { trail, reads } = trailOf(0);
    assert.deepEqual(await collect(exportLines(trail, {})), { ids: [], chunks: 0 });
    assert.equal(reads.length, 1);
  });
});
