import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { z } from "zod";
import { validateConfig } from "./load-config.js";
import { configSchema } from "./schema.js";

describe("the configuration schema", () => {
  it("is published in docs/config.schema.json exactly as the code defines it", () => {
    const published: unknown = JSON.parse(
      readFileSync(new URL("../../docs/config.schema.json", import.meta.url), "utf8"),
    );
    const current: unknown = JSON.parse(
      JSON.stringify(z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" })),
    );
    assert.deepEqual(published, current, "run `npm run schema` to regenerate docs/config.schema.json");
  });

  it("gives the embedded defaults for an empty file: local target, TOTP required, loopback", () => {
    const result = validateConfig({});
    assert.ok(result.ok);
    assert.equal(result.config.hub.host, "127.0.0.1");
    assert.equal(result.config.hub.port, 8000);
    assert.equal(result.config.auth.totp, "required");
    assert.deepEqual(Object.keys(result.config.servers.targets), ["local"]);
    assert.equal(result.config.servers.runAs, "hub");
  });

  it("reports every error of a file at once, the default target among them", () => {
    const result = validateConfig({
      hub: { port: -1, extra: 1 },
      servers: { defaultTarget: "moon" },
      auth: { totp: "x" },
    });
    assert.ok(!result.ok);
    assert.equal(result.errors.length, 4, result.errors.join("\n"));
  });
});
