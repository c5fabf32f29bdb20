import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateConfig } from "../config/load-config.js";
import type { Config, ConfigInput } from "../config/schema.js";
import { configFingerprint } from "./hub-audit.js";

function config(input: ConfigInput): Config {
  const result = validateConfig(input);
  if (!result.ok) throw new Error(result.errors.join("; "));
  return result.config;
}

describe("the configuration's fingerprint in the audit trail", () => {
  it("is a SHA-256 that does not depend on the order the settings were written in", () => {
    const a = configFingerprint(config({ hub: { port: 8000, host: "127.0.0.1" } }));
    const b = configFingerprint(config({ hub: { host: "127.0.0.1", port: 8000 } }));
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.equal(a, b);
  });

  it("changes when a setting changes", () => {
    const a = configFingerprint(config({ hub: { port: 8000 } }));
    assert.notEqual(a, configFingerprint(config({ hub: { port: 8001 } })));
  });

  it("leaves the database password out, so the hash tells nothing about it", () => {
    const url = (password: string) => ({
      database: { url: `postgres://hub:${password}@db.example/slipway` },
    });
    assert.equal(
      configFingerprint(config(url("first-secret"))),
      configFingerprint(config(url("second-secret"))),
    );
    assert.notEqual(
      configFingerprint(config(url("first-secret"))),
      configFingerprint(config({ database: { url: "postgres://hub:x@other.example/slipway" } })),
    );
  });
});
