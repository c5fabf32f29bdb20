/**
 * Byte classes of HTTP/1.1 (RFC 9110 5.6.2, 5.5; RFC 9112 3.2) and the one header-line reader
 * both of the front door's head parsers use. Nothing here is lenient: a byte outside its class
 * ends the parse, and the caller hands the message to a stricter authority or refuses it.
 */

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

/** `tchar`: the bytes of a method or a header name. */
export const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN[c.charCodeAt(0)] = 1;
}

/** `field-vchar`, SP and HTAB: the bytes of a header value. No CR, LF, NUL or other control. */
export const FIELD = new Uint8Array(256);
FIELD[HTAB] = 1;
for (let c = 0x20; c <= 0x7e; c += 1) FIELD[c] = 1;
for (let c = 0x80; c <= 0xff; c += 1) FIELD[c] = 1;

/** One header line read from a head: `name` and `value` (without surrounding whitespace). */
export interface HeaderLine {
  name: string;
  value: string;
  /** Index just past the line's CRLF. */
  next: number;
}

/**
 * Reads the header line at `start` of `head`, which ends with CRLF CRLF somewhere after it.
 * `name ":" OWS value OWS CRLF`, nothing else: no whitespace before the colon, no obs-fold (a
 * line that starts with whitespace is no name), no bare CR or LF. Fills `out` and returns true,
 * or returns false for anything else.
 */
export function readHeaderLine(head: Buffer, start: number, out: HeaderLine): boolean {
  let i = start;
  while (TOKEN[head[i] ?? 0] === 1) i += 1;
  if (i === start || head[i] !== COLON) return false;
  const name = head.toString("latin1", start, i);
  i += 1;
  while (head[i] === SP || head[i] === HTAB) i += 1;
  const valueStart = i;
  let valueEnd = i;
  for (;;) {
    const c = head[i];
    if (c === undefined) return false;
    if (c === CR) break;
    if (FIELD[c] !== 1) return false;
    i += 1;
    if (c !== SP && c !== HTAB) valueEnd = i;
  }
  if (head[i + 1] !== LF) return false;
  out.name = name;
  out.value = head.toString("latin1", valueStart, valueEnd);
  out.next = i + 2;
  return true;
}

/** Whether `data` from `from` on holds an LF that does not follow a CR (a line no CRLF ends). */
export function hasBareLf(data: Buffer, from: number): boolean {
  for (let at = data.indexOf(LF, from); at !== -1; at = data.indexOf(LF, at + 1)) {
    if (at === 0 || data[at - 1] !== CR) return true;
  }
  return false;
}

/** Whether every character of `value` is a `FIELD` byte (a header value, a reason phrase). */
export function isFieldText(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) if (FIELD[value.charCodeAt(i)] !== 1) return false;
  return true;
}

/** `1*DIGIT`, at most 15 of them (below 2^53), as a number; -1 for anything else. */
export function parseLength(value: string): number {
  if (value.length === 0 || value.length > 15) return -1;
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(value);
}

/** Whether a comma-separated list header (`Connection`) holds `token`, compared case-insensitively. */
export function listHas(value: string, token: string): boolean {
  for (const item of value.split(",")) if (item.trim().toLowerCase() === token) return true;
  return false;
}
