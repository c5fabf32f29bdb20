import assert from "node:assert/strict";
import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { describe, it } from "node:test";
import { OriginPolicy } from "./origin-policy.js";

function request(method: string, headers: Record<string, string>): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.headers = headers;
  return req;
}

describe("OriginPolicy", () => {
  it("matches Origin exactly against the normalised list", () => {
    const policy = new OriginPolicy(["http://127.0.0.1:8000/", "https://Hub.Example.org:443"]);
    assert.ok(policy.allowsUpgrade(request("GET", { origin: "http://127.0.0.1:8000" })));
    assert.ok(policy.allowsUpgrade(request("GET", { origin: "https://hub.example.org" })));
    for (const origin of [
      "http://127.0.0.1:8000.evil.com",
      "http://127.0.0.1:9999",
      "https://127.0.0.1:8000",
      "http://127.0.0.1:8000/",
      "null",
      "http://127.0.0.1:8000, https://evil.example",
    ]) {
      assert.ok(!policy.allowsUpgrade(request("GET", { origin })), origin);
      assert.ok(!policy.allowsRequest(request("POST", { origin })), origin);
    }
  });

  it("follows the live list, so an origin learned after binding is allowed", () => {
    const origins: string[] = [];
    const policy = new OriginPolicy(origins);
    const req = request("POST", { origin: "http://127.0.0.1:41234" });
    assert.ok(!policy.allowsRequest(req));
    origins.push("http://127.0.0.1:41234");
    assert.ok(policy.allowsRequest(req));
    origins.splice(0, origins.length, "http://127.0.0.1:8000");
    assert.ok(!policy.allowsRequest(req));
  });
});
