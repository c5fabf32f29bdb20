import type { ServerState } from "./server-state.js";

/**
 * Whose account it is, for policy: `internal` is one of the centre's own (a Unix account on its
 * machines), `external` a guest from a federation, kept in a container without host files and
 * never offered a host shell.
 */
export type UserZone = "internal" | "external";

export interface User {
  readonly id: number;
  readonly name: string;
  readonly admin: boolean;
  readonly zone: UserZone;
  readonly displayName: string | null;
  readonly email: string | null;
  readonly disabled: boolean;
  readonly createdAt: Date;
  readonly lastActivity: Date | null;
  readonly totpEnrolled: boolean;
  readonly hasPassword: boolean;
}

/** Secret material of a local account; never leaves the identity service. */
export interface UserCredentials {
  readonly userId: number;
  readonly passwordHash: string | null;
  /** TOTP seed sealed with the hub's secret key (never stored in the clear). */
  readonly totpSecretSealed: string | null;
  /** The last TOTP time step that was accepted, so a code works once. */
  readonly totpLastStep: number | null;
}

export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/**
 * Where the proxy reaches a server: only over a channel that someone other than the server's owner
 * could not have taken over (invariant 9). A port number alone proves nothing, so there is no
 * plain TCP target.
 */
export type ServerTarget = SocketTarget | TlsTarget;

/** A Unix socket in a directory that only the server's owner (or root) can write to. */
export interface SocketTarget {
  readonly kind: "unix";
  readonly socket: string;
}

/**
 * TCP to another host, over TLS with a key made for this launch alone: the proxy trusts exactly
 * `certificate` (PEM), which only the holder of the launch's private key can present.
 */
export interface TlsTarget {
  readonly kind: "tls";
  readonly host: string;
  readonly port: number;
  readonly certificate: string;
}

/** For logs and pool keys: never the certificate, never anything secret. */
export function describeTarget(target: ServerTarget): string {
  return target.kind === "unix" ? `unix:${target.socket}` : `tls://${target.host}:${target.port}`;
}

export function sameTarget(a: ServerTarget, b: ServerTarget): boolean {
  if (a.kind === "unix") return b.kind === "unix" && a.socket === b.socket;
  return b.kind === "tls" && a.host === b.host && a.port === b.port && a.certificate === b.certificate;
}

export interface Server {
  readonly id: number;
  readonly userId: number;
  readonly userName: string;
  /** "" for the default server. */
  readonly name: string;
  readonly displayName: string;
  readonly state: ServerState;
  /** Why the server is in its state (failed/stopped reason, or pending detail). */
  readonly reason: string | null;
  readonly userOptions: JsonObject;
  /** Name of the configured target (local pool, cluster) that runs it. */
  readonly target: string;
  /** Opaque launcher state (pid, job id, ...), persisted as soon as it is known. */
  readonly launcherState: JsonObject;
  /** Id of the current launch attempt; also put on the process or job so it can be found again. */
  readonly attemptId: string | null;
  /** Where a running server is reached. */
  readonly endpoint: ServerTarget | null;
  /** The Jupyter server's token, sealed with the hub's secret key. */
  readonly tokenSealed: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly stateChangedAt: Date;
  readonly lastActivity: Date | null;
  /** Bumped on every write; a compare-and-set guard for concurrent replicas. */
  readonly version: number;
}

export interface ServerEvent {
  readonly serverId: number;
  readonly seq: number;
  readonly at: Date;
  readonly state: ServerState;
  readonly progress: number;
  readonly message: string;
}

/** Where a session is in the sign-in flow. */
export type SessionStage = "totp" | "enrol" | "full";

export interface Session {
  /** SHA-256 of the session id; the id itself only ever lives in the cookie. */
  readonly idHash: string;
  readonly userId: number;
  readonly stage: SessionStage;
  readonly xsrfToken: string;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly expiresAt: Date;
  /** How it was signed in ("local", "oidc", "header"), and the provider's names for it. */
  readonly auth?: SessionAuth;
}

/** What a session remembers of the method that signed it in. */
export interface SessionAuth {
  readonly kind: string;
  readonly idpIssuer?: string;
  readonly idpSubject?: string;
  readonly idpSession?: string;
  /** Sealed with the hub's key (the ID token for id_token_hint); never shown or logged. */
  readonly stateSealed?: string;
}

export interface ApiToken {
  /** Public identifier (shown in lists, used in URLs). */
  readonly id: string;
  readonly userId: number;
  /** First characters of the token, to recognise it in a list. */
  readonly prefix: string;
  readonly note: string;
  readonly scopes: readonly string[];
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastActivity: Date | null;
}
