import { resolve } from "node:path";

/** The repository root. */
export const REPO = resolve(import.meta.dirname, "../..");
/** Where the bench keeps what it installs from npm (gitignored). */
export const DEPS = resolve(REPO, "bench/.deps");
export const RESULTS = resolve(REPO, "bench/results");
export const SLIPWAY_CLI = resolve(REPO, "dist/src/cli.js");
export const CHP5_BIN = resolve(DEPS, "node_modules/configurable-http-proxy/bin/configurable-http-proxy");
/** Debian's configurable-http-proxy 4.5.3 (a dependency of Debian's jupyterhub). */
export const CHP4_BIN = "/usr/bin/configurable-http-proxy";
/** Debian's Node modules, which Debian's CHP needs on NODE_PATH under a Node that is not Debian's. */
export const DEBIAN_NODE_PATH = "/usr/share/nodejs";
export const JUPYTER = "/usr/bin/jupyter";
export const SYSTEM_PYTHON = "/usr/bin/python3";
/** Debian's nginx (package nginx-light), the reference C reverse proxy of the proxy groups. */
export const NGINX_BIN = "/usr/sbin/nginx";
