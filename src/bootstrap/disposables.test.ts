import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Disposables } from "./disposables.js";

describe("Disposables", () => {
  it("disposes in the reverse of the order things were registered", async () => {
    const order: string[] = [];
    const disposables = new Disposables();
    disposables.add(() => void order.push("store"));
    const servers = disposables.use({ name: "servers" }, async (s) => {
      await Promise.resolve();
      order.push(s.name);
    });
    disposables.add(() => void order.push("web app"));
    await disposables.close();
    assert.equal(servers.name, "servers");
    assert.deepEqual(order, ["web app", "servers", "store"]);
  });

  it("runs every disposer when one fails, then rejects with that failure", async () => {
    const order: string[] = [];
    const disposables = new Disposables();
    disposables.add(() => void order.push("first"));
    disposables.add(() => {
      throw new Error("stuck");
    });
    disposables.add(() => void order.push("last"));
    await assert.rejects(disposables.close(), /stuck/);
    assert.deepEqual(order, ["last", "first"]);
  });

  it("reports several failures together", async () => {
    const disposables = new Disposables();
    disposables.add(() => Promise.reject(new Error("one")));
    disposables.add(() => Promise.reject(new Error("two")));
    await assert.rejects(disposables.close(), (error: unknown) => {
      assert.ok(error instanceof AggregateError);
      assert.deepEqual(
        error.errors.map((e: unknown) => (e instanceof Error ? e.message : e)),
        ["two", "one"],
      );
      return true;
    });
  });

  it("disposes of each thing once, however often it is closed", async () => {
    let disposed = 0;
    const disposables = new Disposables();
    disposables.add(() => void disposed++);
    await Promise.all([disposables.close(), disposables.close()]);
    await disposables.close();
    assert.equal(disposed, 1);
  });
});
