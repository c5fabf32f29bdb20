import { CR, FIELD, LF } from "./http-syntax.js";

const SEMICOLON = 0x3b;
/** 13 hex digits stay below 2^53. */
const MAX_SIZE_DIGITS = 13;
const MAX_EXTENSION_BYTES = 4096;
const MAX_TRAILER_BYTES = 16384;

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i += 1) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i += 1) {
  HEX[0x41 + i] = 10 + i;
  HEX[0x61 + i] = 10 + i;
}

const enum State {
  LineStart,
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  EndLf,
  Done,
}

/** The closing bytes the proxy writes itself in place of the server's last chunk and trailers. */
export const LAST_CHUNK = Buffer.from("0\r\n\r\n", "latin1");

/**
 * Follows a chunked body (RFC 9112 7.1) as it streams by, so that the proxy can relay the
 * server's bytes as they are and still know exactly where the response ends. Strict: a chunk
 * size is hex digits only, every line ends in CRLF, extensions and trailers hold field bytes
 * only. Trailers are not relayed (as when `node:http` pipes a response): the scanner holds back
 * the last chunk and what follows, and the caller writes {@link LAST_CHUNK} once `done`.
 * A size line split across reads is held back until it is whole, so nothing relayed is ever
 * taken back.
 */
export class ChunkedScanner {
  /** After {@link scan}: the bytes to relay now, if any. */
  relay: Buffer | undefined;
  /** After {@link scan}: how many bytes of the input belong to this body. */
  consumed = 0;
  /** The last chunk and the trailers have been read: the body is complete. */
  done = false;

  private state = State.LineStart;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  private carry: Buffer | undefined;

  /** Reads the next bytes of the body; false when the framing is malformed. */
  scan(input: Buffer): boolean {
    let work = input;
    let offset = 0;
    if (this.carry !== undefined) {
      offset = this.carry.length;
      work = Buffer.concat([this.carry, input]);
      this.carry = undefined;
    }
    const n = work.length;
    let i = 0;
    // The start of the size line being read, and where relaying stops once the last chunk shows.
    let lineStart = 0;
    let lastChunkAt = -1;
    let state = this.state;
    while (i < n && state !== State.Done) {
      switch (state) {
        case State.Data: {
          const take = Math.min(this.remaining, n - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (work[i] !== CR) return this.fail();
          i += 1;
          state = State.DataLf;
          break;
        case State.DataLf:
          if (work[i] !== LF) return this.fail();
          i += 1;
          state = State.LineStart;
          break;
        case State.LineStart:
          lineStart = i;
          this.size = 0;
          this.digits = 0;
          this.lineBytes = 0;
          state = State.Size;
          break;
        case State.Size: {
          const c = work[i] ?? 0;
          const digit = HEX[c] ?? -1;
          if (digit >= 0) {
            this.digits += 1;
            if (this.digits > MAX_SIZE_DIGITS) return this.fail();
            this.size = this.size * 16 + digit;
          } else if (this.digits === 0) {
            return this.fail();
          } else if (c === SEMICOLON) {
            state = State.Extension;
          } else if (c === CR) {
            state = State.SizeLf;
          } else {
            return this.fail();
          }
          i += 1;
          break;
        }
        case State.Extension: {
          const c = work[i] ?? 0;
          if (c === CR) state = State.SizeLf;
          else if (FIELD[c] !== 1 || ++this.lineBytes > MAX_EXTENSION_BYTES) return this.fail();
          i += 1;
          break;
        }
        case State.SizeLf:
          if (work[i] !== LF) return this.fail();
          i += 1;
          if (this.size === 0) {
            lastChunkAt = lineStart;
            state = State.TrailerStart;
          } else {
            this.remaining = this.size;
            state = State.Data;
          }
          break;
        case State.TrailerStart:
          if (work[i] === CR) {
            state = State.EndLf;
            i += 1;
          } else {
            state = State.Trailer;
          }
          break;
        case State.Trailer: {
          const c = work[i] ?? 0;
          if (c === CR) state = State.TrailerLf;
          else if (FIELD[c] !== 1 || ++this.trailerBytes > MAX_TRAILER_BYTES) return this.fail();
          i += 1;
          break;
        }
        case State.TrailerLf:
        case State.EndLf:
          if (work[i] !== LF) return this.fail();
          i += 1;
          state = state === State.EndLf ? State.Done : State.TrailerStart;
          break;
      }
    }
    this.state = state;
    this.done = state === State.Done;
    this.consumed = this.done ? i - offset : input.length;
    let relayEnd: number;
    if (lastChunkAt >= 0) relayEnd = lastChunkAt;
    else if (state >= State.TrailerStart) relayEnd = 0;
    else if (state === State.Size || state === State.Extension || state === State.SizeLf) {
      // The line is read again, whole, with the next bytes.
      relayEnd = lineStart;
      this.carry = Buffer.from(work.subarray(lineStart));
      this.state = State.LineStart;
    } else relayEnd = n;
    this.relay = relayEnd === 0 ? undefined : relayEnd === n ? work : work.subarray(0, relayEnd);
    return true;
  }

  private fail(): false {
    this.relay = undefined;
    return false;
  }
}
