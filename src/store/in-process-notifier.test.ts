import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Notification } from "../ports/notifier.js";
import { InProcessNotifier } from "./in-process-notifier.js";

describe("in-process notifier", () => {
  it("delivers each notification to every subscriber, in subscription order", async () => {
    const notifier = new InProcessNotifier();
    const seen: string[] = [];
    notifier.subscribe((note) => seen.push(`first ${note.topic}:${note.id}`));
    notifier.subscribe((note) => seen.push(`second ${note.topic}:${note.id}`));
    await notifier.publish({ topic: "server", id: 7 });
    await notifier.publish({ topic: "user", id: "alice" });
    assert.deepEqual(seen, ["first server:7", "second server:7", "first user:alice", "second user:alice"]);
  });

  it("stops delivering to a subscriber once its disposer is called, even twice", async () => {
    const notifier = new InProcessNotifier();
    const seen: Notification[] = [];
    const listener = (note: Notification) => seen.push(note);
    const first = notifier.subscribe(listener);
    const second = notifier.subscribe(listener);
    await notifier.publish({ topic: "server", id: 1 });
    first();
    first();
    await notifier.publish({ topic: "server", id: 2 });
    second();
    await notifier.publish({ topic: "server", id: 3 });
    assert.deepEqual(
      seen.map((n) => n.id),
      [1, 1, 2],
    );
  });

  it("keeps delivering to the others when a listener throws, and reports the failure", async () => {
    const failures: unknown[] = [];
    const notifier = new InProcessNotifier({ onListenerError: (error) => failures.push(error) });
    const seen: number[] = [];
    const boom = new Error("listener broke");
    notifier.subscribe(() => {
      throw boom;
    });
    notifier.subscribe((note) => seen.push(Number(note.id)));
    await notifier.publish({ topic: "session", id: 4 });
    assert.deepEqual(seen, [4]);
    assert.deepEqual(failures, [boom]);
  });

  it("publishes normally even when reporting a listener's failure fails too", async () => {
    const notifier = new InProcessNotifier({
      onListenerError: () => {
        throw new Error("reporter broke");
      },
    });
    const seen: number[] = [];
    notifier.subscribe(() => {
      throw new Error("listener broke");
    });
    notifier.subscribe((note) => seen.push(Number(note.id)));
    await notifier.publish({ topic: "server", id: 5 });
    assert.deepEqual(seen, [5]);
  });

  it("delivers to the subscribers of the moment of publishing, not to one added meanwhile", async () => {
    const notifier = new InProcessNotifier();
    const seen: string[] = [];
    notifier.subscribe(() => {
      seen.push("outer");
      notifier.subscribe(() => seen.push("inner"));
    });
    await notifier.publish({ topic: "server", id: 1 });
    assert.deepEqual(seen, ["outer"]);
  });
});
