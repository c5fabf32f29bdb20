import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { tryWebsocket } from "../support/jupyter-kernel.js";
import { startServer } from "../support/start-server.js";
import { removeDir, startTestHub, userSocketDir, type TestHub } from "../support/test-hub.js";

/** The helper must be readable by alice and bob: `make test` stages a world-readable build. */
const stage = process.env["SLIPWAY_TEST_STAGE_DIR"];
const helper = stage ? join(stage, "dist/src/helper/cli.js") : undefined;

function unixUid(name: string): number | undefined {
  try {
    return Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
  } catch {
    return undefined;
  }
}

const missing =
  process.getuid?.() !== 0
    ? "it needs root to run servers as other Unix users"
    : unixUid("alice") === undefined || unixUid("bob") === undefined
      ? "the Unix users alice and bob do not exist (scripts/test-users.sh creates them)"
      : !helper || !existsSync(helper)
        ? "no staged helper (set SLIPWAY_TEST_STAGE_DIR; `make test` does)"
        : undefined;
if (missing && process.env["CI"]) throw new Error(`multi-user suite cannot run in CI: ${missing}`);

interface UserModel {
  servers: Record<
    string,
    { state: { pid?: number; socket?: string; serverId?: number }; slipway: { state: string } }
  >;
}

/**
 * Waits for something another process does, for which the API offers no event (the server's
 * progress stream ends once it runs), checking every 50 ms for at most 20 s.
 */
async function until(check: () => Promise<boolean>, failure: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(failure);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("servers as real Unix users", { skip: missing ? `Skipped: ${missing}.` : false }, () => {
  let hub: TestHub;
  let admin: SignedIn;
  let alice: SignedIn;
  let bob: SignedIn;
  let adminToken: string;
  let aliceToken: string;
  let bobToken: string;

  const as = (token: string, method: string, path: string) =>
    fetch(hub.url + path, { method, headers: { authorization: `token ${token}` }, redirect: "manual" });

  before(async () => {
    hub = await startTestHub(
      // The monitor's poll is an hour away: only the proxy's watch of the route can notice an exit.
      { servers: { runAs: "user", helper, workDir: "~", socketDir: userSocketDir(), pollInterval: 3600 } },
      { name: "multi-user" },
    );
    admin = await firstAdmin(hub, "root-admin");
    alice = await addUser(hub, admin.client, "alice");
    bob = await addUser(hub, admin.client, "bob");
    adminToken = await apiToken(admin);
    aliceToken = await apiToken(alice);
    bobToken = await apiToken(bob);
  });

  after(async () => {
    await as(aliceToken, "DELETE", "/hub/api/users/alice/server").catch(() => undefined);
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("runs alice's server as alice's Unix account", async () => {
    await startServer(hub.url, aliceToken, "alice");
    const model = (await (await as(adminToken, "GET", "/hub/api/users/alice")).json()) as UserModel;
    const pid = model.servers[""]?.state.pid;
    assert.ok(typeof pid === "number");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    assert.equal(Number(uids?.[1]), unixUid("alice"), "real uid");
    assert.equal(Number(uids?.[2]), unixUid("alice"), "effective uid");
    const contents = await as(aliceToken, "GET", "/user/alice/api/contents");
    assert.equal(contents.status, 200);
  });

  it("gives bob 403 for every spelling of alice's paths, over HTTP and websocket", async () => {
    const paths = [
      "/user/alice/api/contents",
      "/user/alice/tree",
      "/user/bob/..%2F..%2Fuser/alice/api/contents",
      "/user/bob%2F..%2Falice/api/contents",
      "/user/./alice/api/contents",
      "//user/alice/api/contents",
      "/USER/alice/api/contents",
    ];
    const credentials: Record<string, string>[] = [
      { authorization: `token ${bobToken}` },
      { cookie: bob.client.cookieHeader(), accept: "application/json" },
    ];
    for (const path of paths) {
      for (const headers of credentials) {
        const res = await fetch(hub.url + path, { headers, redirect: "manual" });
        assert.ok([400, 403, 404].includes(res.status), `${path}: ${res.status}`);
      }
    }
    const direct = await fetch(`${hub.url}/user/alice/api/contents`, { headers: credentials[0] });
    assert.equal(direct.status, 403, "the plain path is refused with 403, not hidden");
    const ws = `${hub.url.replace("http", "ws")}/user/alice/api/kernels/x/channels`;
    assert.equal(await tryWebsocket(ws, { authorization: `token ${bobToken}` }), 403);
    assert.equal(await tryWebsocket(ws, { cookie: bob.client.cookieHeader(), origin: hub.url }), 403);
  });

  it("keeps alice's server files private to alice", () => {
    const home = execFileSync("getent", ["passwd", "alice"], { encoding: "utf8" }).split(":")[5] ?? "";
    const servers = join(home, ".slipway", "servers");
    assert.ok(existsSync(servers));
    assert.throws(
      () => execFileSync("sudo", ["-n", "-u", "bob", "ls", servers], { stdio: "pipe" }),
      /Permission denied/,
      "bob must not list alice's server folders",
    );
  });

  it("gives nobody else alice's traffic when her server exits by itself, and stops it at once", async () => {
    await startServer(hub.url, aliceToken, "alice", "crash");
    const model = (await (await as(adminToken, "GET", "/hub/api/users/alice")).json()) as UserModel;
    const { pid, socket, serverId } = model.servers["crash"]?.state ?? {};
    assert.ok(typeof pid === "number" && typeof socket === "string", "the server has a process and a socket");
    const home = execFileSync("getent", ["passwd", "alice"], { encoding: "utf8" }).split(":")[5] ?? "";

    // The OOM killer, a crash or Jupyter's Quit: the process is gone, its socket file stays behind.
    process.kill(pid, "SIGKILL");

    // bob tries to take the server's place: a socket of his at the same path, or his own
    // directory in its place. Both need to write where only alice (or root) may.
    const asBob = (...argv: string[]) =>
      execFileSync("sudo", ["-n", "-u", "bob", "--", ...argv], { stdio: "pipe" });
    const bind = (path: string) =>
      `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(path)}); s.listen()`;
    assert.throws(() => asBob("python3", "-c", bind(socket)), /Permission denied|Address already in use/);
    assert.throws(() => asBob("rm", "-rf", join(socket, "..")), /Operation not permitted|Permission denied/);

    // The hub stops the server without waiting for its next poll (an hour away) and without a
    // request having failed first: the proxy's idle connection to it closed when it died.
    const stateOf = async () => {
      const now = (await (await as(adminToken, "GET", "/hub/api/users/alice")).json()) as UserModel;
      return now.servers["crash"]?.slipway.state ?? "stopped";
    };
    await until(async () => (await stateOf()) === "stopped", "the server was not marked stopped");

    // What the dead server left (its token, its socket) is removed right after.
    const dir = join(
      home,
      ".slipway",
      "servers",
      readdirSync(join(home, ".slipway", "servers")).find((d) => d.endsWith(`-${serverId}`)) ?? "",
    );
    await until(
      async () => !existsSync(join(dir, "jupyter_config.json")) && !existsSync(join(socket, "..")),
      "the dead server's token file or socket directory stayed behind",
    );
    assert.equal(existsSync(join(dir, "runtime")), false, "Jupyter's runtime files stayed behind");
  });
});
