import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { loadConfig, validateConfig } from "./load-config.js";
import { parseYaml } from "./parse-yaml.js";

const examplesDir = fileURLToPath(new URL("../../examples/", import.meta.url));
const examples = readdirSync(examplesDir).filter((f) => f.endsWith(".yaml"));

describe("the example configurations", () => {
  it("exist", () => {
    assert.ok(examples.length > 0, `no *.yaml under ${examplesDir}`);
  });

  for (const file of examples) {
    it(`accepts examples/${file} as a valid configuration`, async () => {
      const result = await loadConfig(examplesDir + file);
      assert.deepEqual(result.ok ? [] : result.errors, []);
    });
  }

  it("configures the test cluster's partitions in examples/slurm.yaml, with a local fallback", async () => {
    const result = await loadConfig(`${examplesDir}slurm.yaml`);
    assert.ok(result.ok);
    const lab = result.config.servers.targets["lab"];
    assert.equal(lab?.type, "slurm");
    if (lab?.type !== "slurm") return;
    assert.deepEqual(Object.keys(lab.partitions).sort(), ["debug", "gpu"]);
    assert.equal(lab.localFallback, "local");
    assert.equal(result.config.servers.runAs, "user");
  });

  it("signs in through a Keycloak realm over https in examples/keycloak.yaml, asking for a level", async () => {
    const result = await loadConfig(`${examplesDir}keycloak.yaml`);
    assert.ok(result.ok);
    const { auth, hub } = result.config;
    assert.equal(auth.type, "oidc");
    assert.equal(auth.oidc?.issuer, "https://sso.example.org/realms/sdcc");
    assert.equal(new URL(auth.oidc?.issuer ?? "").protocol, "https:");
    assert.equal(auth.oidc?.clientSecretFile, "/etc/slipway/oidc-client-secret");
    assert.ok(auth.oidc?.scopes.includes("groups"));
    assert.ok((auth.oidc?.acrValues.length ?? 0) > 0, "acrValues names the level with a second factor");
    assert.deepEqual(auth.zones.external.identityProviders, ["cilogon", "edugain"]);
    assert.ok(auth.logoutClearCookies.some((c) => c.name === "ROUTEID"));
    assert.equal(new URL(hub.publicUrl ?? "").protocol, "https:");
  });

  it("accepts the complete file with every default shown in docs/configuration.md", () => {
    const doc = readFileSync(fileURLToPath(new URL("../../docs/configuration.md", import.meta.url)), "utf8");
    const section = doc.slice(doc.indexOf("## A complete file with every default"));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(yaml, "the section has a YAML block");
    const parsed = parseYaml(yaml);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("; "));
    const result = validateConfig(parsed.value);
    assert.deepEqual(result.ok ? [] : result.errors, []);
  });
});
