/**
 * The proxy's two ways of forwarding, as a table for its tests: every case runs once through a
 * front door with the fast path and once through one without it, and must get the same answer
 * and put the same bytes on the user's server either way.
 */
import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import type { ServerTarget } from "../domain/types.js";
import type { FrontDoorServerOptions } from "./front-door-server.js";
import type { ProxyOptions } from "./proxy-options.js";
import { route, startBackend, startGateway, type Backend, type Gateway } from "./proxy-test-fixture.js";

export interface ProxyPath {
  /** How a suite's title names it. */
  readonly name: string;
  /** `door.fastPath` for `startGateway`. */
  readonly fastPath: boolean;
}

export const BOTH_PATHS: readonly ProxyPath[] = [
  { name: "on the fast path", fastPath: true },
  { name: "through node:http only", fastPath: false },
];

/** A suite that has not finished by then has hung (a response awaited forever): it fails. */
const SUITE_TIMEOUT = 60_000;

/** Declares `suite` once per path, as `describe(`${title} ${path.name}`)`. */
export function describeOnBothPaths(title: string, suite: (path: ProxyPath) => void): void {
  for (const path of BOTH_PATHS)
    describe(`${title} ${path.name}`, { timeout: SUITE_TIMEOUT }, () => suite(path));
}

/**
 * Checks that the `forwarded` requests sent since `mark` (an earlier `gateway.nodeHttp.length`)
 * took the path the suite names: the fast path parsed them itself, or `node:http` did. Without
 * it a case could pass on the fast path's front door only because the fast path handed it off.
 */
export function assertTookPath(path: ProxyPath, gateway: Gateway, mark: number, forwarded = 1): void {
  assert.equal(
    gateway.nodeHttp.length - mark,
    path.fastPath ? 0 : forwarded,
    `the requests did not go ${path.name}: node:http parsed ${JSON.stringify(gateway.nodeHttp.slice(mark))}`,
  );
}

/** A stand-in for a user's server, of either fixture. */
interface TestServer {
  readonly target: ServerTarget;
  close(): Promise<void>;
}

/** A suite's gateway and the server behind it, there from the suite's `before` hook on. */
export interface Served<S> {
  readonly gateway: Gateway;
  readonly server: S;
}

export interface ServeOptions {
  readonly proxy?: Partial<ProxyOptions>;
  readonly server?: FrontDoorServerOptions;
  /** Whose default server routes to the stand-in (route ids 1, 2, …). Default alice's. */
  readonly owners?: readonly string[];
}

/**
 * Registers the hooks of a suite on `path`: before it, `start` a stand-in and a gateway whose
 * routes for `owners` go to it; after it, close both.
 */
export function serveOnPath<S extends TestServer>(
  path: ProxyPath,
  start: () => Promise<S>,
  options: ServeOptions = {},
): Served<S> {
  let gateway: Gateway | undefined;
  let server: S | undefined;
  before(async () => {
    server = await start();
    gateway = await startGateway(options.proxy, { fastPath: path.fastPath, server: options.server });
    for (const [i, owner] of (options.owners ?? ["alice"]).entries())
      gateway.proxy.routes.setRoute(route(i + 1, owner, "", server.target));
  });
  after(async () => {
    await gateway?.close();
    await server?.close();
  });
  return {
    get gateway(): Gateway {
      if (gateway === undefined) throw new Error("the suite has not started");
      return gateway;
    },
    get server(): S {
      if (server === undefined) throw new Error("the suite has not started");
      return server;
    },
  };
}

/** A suite's gateway and one Jupyter stand-in per route, by the names the suite gave them. */
export interface ServedRoutes<K extends string> {
  readonly gateway: Gateway;
  /** The stand-in behind the route the suite named `name`. */
  server(name: K): Backend;
}

/**
 * Registers the hooks of a suite on `path` with a Jupyter stand-in (`startBackend`) of its own
 * for each route (`[owner, serverName]`, ids 1, 2, … in order), and closes them all after it.
 */
export function serveRoutesOnPath<K extends string>(
  path: ProxyPath,
  routes: Readonly<Record<K, readonly [owner: string, serverName: string]>>,
): ServedRoutes<K> {
  let gateway: Gateway | undefined;
  const servers = new Map<string, Backend>();
  before(async () => {
    gateway = await startGateway({}, { fastPath: path.fastPath });
    for (const [i, [name, [owner, serverName]]] of Object.entries<readonly [string, string]>(
      routes,
    ).entries()) {
      const server = await startBackend();
      servers.set(name, server);
      gateway.proxy.routes.setRoute(route(i + 1, owner, serverName, server.target));
    }
  });
  after(async () => {
    await gateway?.close();
    for (const server of servers.values()) await server.close();
  });
  return {
    get gateway(): Gateway {
      if (gateway === undefined) throw new Error("the suite has not started");
      return gateway;
    },
    server(name: K): Backend {
      const server = servers.get(name);
      if (server === undefined) throw new Error(`no stand-in named ${name} has started`);
      return server;
    },
  };
}
