import type { IncomingMessage } from "node:http";
import { TLSSocket } from "node:tls";
import { HubCookies } from "./hub-cookies.js";

export interface HeaderRewriterOptions {
  /** Cookies of the hub (session, XSRF): the user's server must never see them. */
  readonly hubCookieNames: readonly string[];
  /**
   * Keep the client's `X-Forwarded-*`/`Forwarded` and append to `X-Forwarded-For`: only when
   * a front proxy that overwrites them is the sole peer.
   */
  readonly trustForwarded: boolean;
  /**
   * Headers by which a front door names the user to the hub (`X-Remote-User`, groups, zone),
   * lower-case: a user's server must not see them (nor take a copy as the truth), so they are
   * dropped, in their `_` spellings too.
   */
  readonly identityHeaders?: readonly string[];
}

/** Front-door identity headers dropped whatever the configuration says. */
const DEFAULT_IDENTITY_HEADERS = ["x-remote-user", "remote-user", "x-remote-groups", "x-remote-zone"];

/** Headers for the request to the user's server, as a flat `rawHeaders`-style list. */
export interface ForwardHeaders {
  readonly list: string[];
  readonly hasBody: boolean;
}

// What to do with a request header, by lower-case name. Anything not listed passes through.
const DROP = 1;
const HOST = 2;
const COOKIE = 3;
const CONNECTION = 4;
const UPGRADE = 5;
const CONTENT_LENGTH = 6;
const TRANSFER_ENCODING = 7;
const FORWARDED_FOR = 8;
const FORWARDED_PROTO = 9;
const FORWARDED_HOST = 10;
const FORWARDED_PORT = 11;
const FORWARDED = 12;

const REQUEST_HEADERS: ReadonlyMap<string, number> = new Map([
  // Hop-by-hop (RFC 9110 7.6.1) and proxy credentials.
  ["keep-alive", DROP],
  ["proxy-connection", DROP],
  ["proxy-authorization", DROP],
  ["te", DROP],
  ["trailer", DROP],
  ["http2-settings", DROP],
  // Node has already answered `100-continue` to the client; the body follows regardless.
  ["expect", DROP],
  // The caller's hub credential; the server's own token replaces it.
  ["authorization", DROP],
  ["host", HOST],
  ["cookie", COOKIE],
  ["connection", CONNECTION],
  ["upgrade", UPGRADE],
  ["content-length", CONTENT_LENGTH],
  ["transfer-encoding", TRANSFER_ENCODING],
  ["x-forwarded-for", FORWARDED_FOR],
  ["x-forwarded-proto", FORWARDED_PROTO],
  ["x-forwarded-host", FORWARDED_HOST],
  ["x-forwarded-port", FORWARDED_PORT],
  ["forwarded", FORWARDED],
]);

const RESPONSE_HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

const CONTENT_LENGTH_ONLY: ReadonlySet<string> = new Set(["content-length"]);

/** `Connection` tokens that are not header names. */
const CONNECTION_OPTIONS: ReadonlySet<string> = new Set(["keep-alive", "close", "upgrade", ""]);

function portOf(host: string, https: boolean): string {
  const colon = host.lastIndexOf(":");
  // An IPv6 literal is bracketed; a colon inside the brackets is not a port separator.
  if (colon > host.lastIndexOf("]")) return host.slice(colon + 1);
  return https ? "443" : "80";
}

/** Header names a `Connection` header declares hop-by-hop, beyond the usual options. */
function connectionHeaderNames(value: string): Set<string> | undefined {
  // Nearly every request says just `keep-alive` (or `Upgrade`): skip the split.
  if (value.length <= 10 && CONNECTION_OPTIONS.has(value.toLowerCase())) return undefined;
  let names: Set<string> | undefined;
  for (const token of value.split(",")) {
    const name = token.trim().toLowerCase();
    if (CONNECTION_OPTIONS.has(name)) continue;
    names ??= new Set();
    names.add(name);
  }
  return names;
}

function withoutNames(list: string[], names: ReadonlySet<string>): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i];
    const value = list[i + 1];
    if (name === undefined || value === undefined || names.has(name.toLowerCase())) continue;
    kept.push(name, value);
  }
  return kept;
}

