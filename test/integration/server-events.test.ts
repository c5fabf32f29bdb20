import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin } from "../support/accounts.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

interface StreamEvent {
  readonly event: string;
  readonly data: unknown;
}

/** Reads a server-sent event stream one event at a time. */
class EventReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  async next(): Promise<StreamEvent> {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const lines = block.split("\n").filter((l) => !l.startsWith(":"));
        if (lines.length === 0) continue;
        const field = (name: string) =>
          lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? "";
        return { event: field("event"), data: JSON.parse(field("data")) as unknown };
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("the event stream ended");
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  close(): Promise<void> {
    return this.#reader.cancel();
  }
}

const names = (data: unknown) => (data as { name: string }[]).map((m) => m.name).sort();

describe("a user's event stream (the home page's live updates)", () => {
  let hub: TestHub;
  let token: string;
  const call = (method: string, path: string, body?: unknown) =>
    tokenFetch(hub.url, token, method, path, body);

  before(async () => {
    hub = await startTestHub({}, { name: "server-events" });
    const admin = await firstAdmin(hub);
    token = await apiToken(await addUser(hub, admin.client, "alice"));
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("begins with every server as it is now, then sends each change and each removal", async () => {
    assert.equal(
      (await call("PUT", "/hub/api/users/alice/servers/before", { display_name: "B" })).status,
      201,
    );
    const res = await call("GET", "/hub/api/users/alice/events");
    assert.equal(res.status, 200);
    assert.ok(res.body);
    const stream = new EventReader(res.body);
    try {
      assert.equal((await stream.next()).event, "hello");
      const snapshot = await stream.next();
      assert.equal(snapshot.event, "servers");
      assert.deepEqual(names(snapshot.data), ["before"]);

      assert.equal(
        (await call("PUT", "/hub/api/users/alice/servers/after", { display_name: "A" })).status,
        201,
      );
      const added = await stream.next();
      assert.equal(added.event, "server");
      assert.equal((added.data as { name: string }).name, "after");

      const removed = await call("DELETE", "/hub/api/users/alice/servers/before", { remove: true });
      assert.equal(removed.status, 204);
      assert.deepEqual(await stream.next(), { event: "deleted", data: { name: "before" } });
    } finally {
      await stream.close();
    }
  });

  it("sends a reconnecting page the servers that changed while it was away", async () => {
    assert.equal(
      (await call("PUT", "/hub/api/users/alice/servers/meanwhile", { display_name: "M" })).status,
      201,
    );
    const res = await call("GET", "/hub/api/users/alice/events");
    assert.ok(res.body);
    const stream = new EventReader(res.body);
    try {
      await stream.next();
      const snapshot = await stream.next();
      assert.equal(snapshot.event, "servers");
      assert.deepEqual(names(snapshot.data), ["after", "meanwhile"]);
    } finally {
      await stream.close();
    }
  });
});
