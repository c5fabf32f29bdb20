import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSlipwayError } from "./errors.js";
import {
  assertTransition,
  canTransition,
  isActive,
  isStarting,
  SERVER_STATES,
  statesBefore,
  type ServerState,
} from "./server-state.js";

/** A server's life when all goes well (ARCHITECTURE.md, invariant 1). */
const LIFECYCLE: readonly ServerState[] = SERVER_STATES.filter((s) => s !== "failed");

describe("the server lifecycle's transitions", () => {
  it("allows the whole lifecycle, requested → submitting → queued → starting → running → stopping → stopped", () => {
    for (let i = 1; i < LIFECYCLE.length; i++) {
      const [from, to] = [LIFECYCLE[i - 1], LIFECYCLE[i]];
      assert.ok(from && to && canTransition(from, to), `${from} → ${to}`);
    }
  });

  it("starts a server again only from stopped or failed, as a new request", () => {
    assert.deepEqual(statesBefore("requested"), ["stopped", "failed"]);
    assert.deepEqual(
      SERVER_STATES.filter((to) => canTransition("stopped", to) || canTransition("failed", to)),
      ["requested"],
    );
  });

  it("lets a stop, a failure or an ended job take a server out of any launching state or running", () => {
    const out = statesBefore("stopping");
    assert.deepEqual(out, ["requested", "submitting", "queued", "starting", "running"]);
    for (const from of out) {
      assert.ok(canTransition(from, "stopped") && canTransition(from, "failed"), from);
    }
  });

  it("ends a stop only as stopped: a stop that fails stays stopping until it is finished", () => {
    assert.deepEqual(
      SERVER_STATES.filter((to) => canTransition("stopping", to)),
      ["stopped"],
    );
  });

  it("never takes a server back to an earlier step of its launch", () => {
    for (let i = 0; i < LIFECYCLE.length - 1; i++) {
      for (let j = 1; j <= i; j++) {
        const [from, back] = [LIFECYCLE[i], LIFECYCLE[j]];
        assert.ok(from && back && !canTransition(from, back), `${from} → ${back}`);
      }
    }
  });

  it("reaches running from exactly the states isStarting names, and stopping from those and running", () => {
    assert.deepEqual(statesBefore("running"), SERVER_STATES.filter(isStarting));
    assert.deepEqual(
      statesBefore("stopping"),
      SERVER_STATES.filter((s) => isActive(s) && s !== "stopping"),
    );
  });

  it("refuses a set of states any one of which may not move, naming it, with a stable code", () => {
    assert.doesNotThrow(() => assertTransition(["queued", "starting"], "running"));
    assert.throws(
      () => assertTransition(["starting", "stopping"], "failed"),
      (error: unknown) =>
        isSlipwayError(error) &&
        error.code === "internal" &&
        error.details?.["transition"] === "illegal" &&
        error.details["from"] === "stopping" &&
        error.details["to"] === "failed" &&
        /from stopping to failed/.test(error.message),
    );
  });
});