/** `list` without the headers named in a message's `Connection` headers (joined), if any. */
function withoutConnectionNames(list: string[], connection: string | undefined): string[] {
  if (connection === undefined) return list;
  const named = connectionHeaderNames(connection);
  return named === undefined ? list : withoutNames(list, named);
}

/**
 * What {@link HeaderRewriter.rewriteRequest} reads from a request's headers besides those it
 * keeps. One per rewriter, reset on each call (which runs to its end without yielding), so that
 * a request costs no object beyond its header list and the answer.
 */
class RequestHeadersSeen {
  host: string | undefined;
  connection: string | undefined;
  upgradeProtocol: string | undefined;
  forwardedFor: string | undefined;
  /** Bit set of trusted X-Forwarded-Proto/Host/Port headers the client sent. */
  trustedSeen = 0;
  hasBody = false;
  chunked = false;
  contentLength = false;

  reset(): void {
    this.host = undefined;
    this.connection = undefined;
    this.upgradeProtocol = undefined;
    this.forwardedFor = undefined;
    this.trustedSeen = 0;
    this.hasBody = false;
    this.chunked = false;
    this.contentLength = false;
  }
}

/** A client's `X-Forwarded-*` or `Forwarded` header, from a front proxy that is trusted. */
function keepTrustedForwarded(
  kind: number,
  name: string,
  value: string,
  list: string[],
  seen: RequestHeadersSeen,
): void {
  if (kind === FORWARDED_FOR) {
    seen.forwardedFor = seen.forwardedFor === undefined ? value : `${seen.forwardedFor}, ${value}`;
    return;
  }
  if (kind !== FORWARDED) seen.trustedSeen |= 1 << (kind - FORWARDED_PROTO);
  list.push(name, value);
}

/** The `X-Forwarded-*` headers the proxy adds where a trusted front proxy has not set them. */
function addForwarded(
  list: string[],
  seen: RequestHeadersSeen,
  peer: string | undefined,
  https: boolean,
): void {
  const { forwardedFor, host, trustedSeen } = seen;
  if (peer !== undefined) {
    list.push("X-Forwarded-For", forwardedFor === undefined ? peer : `${forwardedFor}, ${peer}`);
  }
  if ((trustedSeen & 1) === 0) list.push("X-Forwarded-Proto", https ? "https" : "http");
  if (host !== undefined) {
    if ((trustedSeen & 2) === 0) list.push("X-Forwarded-Host", host);
    if ((trustedSeen & 4) === 0) list.push("X-Forwarded-Port", portOf(host, https));
  }
}

/**
 * Rewrites headers between the client and a user's server. Works on `rawHeaders` so that
 * names keep their case and repeated headers stay repeated, without building header objects.
 */
export class HeaderRewriter {
  private readonly hubCookies: HubCookies;
  private readonly trustForwarded: boolean;
  private readonly identityHeaders: ReadonlySet<string>;
  private readonly seen = new RequestHeadersSeen();

  constructor(options: HeaderRewriterOptions) {
    this.hubCookies = new HubCookies(options.hubCookieNames);
    this.trustForwarded = options.trustForwarded;
    this.identityHeaders = new Set([...DEFAULT_IDENTITY_HEADERS, ...(options.identityHeaders ?? [])]);
  }

  /** Whether a header (lower-case) is a front door's identity header, in any `-`/`_` spelling. */
  private isIdentityHeader(lower: string): boolean {
    return this.identityHeaders.has(lower.includes("_") ? lower.replaceAll("_", "-") : lower);
  }

  /**
   * The headers for the user's server: hop-by-hop headers, the caller's `Authorization` and
   * the hub's cookies removed; the server's token and `X-Forwarded-*` added; `Host` kept as
   * the client sent it, because Jupyter compares a websocket's `Origin` with `Host`.
   */
  forRequest(req: IncomingMessage, token: string, upgrade: boolean): ForwardHeaders {
    return this.rewriteRequest(
      req.rawHeaders,
      req.socket.remoteAddress,
      req.socket instanceof TLSSocket,
      token,
      upgrade,
    );
  }

