import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intersectScopes, roleScopes } from "./scopes.js";

const sorted = (scopes: ReadonlySet<string>) => [...scopes].sort();

describe("intersectScopes", () => {
  it("keeps a scope both sides hold", () => {
    assert.deepEqual(sorted(intersectScopes(new Set(["tokens", "read:hub"]), new Set(["tokens"]))), [
      "tokens",
    ]);
  });

  it("narrows an unfiltered scope to the other side's filter", () => {
    const admin = roleScopes("root", true);
    assert.deepEqual(sorted(intersectScopes(admin, new Set(["servers!user=alice"]))), ["servers!user=alice"]);
    assert.deepEqual(sorted(intersectScopes(new Set(["tokens"]), roleScopes("alice", false))), [
      "tokens!user=alice",
    ]);
  });

  it("shares nothing between filters for different users", () => {
    assert.deepEqual(sorted(intersectScopes(roleScopes("alice", false), roleScopes("bob", false))), [
      "read:hub",
    ]);
  });

  it("finds the server scopes admin:servers implies on the other side", () => {
    const held = new Set(["admin:servers!user=alice"]);
    assert.deepEqual(sorted(intersectScopes(held, new Set(["servers", "read:users"]))), [
      "servers!user=alice",
    ]);
    assert.deepEqual(sorted(intersectScopes(new Set(["admin:servers"]), held)), ["admin:servers!user=alice"]);
  });

  it("gives a user everything they hold when intersected with an admin's scopes", () => {
    const alice = roleScopes("alice", false);
    assert.deepEqual(sorted(intersectScopes(roleScopes("root", true), alice)), sorted(alice));
  });

  it("drops a filtered scope when the same scope is held unfiltered", () => {
    const a = new Set(["read:users", "read:users!user=alice"]);
    assert.deepEqual(sorted(intersectScopes(a, roleScopes("root", true))), ["read:users"]);
  });
});
