import type { ColumnType, Generated } from "kysely";

/*
 * The tables as Kysely sees them, for both dialects at once. Where the dialects store a value
 * differently the column type is the union of both; the dialect traits produce what is written
 * and the column decoders turn what is read back into domain values.
 */

/** A point in time: integer milliseconds on SQLite, timestamptz (read back as a Date) on PostgreSQL. */
export type TimeValue = Date | number;
/** 0/1 on SQLite, boolean on PostgreSQL. */
export type BoolValue = boolean | number;
/** Written as JSON text; read back as text (SQLite) or already parsed (PostgreSQL jsonb). */
export type JsonColumn = ColumnType<unknown, string, string>;

export interface UsersTable {
  id: Generated<number>;
  name: string;
  admin: BoolValue;
  disabled: BoolValue;
  created_at: TimeValue;
  last_activity: TimeValue | null;
  password_hash: string | null;
  totp_secret_sealed: string | null;
  totp_last_step: ColumnType<number | string | null, number | null, number | null>;
  zone: ColumnType<string, string | undefined, string>;
  display_name: string | null;
  email: string | null;
}

export interface SessionsTable {
  id_hash: string;
  user_id: number;
  stage: string;
  xsrf_token: string;
  created_at: TimeValue;
  last_seen_at: TimeValue;
  expires_at: TimeValue;
  auth_kind: string | null;
  idp_issuer: string | null;
  idp_subject: string | null;
  idp_session: string | null;
  auth_state_sealed: string | null;
}

export interface UserIdentitiesTable {
  issuer: string;
  subject: string;
  user_id: number;
  created_at: TimeValue;
}

export interface GroupsTable {
  id: Generated<number>;
  name: string;
  description: string;
  created_at: TimeValue;
}

export interface GroupMembersTable {
  group_id: number;
  user_id: number;
  /** "admin" or "idp". */
  source: string;
}

export interface SignInStatesTable {
  handle_hash: string;
  state_sealed: string;
  expires_at: TimeValue;
}

export interface UsedTokenIdsTable {
  key: string;
  expires_at: TimeValue;
}

export interface AuditEventsTable {
  id: ColumnType<number | string, never, never>;
  at: TimeValue;
  kind: string;
  actor: string | null;
  subject: string | null;
  reason: string | null;
  address: string | null;
  details: JsonColumn;
}

export interface ApiTokensTable {
  id: string;
  user_id: number;
  hash: string;
  prefix: string;
  note: string;
  scopes: JsonColumn;
  created_at: TimeValue;
  expires_at: TimeValue | null;
  last_activity: TimeValue | null;
}

export interface SetupLinksTable {
  hash: string;
  user_id: number;
  created_at: TimeValue;
  expires_at: TimeValue;
  used_at: TimeValue | null;
}

export interface ServersTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  display_name: string;
  state: string;
  reason: string | null;
  user_options: JsonColumn;
  target: string;
  launcher_state: JsonColumn;
  attempt_id: string | null;
  /** Where the running server is reached: a `ServerTarget` as JSON. */
  endpoint: JsonColumn | null;
  token_sealed: string | null;
  created_at: TimeValue;
  started_at: TimeValue | null;
  state_changed_at: TimeValue;
  last_activity: TimeValue | null;
  version: number;
  /** The seq of the server's latest event; bumping it serialises appends per server. */
  event_seq: number;
}

export interface ServerEventsTable {
  server_id: number;
  seq: number;
  at: TimeValue;
  state: string;
  progress: number;
  message: string;
}

export interface ThrottleTable {
  key: string;
  failures: number;
  last_failure_at: TimeValue;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  setup_links: SetupLinksTable;
  servers: ServersTable;
  server_events: ServerEventsTable;
  throttle: ThrottleTable;
  user_identities: UserIdentitiesTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  sign_in_states: SignInStatesTable;
  used_token_ids: UsedTokenIdsTable;
  audit_events: AuditEventsTable;
}