  /** {@link forRequest} on a `rawHeaders`-style list, for requests the front door parsed itself. */
  rewriteRequest(
    raw: readonly string[],
    peer: string | undefined,
    https: boolean,
    token: string,
    upgrade: boolean,
  ): ForwardHeaders {
    const seen = this.seen;
    seen.reset();
    let list = withoutConnectionNames(this.keptRequestHeaders(raw, seen), seen.connection);
    if (seen.chunked && !upgrade) {
      // Node's client chunks a piped body of its own accord only for methods it expects one on:
      // for GET, HEAD, DELETE and OPTIONS it would write the bytes bare, with no length, and the
      // server would read them as a next request of the attacker's making. Saying `chunked`
      // makes it frame them for every method. (node:http never passes on both framings.)
      if (seen.contentLength) list = withoutNames(list, CONTENT_LENGTH_ONLY);
      list.push("Transfer-Encoding", "chunked");
    }
    addForwarded(list, seen, peer, https);
    list.push("Authorization", `token ${token}`);
    if (upgrade && seen.upgradeProtocol !== undefined)
      list.push("Connection", "Upgrade", "Upgrade", seen.upgradeProtocol);
    const hasBody = seen.hasBody;
    // Header values (cookies among them) are not kept past the call.
    seen.reset();
    return { list, hasBody };
  }

  /**
   * The client's headers that go on as they are (hub cookies taken out of `Cookie`), noting in
   * `seen` what the rest of the rewrite needs: `Host`, `Connection`, `Upgrade`, the framing and
   * trusted `X-Forwarded-For`.
   */
  private keptRequestHeaders(raw: readonly string[], seen: RequestHeadersSeen): string[] {
    const list: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i];
      const value = raw[i + 1];
      if (name === undefined || value === undefined) continue;
      const lower = name.toLowerCase();
      const kind = REQUEST_HEADERS.get(lower) ?? (this.isIdentityHeader(lower) ? DROP : undefined);
      switch (kind) {
        case undefined:
          list.push(name, value);
          break;
        case DROP:
          break;
        case HOST:
          seen.host = value;
          list.push(name, value);
          break;
        case COOKIE: {
          const kept = this.hubCookies.stripFrom(value);
          if (kept !== "") list.push(name, kept);
          break;
        }
        case CONNECTION:
          seen.connection = seen.connection === undefined ? value : `${seen.connection}, ${value}`;
          break;
        case UPGRADE:
          seen.upgradeProtocol = value;
          break;
        case CONTENT_LENGTH:
          if (value !== "0") seen.hasBody = true;
          seen.contentLength = true;
          list.push(name, value);
          break;
        case TRANSFER_ENCODING:
          // node:http has taken the client's chunks apart; the body is framed anew below.
          seen.hasBody = true;
          seen.chunked = true;
          break;
        default:
          if (this.trustForwarded) keepTrustedForwarded(kind, name, value, list, seen);
      }
    }
    return list;
  }

  /**
   * The response headers for the client: hop-by-hop headers (those named in every `Connection`
   * header too, as for requests) and hub cookies set by the server removed. A `204` loses its
   * `Content-Length`, which no `204` may carry (RFC 9110 8.6): its body, if the server sent one,
   * is not relayed, and a client must not wait for it.
   */
  forResponse(raw: readonly string[], status: number): string[] {
    const list: string[] = [];
    let connection: string | undefined;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i];
      const value = raw[i + 1];
      if (name === undefined || value === undefined) continue;
      const lower = name.toLowerCase();
      if (lower === "connection") connection = connection === undefined ? value : `${connection}, ${value}`;
      if (
        RESPONSE_HOP_BY_HOP.has(lower) ||
        (lower === "set-cookie" && this.hubCookies.setBy(value)) ||
        (status === 204 && lower === "content-length")
      )
        continue;
      list.push(name, value);
    }
    return withoutConnectionNames(list, connection);
  }

  /** The `101` headers for the client, which must keep `Upgrade` and `Connection`. */
  forUpgradeResponse(raw: readonly string[]): string[] {
    const list: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i];
      const value = raw[i + 1];
      if (name === undefined || value === undefined) continue;
      if (name.toLowerCase() === "set-cookie" && this.hubCookies.setBy(value)) continue;
      list.push(name, value);
    }
    return list;
  }
}
