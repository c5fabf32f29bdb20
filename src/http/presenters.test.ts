import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Server, User } from "../domain/types.js";
import {
  absentDefaultServer,
  currentUserModel,
  newUserModel,
  serverModel,
  serverView,
} from "./presenters.js";

function server(patch: Partial<Server>): Server {
  return {
    id: 7,
    userId: 1,
    userName: "alice",
    name: "gpu",
    displayName: "gpu",
    state: "running",
    reason: null,
    userOptions: { target: "lab" },
    target: "lab",
    launcherState: {},
    attemptId: "a",
    endpoint: { kind: "tls", host: "gpu1", port: 40000, certificate: "cert" },
    tokenSealed: "sealed",
    createdAt: new Date(0),
    startedAt: new Date(1_000),
    stateChangedAt: new Date(1_000),
    lastActivity: null,
    version: 1,
    ...patch,
  };
}

describe("the server model", () => {
  it("says when the scheduler ends a running server, from its job's end time", () => {
    const model = serverModel(server({ launcherState: { jobId: "41", endsAt: 1_795_600_000 } }));
    assert.equal(model.slipway.ends_at, "2026-11-25T09:46:40.000Z");
    assert.deepEqual(model.state, {}, "the launcher's state itself stays private");
  });

  it("has no end time for a server without a limit, one that is not running, or a malformed one", () => {
    assert.equal(serverModel(server({})).slipway.ends_at, null);
    assert.equal(
      serverModel(server({ state: "stopped", launcherState: { endsAt: 1_795_600_000 } })).slipway.ends_at,
      null,
    );
    assert.equal(serverModel(server({ launcherState: { endsAt: "tomorrow" } })).slipway.ends_at, null);
  });
});

describe("the server view of the pages", () => {
  it("shows a default server never created as a stopped one to start, with nothing to delete or read", () => {
    const view = serverView(absentDefaultServer("alice"), { hasLog: false });
    assert.deepEqual(
      {
        label: view.label,
        state: view.stateWord,
        actions: [view.canOpen, view.canStart, view.canStop, view.changing, view.canDelete, view.hasLog],
        url: view.url,
        progressPage: view.progressPage,
        progressUrl: view.progressUrl,
        logPage: view.logPage,
      },
      {
        label: "Default server",
        state: "stopped",
        actions: [false, true, false, false, false, false],
        url: "/user/alice/",
        progressPage: "/hub/spawn-pending/alice/",
        progressUrl: "/hub/api/users/alice/server/progress",
        logPage: "/hub/log/alice",
      },
    );
  });

  it("shows a queued named server's reason and progress, and says when its status is unknown", () => {
    const view = serverView(server({ state: "queued", reason: "waiting for a GPU", displayName: "" }), {
      unknownReason: "squeue timed out",
      hasLog: true,
    });
    assert.equal(view.label, "gpu");
    assert.equal(view.stateWord, "queued");
    assert.equal(view.reason, "waiting for a GPU");
    assert.equal(view.statusUnknown, "squeue timed out");
    assert.deepEqual(
      [view.canOpen, view.canStart, view.canStop, view.changing, view.canDelete],
      [false, false, true, true, true],
    );
    assert.equal(view.progressUrl, "/hub/api/users/alice/servers/gpu/progress");
    assert.equal(view.logPage, "/hub/log/alice/gpu");
  });

  it("shows a running server's end time but not its last reason", () => {
    const view = serverView(server({ reason: "started", launcherState: { endsAt: 1_795_600_000 } }), {
      hasLog: false,
    });
    assert.equal(view.stateWord, "running");
    assert.equal(view.reason, "");
    assert.equal(view.endsAt, "2026-11-25T09:46:40.000Z");
    assert.equal(view.statusUnknown, null);
    assert.deepEqual([view.canOpen, view.canStop, view.changing], [true, true, false]);
  });
});

describe("the user models", () => {
  const alice: User = {
    id: 1,
    name: "alice",
    admin: false,
    zone: "internal",
    displayName: null,
    email: null,
    disabled: false,
    createdAt: new Date(0),
    lastActivity: null,
    totpEnrolled: false,
    hasPassword: false,
  };

  it("gives a new user its set-up link on the hub's public origin, and no servers", () => {
    const model = newUserModel(alice, "https://hub.example", "tok3n");
    assert.equal(model.setup_url, "https://hub.example/hub/setup/tok3n");
    assert.deepEqual([model.name, model.servers, model.server], ["alice", {}, null]);
  });

  it("gives the caller its own scopes, sorted, and never a session id", () => {
    const principal = {
      user: alice,
      scopes: new Set(["servers!user=alice", "read:users!user=alice", "access:servers!user=alice"]),
      via: "cookie" as const,
      credentialKey: "session-hash",
      xsrfToken: "xsrf",
    };
    const model = currentUserModel(principal, [server({})]);
    assert.deepEqual(model.scopes, [
      "access:servers!user=alice",
      "read:users!user=alice",
      "servers!user=alice",
    ]);
    assert.equal(model.session_id, null);
    assert.deepEqual(Object.keys(model.servers), ["gpu"]);
    assert.ok(!JSON.stringify(model).includes("xsrf") && !JSON.stringify(model).includes("session-hash"));
  });
});
