import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HubCookies, comparableCookieName } from "./hub-cookies.js";

const hub = new HubCookies(["__Host-slipway-session", "slipway-session", "slipway-login-xsrf"]);

describe("comparableCookieName", () => {
  it("reads a name as a browser sends it back: trimmed, nameless cookies by their value", () => {
    for (const [pair, name] of [
      ["slipway-session=x", "slipway-session"],
      [" slipway-session =x", "slipway-session"],
      ["\tslipway-session\t=x", "slipway-session"],
      ["=slipway-session=x", "slipway-session"],
      [" = slipway-session=x", "slipway-session"],
      ["==slipway-session=x", "slipway-session"],
      ["slipway-session", "slipway-session"],
      ["x=slipway-session=y", "x"],
      ["=", ""],
    ]) {
      assert.equal(comparableCookieName(pair ?? ""), name, pair);
    }
  });

  it("folds case and drops __Host- and __Secure- in any case", () => {
    for (const pair of [
      "Slipway-Session=x",
      "__Host-slipway-session=x",
      "__HOST-Slipway-Session=x",
      "__secure-slipway-session=x",
      "__Secure-__Host-slipway-session=x",
    ]) {
      assert.equal(comparableCookieName(pair), "slipway-session", pair);
    }
  });
});

describe("HubCookies", () => {
  it("spots a Set-Cookie for a hub cookie by the name before its first ';' only", () => {
    assert.equal(hub.setBy("=SLIPWAY-SESSION=x; Path=/"), true);
    assert.equal(hub.setBy("__Secure-slipway-login-xsrf=x; Secure"), true);
    assert.equal(hub.setBy("slipway-session; Path=/"), true);
    assert.equal(hub.setBy("_xsrf=x; slipway-session=y"), false);
    assert.equal(hub.setBy("slipway-sessions=x"), false);
    assert.equal(hub.setBy("_xsrf=slipway-session"), false);
  });

  it("strips every copy and spelling of a hub cookie from a Cookie header", () => {
    assert.equal(
      hub.stripFrom(
        "_xsrf=a; Slipway-Session=x;=slipway-session=y; __HOST-slipway-session=z;  b=slipway-session",
      ),
      "_xsrf=a; b=slipway-session",
    );
    assert.equal(hub.stripFrom("slipway-session=x; SLIPWAY-LOGIN-XSRF=y"), "");
  });

  it("passes a Cookie header that names no hub cookie on untouched", () => {
    const cookie = '_xsrf=a;b=c;  username-x="y"';
    assert.equal(hub.stripFrom(cookie), cookie);
  });
});
