import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { validateConfig } from "../../src/config/load-config.js";
import { makeLaunchCertificate } from "../../src/launchers/launch-certificate.js";
import {
  APACHE_BINARY,
  APACHE_EXAMPLE,
  testDefines,
  writeApacheConfig,
  type ApacheSite,
} from "../support/apache-front-door.js";
import { removeDir, REPO } from "../support/test-hub.js";

const NGINX_EXAMPLE = join(REPO, "examples/nginx-front-door.conf");
const NGINX_BINARY = process.env["NGINX_PATH"] ?? "/usr/sbin/nginx";

const SITE: ApacheSite = {
  port: 8443,
  hubSocket: "/run/slipway/front.sock",
  issuer: "http://127.0.0.1:9/realms/test/",
  clientId: "slipway",
  clientSecret: "example-client-secret",
  passphrase: "example-passphrase-example-passphrase",
};

function run(binary: string, args: readonly string[]) {
  const result = spawnSync(binary, args, { encoding: "utf8", timeout: 30_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** `apache2 -t` of the example (or `include`) under Apache's own main configuration in `dir`. */
function apacheCheck(
  dir: string,
  defines: Record<string, string | true>,
  extra: { include?: string; extraModules?: readonly (readonly [string, string])[] } = {},
) {
  const conf = writeApacheConfig({
    dir,
    port: SITE.port,
    defines,
    errorLog: join(dir, "error.log"),
    ...extra,
  });
  return run(APACHE_BINARY, ["-d", dir, "-f", conf, "-t"]);
}

/** The Slipway configuration an example's header comment shows: the comment lines after its heading. */
function slipwayConfigOf(example: string): unknown {
  const lines = example.split("\n");
  const start =
    lines.indexOf("# The matching Slipway configuration (docs/auth.md explains each key and directive):") + 2;
  assert.ok(start > 1, "the example shows the Slipway configuration that goes with it");
  const length = lines.slice(start).findIndex((line) => line === "#" || !line.startsWith("#"));
  return parse(
    lines
      .slice(start, start + length)
      .map((line) => line.replace(/^# ?/, ""))
      .join("\n"),
  );
}

describe("the Slipway configuration the front-door examples show", () => {
  for (const example of [APACHE_EXAMPLE, NGINX_EXAMPLE]) {
    it(`is valid as ${example.slice(REPO.length + 1)} shows it`, () => {
      const result = validateConfig(slipwayConfigOf(readFileSync(example, "utf8")));
      assert.ok(result.ok, result.ok ? "" : result.errors.join("\n"));
      assert.equal(result.config.auth.type, "trusted-header");
    });
  }
});

/** The example with its commented sticky-balancer recipe switched on instead of the socket. */
function withBalancer(example: string): string {
  const recipe =
    /^ {4}# ( {4}BalancerMember| {4}ProxySet|Header add Set-Cookie|<Proxy|<\/Proxy>|ProxyPass(Reverse)? +\/ "balancer)/;
  const lines = example
    .split("\n")
    .filter((line) => !/^ {4}ProxyPass(Reverse)? +\/ "(unix|http:\/\/localhost)/.test(line))
    .map((line) => (recipe.test(line) ? line.replace("# ", "") : line));
  return lines.join("\n");
}

describe("the Apache front-door example", { skip: !existsSync(APACHE_BINARY) && "needs apache2" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "slipway-apache-check-"));
  after(() => removeDir(dir));

  it("passes apache2 -t with the values the browser suite gives it", () => {
    const out = apacheCheck(dir, testDefines(SITE));
    assert.equal(out.code, 0, out.output);
    assert.match(out.output, /Syntax OK/);
  });

  it("refuses to start with a client secret but no passphrase, rather than use the variable's name", () => {
    const { OIDC_PASSPHRASE: _, ...defines } = testDefines(SITE);
    const out = apacheCheck(dir, defines);
    assert.notEqual(out.code, 0);
    assert.match(out.output, /Define OIDC_PASSPHRASE/);
  });

  it("has a sticky-balancer recipe that Apache accepts once uncommented", () => {
    const example = readFileSync(APACHE_EXAMPLE, "utf8");
    const balanced = withBalancer(example);
    assert.match(balanced, /^ {8}ProxySet stickysession=ROUTEID$/m, "the recipe was switched on");
    assert.match(balanced, /^ {8}BalancerMember .* upgrade=websocket/m);
    assert.doesNotMatch(balanced, /unix:/, "the socket's ProxyPass was switched off");
    const include = join(dir, "balanced.conf");
    writeFileSync(include, balanced);
    const out = apacheCheck(dir, testDefines(SITE), {
      include,
      extraModules: [
        ["proxy_balancer", "mod_proxy_balancer.so"],
        ["slotmem_shm", "mod_slotmem_shm.so"],
        ["lbmethod_byrequests", "mod_lbmethod_byrequests.so"],
      ],
    });
    assert.equal(out.code, 0, out.output);
  });
});

/** nginx -t binds the example's ports 80 and 443 (an address in use is fine, a refusal is not). */
function nginxSkipReason(): string | false {
  if (!existsSync(NGINX_BINARY)) return "needs nginx";
  const start = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
  if (process.getuid?.() !== 0 && start > 80) return "nginx -t binds ports 80 and 443: run as root";
  return false;
}

describe("the nginx front-door example", { skip: nginxSkipReason() }, () => {
  const dir = mkdtempSync(join(tmpdir(), "slipway-nginx-check-"));
  after(() => removeDir(dir));

  before(async () => {
    // The snippet the example includes for its TLS lines, relative to the main file's directory.
    const tls = await makeLaunchCertificate({ now: new Date(), seconds: 3600 });
    writeFileSync(join(dir, "tls.crt"), tls.certificate);
    writeFileSync(join(dir, "tls.key"), tls.key, { mode: 0o600 });
    mkdirSync(join(dir, "snippets"));
    writeFileSync(
      join(dir, "snippets/slipway-tls.conf"),
      `ssl_certificate ${join(dir, "tls.crt")};\nssl_certificate_key ${join(dir, "tls.key")};\n`,
    );
    mkdirSync(join(dir, "temp"));
    const temp = (name: string) => `${name}_temp_path ${join(dir, "temp", name)};`;
    writeFileSync(
      join(dir, "nginx.conf"),
      [
        `pid ${join(dir, "nginx.pid")};`,
        "events {}",
        "http {",
        "access_log off;",
        ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(temp),
        `include ${NGINX_EXAMPLE};`,
        "}",
      ].join("\n"),
    );
  });

  it("passes nginx -t, included as it is in a main configuration of its own", () => {
    const args = ["-t", "-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")];
    const out = run(NGINX_BINARY, args);
    assert.equal(out.code, 0, out.output);
    assert.match(out.output, /test is successful/);
  });
});
