import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { removeDir, startTestHub } from "../support/test-hub.js";

// A provider that is down, or answers with something other than its discovery document: a page
// that says so at sign-in, and a hub that goes on serving everyone else.

/** A hub whose provider is at `issuer`, what `/hub/oauth_login` answered, and whether the API still did. */
async function beginAt(issuer: string): Promise<{ status: number; page: string; apiStatus: number }> {
  const dir = mkdtempSync(join(tmpdir(), "slipway-oidc-"));
  writeFileSync(join(dir, "secret"), "x\n", { mode: 0o600 });
  const hub = await startTestHub(
    { auth: { type: "oidc", oidc: { issuer, clientId: "slipway", clientSecretFile: join(dir, "secret") } } },
    { name: "oidc-provider-fault" },
  );
  try {
    const res = await fetch(`${hub.url}/hub/oauth_login`, { redirect: "manual" });
    const page = await res.text();
    return { status: res.status, page, apiStatus: (await fetch(`${hub.url}/hub/api/`)).status };
  } finally {
    await hub.stop();
    removeDir(hub.dataDir);
    removeDir(dir);
  }
}

describe("an OpenID provider that answers with something else than its discovery document", () => {
  for (const [what, body] of [
    ["not JSON", "<html>maintenance</html>"],
    ["another issuer", JSON.stringify({ issuer: "https://elsewhere.example", authorization_endpoint: "x" })],
  ] as const) {
    it(`says so on a page when it is ${what}, and keeps serving the hub`, async () => {
      const bad = createServer((_req, res) =>
        res.writeHead(200, { "content-type": "application/json" }).end(body),
      );
      bad.listen(0, "127.0.0.1");
      await once(bad, "listening");
      const address = bad.address();
      const port = typeof address === "object" && address ? address.port : 0;
      try {
        const answer = await beginAt(`http://127.0.0.1:${port}`);
        assert.equal(answer.status, 503);
        assert.match(answer.page, /data-code="idp_discovery_invalid"/);
        assert.equal(answer.apiStatus, 200);
      } finally {
        bad.close();
      }
    });
  }
});

describe("an OpenID provider that cannot be reached", () => {
  it("says so on a page and keeps serving the hub", async () => {
    const answer = await beginAt("http://127.0.0.1:9");
    assert.equal(answer.status, 503);
    assert.match(answer.page, /identity provider does not answer/);
    assert.equal(answer.apiStatus, 200);
  });
});
