import { SlipwayError } from "./errors.js";

/** Unix-compatible user names: they become Unix accounts in multi-user mode. */
const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,31}$/;
/** JupyterHub 6's named-server pattern. */
const SERVER_NAME = /^[a-z][a-z0-9-]{0,29}$/;

/**
 * Names that a named server may not take, because `/user/<name>/<server>/` would then hide
 * a path of the same user's default server (`/user/alice/api/...` is the default server's API).
 */
export const RESERVED_SERVER_NAMES: ReadonlySet<string> = new Set([
  "api",
  "apps",
  "custom",
  "doc",
  "edit",
  "extensions",
  "files",
  "hub",
  "kernelspecs",
  "lab",
  "login",
  "logout",
  "lsp",
  "metrics",
  "nbconvert",
  "nbextensions",
  "notebooks",
  "oauth-callback",
  "proxy",
  "retro",
  "static",
  "terminals",
  "tree",
  "view",
  "voila",
]);

export function isValidUserName(name: string): boolean {
  return USER_NAME.test(name) && name !== "." && name !== "..";
}

export function assertUserName(name: string): string {
  if (!isValidUserName(name)) throw new SlipwayError("invalid_user_name");
  return name;
}

export function assertServerName(name: string): string {
  if (name === "") return name;
  if (!SERVER_NAME.test(name)) throw new SlipwayError("invalid_server_name");
  if (RESERVED_SERVER_NAMES.has(name)) throw new SlipwayError("reserved_server_name");
  return name;
}

/** The URL prefix of a server: `/user/alice/` for the default server, `/user/alice/gpu/` for a named one. */
export function serverPrefix(userName: string, serverName: string): string {
  return serverName === "" ? `/user/${userName}/` : `/user/${userName}/${serverName}/`;
}
