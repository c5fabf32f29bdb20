import { SlipwayError } from "../domain/errors.js";
import { SERVER_STATES, type ServerState } from "../domain/server-state.js";
import type { JsonObject, JsonValue, ServerTarget, SessionStage, UserZone } from "../domain/types.js";
import type { BoolValue, TimeValue } from "./database.js";

/*
 * Turn what a driver hands back into domain values, checking it on the way: a row that does not
 * decode is a corrupt or foreign database, reported as an internal error naming the column.
 */

function corrupt(column: string): SlipwayError {
  return new SlipwayError("internal", `The stored value of ${column} is not valid.`);
}

export function decodeTime(value: TimeValue, column: string): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw corrupt(column);
  return date;
}

export function decodeOptionalTime(value: TimeValue | null, column: string): Date | null {
  return value === null ? null : decodeTime(value, column);
}

export function decodeBool(value: BoolValue, column: string): boolean {
  if (value === true || value === 1) return true;
  if (value === false || value === 0) return false;
  throw corrupt(column);
}

/** Counts and 64-bit columns: PostgreSQL returns them as decimal strings. */
export function decodeInteger(value: number | string | bigint, column: string): number {
  if (typeof value === "string" && !/^-?\d+$/.test(value)) throw corrupt(column);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw corrupt(column);
  return n;
}

export function decodeOptionalInteger(value: number | string | bigint | null, column: string): number | null {
  return value === null ? null : decodeInteger(value, column);
}

function parseJson(value: unknown, column: string): unknown {
  // jsonb arrives parsed; text (SQLite) arrives as the JSON it was written as.
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    throw corrupt(column);
  }
}

function isJsonValue(value: unknown): value is JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonValue);
  return isJsonObject(value);
}

function isJsonObject(value: unknown): value is JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.values(value).every(isJsonValue);
}

export function decodeJsonObject(value: unknown, column: string): JsonObject {
  const parsed = parseJson(value, column);
  if (!isJsonObject(parsed)) throw corrupt(column);
  return parsed;
}

export function decodeStringArray(value: unknown, column: string): string[] {
  const parsed = parseJson(value, column);
  if (!Array.isArray(parsed)) throw corrupt(column);
  const out: string[] = [];
  for (const item of parsed) {
    if (typeof item !== "string") throw corrupt(column);
    out.push(item);
  }
  return out;
}

export function decodeServerState(value: string, column: string): ServerState {
  const state = SERVER_STATES.find((s) => s === value);
  if (state === undefined) throw corrupt(column);
  return state;
}

const SESSION_STAGES = ["totp", "enrol", "full"] as const satisfies readonly SessionStage[];

export function decodeSessionStage(value: string, column: string): SessionStage {
  const stage = SESSION_STAGES.find((s) => s === value);
  if (stage === undefined) throw corrupt(column);
  return stage;
}

const ZONES: readonly UserZone[] = ["internal", "external"];

export function decodeZone(value: string, column: string): UserZone {
  const zone = ZONES.find((z) => z === value);
  if (zone === undefined) throw corrupt(column);
  return zone;
}

export function decodeServerTarget(value: unknown, column: string): ServerTarget {
  const o = decodeJsonObject(value, column);
  if (o["kind"] === "unix" && typeof o["socket"] === "string") return { kind: "unix", socket: o["socket"] };
  const { host, port, certificate } = o;
  if (
    o["kind"] === "tls" &&
    typeof host === "string" &&
    typeof port === "number" &&
    Number.isInteger(port) &&
    typeof certificate === "string"
  ) {
    return { kind: "tls", host, port, certificate };
  }
  throw corrupt(column);
}
