import { serverPrefix } from "../domain/names.js";
import { isStarting } from "../domain/server-state.js";
import type { ApiToken, Server, User } from "../domain/types.js";

/**
 * The models that leave the server, with JupyterHub's field names. Each presenter lists exactly
 * the fields it sends, so a secret added to a domain type can never leak by accident.
 */
function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

function pending(server: Server): "spawn" | "stop" | null {
  if (isStarting(server.state)) return "spawn";
  if (server.state === "stopping") return "stop";
  return null;
}

/**
 * When the scheduler will end a running server (a batch job's time limit), as ISO time; null when
 * there is no limit or the server does not run. Batch launchers keep it in their state as
 * `endsAt` (epoch seconds) and refresh it while the job runs.
 */
function endsAt(server: Server): string | null {
  if (server.state !== "running") return null;
  const value = server.launcherState["endsAt"];
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0
    ? new Date(value * 1000).toISOString()
    : null;
}

/** `state` (the launcher's pid, job id, ...) is shown only to holders of `admin:server_state`, as in JupyterHub. */
export function serverModel(server: Server, unknownReason?: string, includeState = false) {
  const url = serverPrefix(server.userName, server.name);
  const base =
    server.name === ""
      ? `/hub/api/users/${server.userName}/server`
      : `/hub/api/users/${server.userName}/servers/${server.name}`;
  return {
    name: server.name,
    display_name: server.displayName,
    ready: server.state === "running",
    pending: pending(server),
    stopped: server.state === "stopped" || server.state === "failed",
    url,
    progress_url: `${base}/progress`,
    started: iso(server.startedAt),
    last_activity: iso(server.lastActivity ?? server.startedAt),
    user_options: server.userOptions,
    state: includeState ? server.launcherState : {},
    slipway: {
      state: server.state,
      reason: server.reason,
      target: server.target,
      state_changed: iso(server.stateChangedAt),
      status_unknown: unknownReason ?? null,
      ends_at: endsAt(server),
    },
  };
}

export function userModel(
  user: User,
  servers: readonly Server[],
  includeStopped: boolean,
  includeState = false,
) {
  const visible = includeStopped
    ? servers
    : servers.filter((s) => s.state !== "stopped" && s.state !== "failed");
  const defaultServer = servers.find((s) => s.name === "");
  return {
    kind: "user",
    name: user.name,
    admin: user.admin,
    groups: [] as string[],
    roles: user.admin ? ["admin", "user"] : ["user"],
    server: defaultServer?.state === "running" ? serverPrefix(user.name, "") : null,
    pending: defaultServer ? pending(defaultServer) : null,
    created: iso(user.createdAt),
    last_activity: iso(user.lastActivity),
    servers: Object.fromEntries(visible.map((s) => [s.name, serverModel(s, undefined, includeState)])),
    auth_state: null,
    slipway: { disabled: user.disabled, totp_enrolled: user.totpEnrolled, has_password: user.hasPassword },
  };
}

export function tokenModel(token: ApiToken, userName: string) {
  return {
    id: token.id,
    kind: "api_token",
    user: userName,
    note: token.note,
    scopes: token.scopes,
    roles: [] as string[],
    created: iso(token.createdAt),
    expires_at: iso(token.expiresAt),
    last_activity: iso(token.lastActivity),
    prefix: `slw_${token.prefix}`,
    session_id: null,
    oauth_client: "Slipway",
  };
}
