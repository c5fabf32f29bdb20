import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideAccess, hubGroupName, hubUserName, type AccessPolicy } from "./access-policy.js";

const open: AccessPolicy = {
  allowedGroups: [],
  adminGroups: [],
  groupMap: {},
  createUsers: true,
  zones: { default: "internal", externalIdentityProviders: [], externalGroups: [], externalClaimValues: [] },
};

describe("the access policy", () => {
  it("lets in everyone when no group is required, and only members otherwise", () => {
    assert.equal(decideAccess({ groups: [] }, open).allowed, true);
    const closed = { ...open, allowedGroups: ["/sdcc/users"] };
    assert.equal(decideAccess({ groups: ["/other"] }, closed).allowed, false);
    assert.equal(decideAccess({ groups: ["/other", "/sdcc/users"] }, closed).allowed, true);
  });

  it("makes admins of admin groups' members and of nobody else, or leaves it alone", () => {
    assert.equal(decideAccess({ groups: ["/sdcc/admins"] }, open).admin, undefined);
    const rules = { ...open, adminGroups: ["/sdcc/admins"] };
    assert.equal(decideAccess({ groups: ["/sdcc/admins"] }, rules).admin, true);
    assert.equal(decideAccess({ groups: ["/sdcc/users"] }, rules).admin, false);
  });

  it("maps provider groups to hub groups, and names unmapped ones by their path", () => {
    const rules = { ...open, groupMap: { "/sdcc/gpu": "gpu" } };
    assert.deepEqual(decideAccess({ groups: ["/sdcc/gpu", "/sdcc/Astro", "bad name"] }, rules).groups, [
      "gpu",
      "sdcc.astro",
    ]);
    assert.equal(hubGroupName("/a/b"), "a.b");
    assert.equal(hubGroupName("/"), undefined);
  });

  it("puts a person in the external zone by brokering provider, group or claim, never by a missing claim", () => {
    const zones = {
      default: "internal" as const,
      externalIdentityProviders: ["cilogon"],
      externalGroups: ["/guests"],
      externalClaimValues: ["external"],
    };
    const rules = { ...open, zones };
    assert.equal(decideAccess({ groups: [] }, rules).zone, "internal");
    assert.equal(decideAccess({ groups: [], brokeredBy: "cilogon" }, rules).zone, "external");
    assert.equal(decideAccess({ groups: [], brokeredBy: "saml-home" }, rules).zone, "internal");
    assert.equal(decideAccess({ groups: ["/guests"] }, rules).zone, "external");
    assert.equal(decideAccess({ groups: [], zoneClaim: "external" }, rules).zone, "external");
    assert.equal(decideAccess({ groups: [], zone: "external" }, open).zone, "external");
    const externalByDefault = { ...open, zones: { ...zones, default: "external" as const } };
    assert.equal(decideAccess({ groups: [] }, externalByDefault).zone, "external");
  });

  it("takes a provider's user name only when, lower-cased, it is already a Unix-safe name", () => {
    assert.equal(hubUserName("Alice"), "alice");
    assert.equal(hubUserName("alice.smith_2"), "alice.smith_2");
    assert.equal(hubUserName("alice@example.org"), undefined);
    assert.equal(hubUserName(""), undefined);
    assert.equal(hubUserName("a".repeat(33)), undefined);
    assert.equal(hubUserName("ａｌｉｃｅ"), "alice", "full-width letters are the same name");
    assert.equal(hubUserName("-alice"), undefined);
  });
});
