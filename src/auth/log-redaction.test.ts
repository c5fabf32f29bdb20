import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { pino } from "pino";
import { logRedaction, sanitizeForLog } from "./log-redaction.js";

describe("sanitizeForLog", () => {
  it("escapes CR and LF, so a user name cannot forge a second log line", () => {
    const out = sanitizeForLog('alice\r\n{"level":30,"msg":"admin signed in"}', 200);
    assert.ok(!/[\r\n]/.test(out));
    assert.ok(out.startsWith("alice\\r\\n{"));
  });

  it("truncates a 1 MB string to the first 64 characters and says how much was dropped", () => {
    const out = sanitizeForLog("a".repeat(1024 * 1024));
    assert.equal(out, `${"a".repeat(64)}…(${1024 * 1024 - 64} more)`);
  });

  it("leaves short ordinary text, accents and emoji as they are", () => {
    assert.equal(sanitizeForLog("Zoë 😀 ok"), "Zoë 😀 ok");
  });

  it("escapes other control, separator and invisible bidi characters", () => {
    assert.equal(sanitizeForLog("a\tb\u0000c\u001b[31md\u007f"), "a\\tb\\x00c\\x1b[31md\\x7f");
    assert.equal(sanitizeForLog("x\u2028y\u2029z\u0085"), "x\\u2028y\\u2029z\\x85");
    assert.equal(sanitizeForLog("admin\u202Enigeb"), "admin\\u202enigeb");
    assert.equal(sanitizeForLog("lone\ud800"), "lone\\ud800");
  });

  it("doubles backslashes, so a typed \\n cannot pass for an escaped newline", () => {
    assert.equal(sanitizeForLog("a\\nb"), "a\\\\nb");
  });

  it("never cuts an emoji in half at the limit", () => {
    assert.equal(sanitizeForLog(`abc😀def`, 4), "abc😀…(3 more)");
  });
});

describe("logRedaction", () => {
  function capture(): { log: ReturnType<typeof pino>; lines: () => string } {
    let out = "";
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        out += chunk.toString("utf8");
        done();
      },
    });
    return { log: pino({ redact: logRedaction() }, sink), lines: () => out };
  }

  it("keeps credentials out of pino output wherever the usual names appear", () => {
    const { log, lines } = capture();
    log.error({
      req: {
        method: "POST",
        headers: {
          authorization: "token SECRET-AUTH",
          cookie: "slipway-session=SECRET-COOKIE",
          referer: "https://hub/user/a/?token=SECRET-REFERER",
        },
        body: { password: "SECRET-PW", code: "123456" },
        query: { code: "SECRET-OAUTH-CODE", state: "s" },
      },
      res: { headers: { "set-cookie": "slipway-session=SECRET-SET-COOKIE" } },
      token: "SECRET-TOP",
      user: { name: "alice", password: "SECRET-NESTED", totp: "654321", secret: "SECRET-SEED" },
      server: { config: { token: "SECRET-DEEP" } },
    });
    const out = lines();
    assert.ok(out.includes('"method":"POST"'), "ordinary fields are kept");
    assert.ok(out.includes('"name":"alice"'));
    for (const secret of ["SECRET", "123456", "654321"]) {
      assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
    }
  });

  it("keeps error codes, which are not secrets", () => {
    const { log, lines } = capture();
    log.warn({ err: Object.assign(new Error("gone"), { code: "ENOENT" }) });
    assert.ok(lines().includes('"code":"ENOENT"'));
  });

  it("returns a fresh list each time, so no caller can change another's", () => {
    const first = logRedaction();
    first.paths.length = 0;
    assert.ok(logRedaction().paths.length > 0);
  });
});
