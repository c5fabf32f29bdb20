import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RouteTrie } from "./route-trie.js";

describe("RouteTrie", () => {
  it("finds the longest stored prefix of a path", () => {
    const trie = new RouteTrie<string>();
    trie.set(["alice"], "default");
    trie.set(["alice", "gpu"], "named");
    assert.deepEqual(trie.match(["alice", "gpu", "lab"]), { value: "named", depth: 2 });
    assert.deepEqual(trie.match(["alice", "lab"]), { value: "default", depth: 1 });
    assert.deepEqual(trie.match(["alice"]), { value: "default", depth: 1 });
    assert.equal(trie.match(["bob", "gpu"]), undefined);
  });

  it("compares segments exactly, without decoding or case folding", () => {
    const trie = new RouteTrie<string>();
    trie.set(["alice"], "default");
    assert.equal(trie.match(["Alice"]), undefined);
    assert.equal(trie.match(["%61lice"]), undefined);
    assert.equal(trie.match(["alice%2F..%2Fbob"]), undefined);
  });

  it("does not match a path shorter than every stored prefix", () => {
    const trie = new RouteTrie<string>();
    trie.set(["alice", "gpu"], "named");
    assert.equal(trie.match(["alice"]), undefined);
    assert.equal(trie.match([]), undefined);
  });

  it("gets only exact paths", () => {
    const trie = new RouteTrie<string>();
    trie.set(["alice", "gpu"], "named");
    assert.equal(trie.get(["alice", "gpu"]), "named");
    assert.equal(trie.get(["alice"]), undefined);
    assert.equal(trie.get(["alice", "gpu", "lab"]), undefined);
  });

  it("replaces a value without counting it twice", () => {
    const trie = new RouteTrie<number>();
    trie.set(["a"], 1);
    trie.set(["a"], 2);
    assert.equal(trie.size, 1);
    assert.equal(trie.get(["a"]), 2);
  });

  it("deletes a value, keeps the others and prunes empty branches", () => {
    const trie = new RouteTrie<string>();
    trie.set(["alice"], "default");
    trie.set(["alice", "gpu"], "named");
    trie.set(["bob", "x", "y"], "deep");
    assert.equal(trie.delete(["alice"]), "default");
    assert.deepEqual(trie.match(["alice", "gpu"]), { value: "named", depth: 2 });
    assert.equal(trie.match(["alice", "lab"]), undefined);
    assert.equal(trie.delete(["bob", "x", "y"]), "deep");
    assert.equal(trie.delete(["bob", "x", "y"]), undefined);
    assert.equal(trie.delete(["nobody"]), undefined);
    assert.deepEqual([...trie.values()], ["named"]);
    assert.equal(trie.size, 1);
  });

  it("lists every value", () => {
    const trie = new RouteTrie<string>();
    trie.set(["a"], "1");
    trie.set(["a", "b"], "2");
    trie.set(["c", "d"], "3");
    assert.deepEqual([...trie.values()].sort(), ["1", "2", "3"]);
  });
});
