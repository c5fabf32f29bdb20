import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SignInRequest } from "../ports/authenticator.js";
import { authenticatorContract, EMPTY_REQUEST } from "./contract/authenticator.contract.js";
import { FRONT_DOOR_ISSUER, TrustedHeaderAuthenticator } from "./trusted-header-authenticator.js";

const SETTINGS = {
  trustedPeers: ["unix", "10.0.0.5"],
  userHeader: "x-remote-user",
  groupsHeader: "x-remote-groups",
  groupSeparator: ",",
  zoneHeader: "x-remote-zone",
  logoutUrl: "/oidc/redirect_uri?logout=https%3A%2F%2Fhub.example%2Fhub%2Flogged-out",
};

/** A request as the front door (or someone else) sends it: headers as a raw list, in order. */
function request(peer: string, raw: [string, string][]): SignInRequest {
  const values = (name: string) => raw.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  return {
    ...EMPTY_REQUEST,
    peer,
    header: (name) => {
      const found = values(name);
      return found.length === 1 ? found[0] : undefined;
    },
    headerValues: values,
  };
}

authenticatorContract("Trusted front-door header", {
  async open() {
    return {
      authenticator: new TrustedHeaderAuthenticator(SETTINGS),
      expected: { name: "alice", displayName: "alice", groups: ["/sdcc/gpu", "staff"], zone: "external" },
      firstStep: async (_start, credential) =>
        request(credential === "right" ? "unix" : "127.0.0.1", [
          ["X-Remote-User", "alice"],
          ["X-Remote-Groups", "/sdcc/gpu, staff"],
          ["X-Remote-Zone", "external"],
        ]),
      // The method starts no session and keeps nothing: the hub's store is not its to fill.
      sessionCount: async () => 0,
      dispose: async () => undefined,
    };
  },
});

describe("TrustedHeaderAuthenticator", () => {
  const authenticator = new TrustedHeaderAuthenticator(SETTINGS);
  const refusal = async (req: SignInRequest) => {
    try {
      await authenticator.complete(req);
      return "signed in";
    } catch (error) {
      return (error as { code?: string }).code;
    }
  };

  it("takes the header from a configured address or the front-door socket, and binds to its value", async () => {
    const outcome = await authenticator.complete(request("10.0.0.5", [["x-remote-user", "Alice"]]));
    assert.ok(outcome.kind === "identity");
    assert.deepEqual(outcome.identity.provider, { issuer: FRONT_DOOR_ISSUER, subject: "Alice" });
    assert.equal(outcome.identity.name, "alice");
  });

  it("refuses the header from anyone else, or twice, joined, empty, not a name, or with a bad zone", async () => {
    assert.equal(await refusal(request("127.0.0.1", [["x-remote-user", "alice"]])), "header_untrusted");
    assert.equal(await refusal(request("127.0.0.1", [])), "not_authenticated");
    assert.equal(await refusal(request("unix", [])), "not_authenticated");
    const invalid: [string, string][][] = [
      [
        ["x-remote-user", "alice"],
        ["X-Remote-User", "bob"],
      ],
      [["x-remote-user", "alice,bob"]],
      [["x-remote-user", "  "]],
      [["x-remote-user", "alice@example.org"]],
      [
        ["x-remote-user", "alice"],
        ["x-remote-zone", "guest"],
      ],
      [
        ["x-remote-user", "alice"],
        ["x-remote-groups", "a"],
        ["x-remote-groups", "b"],
      ],
    ];
    for (const raw of invalid)
      assert.equal(await refusal(request("unix", raw)), "header_invalid", JSON.stringify(raw));
  });

  it("vouches for a session only on requests from the front door that still name its user", () => {
    const naming = (value: string) => (name: string) => (name === "x-remote-user" ? [value] : []);
    assert.equal(authenticator.stillVouches("Alice", naming("Alice"), "unix"), true);
    assert.equal(authenticator.stillVouches("Alice", naming("Bob"), "unix"), false);
    assert.equal(authenticator.stillVouches("Alice", naming("Alice"), "127.0.0.1"), false);
    assert.equal(
      authenticator.stillVouches("Alice", () => [], "unix"),
      false,
    );
    assert.equal(authenticator.stillVouches(undefined, naming("Alice"), "unix"), false);
  });

  it("leads sign-out to the front door's own logout", async () => {
    assert.equal(await authenticator.logoutUrl(), SETTINGS.logoutUrl);
  });
});
