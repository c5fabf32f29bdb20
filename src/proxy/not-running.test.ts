import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { defaultNotRunning } from "./not-running.js";
import { send } from "./proxy-test-fixture.js";

const HOSTILE = `'"><svg onload=alert(1)>`;

describe("defaultNotRunning", () => {
  let server: Server;
  let port: number;

  before(async () => {
    server = createServer((req, res) => defaultNotRunning(req, res, "alice", HOSTILE));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address: AddressInfo | string | null = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    port = address.port;
  });

  after(async () => {
    server.close();
    await once(server, "close");
  });

  it("escapes every value it puts into the page, in text and in the link", async () => {
    const reply = await send(port, `/user/alice/x?q=${encodeURIComponent(HOSTILE)}`, {
      headers: { accept: "text/html" },
    });
    const page = reply.body.toString();
    assert.equal(reply.status, 503);
    assert.ok(!page.includes("<svg"), page);
    assert.ok(page.includes("&lt;svg onload=alert(1)&gt;"), page);
    const link =
      '<a class="button" href="/hub/spawn/alice/&#39;%22%3E%3Csvg%20onload%3Dalert(1)%3E?next=%2Fuser%2Falice%2Fx%3Fq%3D';
    assert.ok(page.includes(link), page);
  });

  it("answers API clients with 503 JSON", async () => {
    const reply = await send(port, "/user/alice/api/x", { headers: { accept: "application/json" } });
    assert.equal(reply.status, 503);
    assert.equal(reply.code(), "server_not_running");
  });
});
