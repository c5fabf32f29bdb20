import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Server } from "../domain/types.js";
import { serverModel } from "./presenters.js";

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
