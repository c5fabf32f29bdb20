import { serverPrefix } from "../domain/names.js";
import type { Principal } from "../domain/principal.js";
import { isStarting, type ServerState } from "../domain/server-state.js";
import type { ApiToken, Server, User } from "../domain/types.js";
import type { Membership } from "../services/groups-service.js";

/**
 * The models that leave the server, with JupyterHub's field names. Each presenter lists exactly
 * the fields it sends, so a secret added to a domain type can never leak by accident.
 */
function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

function isStopped(state: ServerState): boolean {
  return state === "stopped" || state === "failed";
}

/** The server's progress stream (server-sent events) in the REST API. */
function progressUrl(server: Pick<Server, "userName" | "name">): string {
  return server.name === ""
    ? `/hub/api/users/${server.userName}/server/progress`
    : `/hub/api/users/${server.userName}/servers/${server.name}/progress`;
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
function endsAt(server: Pick<Server, "state" | "launcherState">): string | null {
  if (server.state !== "running") return null;
  const value = server.launcherState["endsAt"];
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0
    ? new Date(value * 1000).toISOString()
    : null;
}

/** `state` (the launcher's pid, job id, ...) is shown only to holders of `admin:server_state`, as in JupyterHub. */
export function serverModel(server: Server, unknownReason?: string, includeState = false) {
  return {
    name: server.name,
    display_name: server.displayName,
    ready: server.state === "running",
    pending: pending(server),
    stopped: isStopped(server.state),
    url: serverPrefix(server.userName, server.name),
    progress_url: progressUrl(server),
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

/**
 * JupyterHub's user model. `groups` are the names of the user's groups (JupyterHub lists them
 * too); the Slipway-only facts sit under `slipway`, as they do in the server model.
 */
export function userModel(
  user: User,
  servers: readonly Server[],
  includeStopped: boolean,
  more: { readonly includeState?: boolean; readonly groups?: readonly string[] } = {},
) {
  const visible = includeStopped
    ? servers
    : servers.filter((s) => s.state !== "stopped" && s.state !== "failed");
  const defaultServer = servers.find((s) => s.name === "");
  return {
    kind: "user",
    name: user.name,
    admin: user.admin,
    groups: [...(more.groups ?? [])],
    roles: user.admin ? ["admin", "user"] : ["user"],
    server: defaultServer?.state === "running" ? serverPrefix(user.name, "") : null,
    pending: defaultServer ? pending(defaultServer) : null,
    created: iso(user.createdAt),
    last_activity: iso(user.lastActivity),
    servers: Object.fromEntries(
      visible.map((s) => [s.name, serverModel(s, undefined, more.includeState ?? false)]),
    ),
    auth_state: null,
    slipway: {
      disabled: user.disabled,
      totp_enrolled: user.totpEnrolled,
      has_password: user.hasPassword,
      zone: user.zone,
      display_name: user.displayName,
      email: user.email,
    },
  };
}

/** `GET /hub/api/user`: the caller, and the scopes its credential holds. */
export function currentUserModel(
  principal: Principal,
  servers: readonly Server[],
  groups: readonly string[] = [],
) {
  return {
    ...userModel(principal.user, servers, true, { groups }),
    scopes: [...principal.scopes].sort(),
    session_id: null,
  };
}

/** The one-time link with which a user sets a password; the token in it is shown only here. */
export function setupLinkModel(publicOrigin: string, setupToken: string) {
  return { setup_url: `${publicOrigin}/hub/setup/${setupToken}` };
}

/** A user just created: no servers yet, and the set-up link. */
export function newUserModel(user: User, publicOrigin: string, setupToken: string | null) {
  return {
    ...userModel(user, [], false),
    ...(setupToken !== null && setupLinkModel(publicOrigin, setupToken)),
  };
}

/**
 * JupyterHub's group model. `properties` and `roles` are always empty here: Slipway keeps neither.
 * `slipway.idp_users` are the members whose membership the identity provider sets at sign-in.
 */
export function groupModel(group: { readonly name: string; readonly members: readonly Membership[] }) {
  return {
    kind: "group",
    name: group.name,
    users: group.members.map((m) => m.user),
    properties: {},
    roles: [] as string[],
    slipway: { idp_users: group.members.filter((m) => m.source === "idp").map((m) => m.user) },
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

/** The page with the last lines of a batch job's output. */
export function logPagePath(server: Pick<Server, "userName" | "name">): string {
  return `/hub/log/${server.userName}${server.name ? `/${server.name}` : ""}`;
}

/** The fields of a server that the pages show. */
export type ServerViewSource = Pick<
  Server,
  "userName" | "name" | "displayName" | "state" | "reason" | "target" | "launcherState"
>;

/** A default server that was never created: the home page still lists it, ready to start. */
export function absentDefaultServer(userName: string): ServerViewSource {
  return {
    userName,
    name: "",
    displayName: "",
    state: "stopped",
    reason: null,
    target: "",
    launcherState: {},
  };
}

const STATE_WORDS: Record<ServerState, string> = {
  requested: "requested",
  submitting: "starting",
  queued: "queued",
  starting: "starting",
  running: "running",
  stopping: "stopping",
  stopped: "stopped",
  failed: "failed",
};

/**
 * What the pages show of a server (a row of the home page, the progress page): the same facts as
 * the server model, worded for people, with what may be done to it.
 */
export function serverView(server: ServerViewSource, status: { unknownReason?: string; hasLog: boolean }) {
  const stopped = isStopped(server.state);
  return {
    name: server.name,
    label: server.name === "" ? "Default server" : server.displayName || server.name,
    state: server.state,
    stateWord: STATE_WORDS[server.state],
    /** Why the scheduler's answer is missing; null when it answers. */
    statusUnknown: status.unknownReason ?? null,
    /** The reason for a state other than running (a failure, what a launch waits for). */
    reason: server.state === "running" ? "" : (server.reason ?? ""),
    endsAt: endsAt(server),
    url: serverPrefix(server.userName, server.name),
    target: server.target,
    progressUrl: progressUrl(server),
    progressPage: `/hub/spawn-pending/${server.userName}/${server.name}`,
    logPage: logPagePath(server),
    hasLog: status.hasLog,
    canOpen: server.state === "running",
    canStart: stopped,
    canStop: !stopped,
    /** Starting or stopping: its progress is worth watching. */
    changing: !stopped && server.state !== "running",
    canDelete: server.name !== "",
  };
}

export type ServerView = ReturnType<typeof serverView>;
