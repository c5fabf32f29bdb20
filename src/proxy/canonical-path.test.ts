import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseUserPath } from "./canonical-path.js";

function accepted(url: string): { owner: string; next: string; url: string } {
  const result = parseUserPath(url);
  assert.ok(result.ok, `expected ${url} to be accepted, got ${result.ok ? "" : result.reason}`);
  return { owner: result.owner, next: result.next, url: result.url };
}

function rejectedWith(url: string): string {
  const result = parseUserPath(url);
  assert.ok(!result.ok, `expected ${url} to be rejected`);
  return result.code;
}

describe("parseUserPath", () => {
  it("reads the owner and the next segment and keeps the URL byte for byte", () => {
    assert.deepEqual(accepted("/user/alice/lab/tree?reset=1&a=%2F"), {
      owner: "alice",
      next: "lab",
      url: "/user/alice/lab/tree?reset=1&a=%2F",
    });
    assert.deepEqual(accepted("/user/alice/"), { owner: "alice", next: "", url: "/user/alice/" });
    assert.deepEqual(accepted("/user/alice"), { owner: "alice", next: "", url: "/user/alice" });
    assert.deepEqual(accepted("/user/alice?x=1"), { owner: "alice", next: "", url: "/user/alice?x=1" });
    assert.deepEqual(accepted("/user/a.b_c-d/gpu/"), {
      owner: "a.b_c-d",
      next: "gpu",
      url: "/user/a.b_c-d/gpu/",
    });
  });

  it("lets encoded slashes through after the server part, where Jupyter's contents API uses them", () => {
    assert.equal(
      accepted("/user/alice/api/contents/dir%2Ffile.ipynb").url,
      "/user/alice/api/contents/dir%2Ffile.ipynb",
    );
    assert.equal(accepted("/user/alice/files/a.b/c..d/.hidden").next, "files");
    assert.equal(accepted("/user/alice/api//contents").next, "api");
  });

  it("does not decode the query, where dots and escapes mean nothing to routing", () => {
    assert.equal(accepted("/user/alice/lab?path=../../user/bob&x=%2e%2e%2F").owner, "alice");
  });

  it("refuses encoded slashes, backslashes and dots in the owner and server part", () => {
    for (const url of [
      "/user/alice%2F..%2Fbob/",
      "/user/alice%2f..%2fbob/",
      "/user/alice%5C..%5Cbob/",
      "/user/alice/..%2F..%2Fuser/bob/",
      "/user/alice/gpu%2F..%2F/",
      "/user/alice/%2e%2e/",
      "/user/alice/%2E/",
      "/user/alice\\..\\bob/",
      "/user/alice/x\\y/",
      "/user/%61lice/",
    ]) {
      assert.equal(rejectedWith(url), "bad_request", url);
    }
  });

  it("refuses dot segments anywhere in the path, literal or encoded", () => {
    for (const url of [
      "/user/./bob",
      "/user/../bob",
      "/user/alice/../bob/",
      "/user/alice/lab/../../bob/",
      "/user/alice/lab/./x",
      "/user/alice/lab/%2e%2e/%2e%2e/bob/",
      "/user/alice/lab/.%2E/x",
      "/user/alice/lab/%2e./x",
      "/user/alice/lab/a%2F..%2F..%2Fbob",
      "/user/alice/lab/a%5C..%5Cb",
      "/user/alice/lab/..;x=1/",
      "/user/alice/lab/..",
      "/user/alice/lab/.?x",
    ]) {
      assert.equal(rejectedWith(url), "bad_request", url);
    }
  });

  it("refuses doubled slashes in the owner and server part", () => {
    assert.equal(rejectedWith("/user//bob/"), "bad_request");
    assert.equal(rejectedWith("/user/alice//bob/"), "bad_request");
  });

  it("refuses control characters, raw or encoded, and malformed escapes", () => {
    for (const url of [
      "/user/alice/lab%00/",
      "/user/alice/lab/x%0d%0aSet-Cookie:a",
      "/user/alice/lab/x%7F",
      "/user/alice/lab/\u0001",
      "/user/alice/lab/a b",
      "/user/alice/lab/%zz",
      "/user/alice/lab/%4",
      "/user/alice/lab/x#frag",
    ]) {
      assert.equal(rejectedWith(url), "bad_request", JSON.stringify(url));
    }
  });

  it("answers not found for a path that names no user", () => {
    assert.equal(rejectedWith("/user/"), "not_found");
    assert.equal(rejectedWith("/user/?next=x"), "not_found");
    assert.equal(rejectedWith("/user/Alice/"), "not_found");
    assert.equal(rejectedWith("/user/-x/"), "not_found");
    assert.equal(rejectedWith("/USER/bob/"), "not_found");
    assert.equal(rejectedWith("//user/bob/"), "not_found");
  });
});
