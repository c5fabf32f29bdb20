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
  // Within one scan: the start of the size line being read, and where relaying stops once the
  // last chunk shows (-1 until then).
  private lineAt = 0;
  private lastChunkAt = -1;

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
    const entryState = this.state;
    this.lineAt = 0;
    this.lastChunkAt = -1;
    let i = 0;
    while (i < n && this.state !== State.Done) {
      i = this.step(work, i);
      if (i < 0) {
        // A malformed body leaves the scanner where this read found it.
        this.state = entryState;
        return this.fail();
      }
    }
    this.finish(work, input.length, offset, i);
    return true;
  }

  /** One move of the state machine from `work[i]`: the next index, or -1 when malformed. */
  private step(work: Buffer, i: number): number {
    switch (this.state) {
      case State.Data:
        return this.data(work.length, i);
      case State.DataCr:
        return this.expect(work, i, CR, State.DataLf);
      case State.DataLf:
        return this.expect(work, i, LF, State.LineStart);
      case State.LineStart:
        return this.startLine(i);
      case State.Size:
        return this.sizeDigits(work, i);
      case State.SizeLf:
        return this.sizeLineEnd(work, i);
      case State.TrailerStart:
        return this.trailerStart(work, i);
      case State.Extension:
      case State.Trailer:
        return this.fieldLine(work, i);
      case State.TrailerLf:
        return this.expect(work, i, LF, State.TrailerStart);
      case State.EndLf:
        return this.expect(work, i, LF, State.Done);
      case State.Done:
        return i;
    }
  }

  /** Skips as much of the current chunk's data as this read holds. */
  private data(n: number, i: number): number {
    const take = Math.min(this.remaining, n - i);
    this.remaining -= take;
    if (this.remaining === 0) this.state = State.DataCr;
    return i + take;
  }

  /** A line ending's CR or LF, after which the scanner moves to `next`. */
  private expect(work: Buffer, i: number, byte: number, next: State): number {
    if (work[i] !== byte) return -1;
    this.state = next;
    return i + 1;
  }

  private startLine(i: number): number {
    this.lineAt = i;
    this.size = 0;
    this.digits = 0;
    this.lineBytes = 0;
    this.state = State.Size;
    return i;
  }

  /** The chunk size: hex digits, then (after at least one) `;` or CR. */
  private sizeDigits(work: Buffer, i: number): number {
    for (; i < work.length; i += 1) {
      const c = work[i] ?? 0;
      const digit = HEX[c] ?? -1;
      if (digit >= 0) {
        this.digits += 1;
        if (this.digits > MAX_SIZE_DIGITS) return -1;
        this.size = this.size * 16 + digit;
        continue;
      }
      if (this.digits === 0) return -1;
      if (c === SEMICOLON) this.state = State.Extension;
      else if (c === CR) this.state = State.SizeLf;
      else return -1;
      return i + 1;
    }
    return i;
  }

  /** Chunk extensions or a trailer line, up to the CR that ends the line. */
  private fieldLine(work: Buffer, i: number): number {
    const trailer = this.state === State.Trailer;
    for (; i < work.length; i += 1) {
      const c = work[i] ?? 0;
      if (c === CR) {
        this.state = trailer ? State.TrailerLf : State.SizeLf;
        return i + 1;
      }
      if (FIELD[c] !== 1) return -1;
      if (trailer ? ++this.trailerBytes > MAX_TRAILER_BYTES : ++this.lineBytes > MAX_EXTENSION_BYTES)
        return -1;
    }
    return i;
  }

  /** The LF that ends a size line: the chunk's data follows, or the trailers after the last. */
  private sizeLineEnd(work: Buffer, i: number): number {
    if (work[i] !== LF) return -1;
    if (this.size === 0) {
      this.lastChunkAt = this.lineAt;
      this.state = State.TrailerStart;
    } else {
      this.remaining = this.size;
      this.state = State.Data;
    }
    return i + 1;
  }

  /** A trailer line, or the CRLF that ends the body. */
  private trailerStart(work: Buffer, i: number): number {
    if (work[i] === CR) {
      this.state = State.EndLf;
      return i + 1;
    }
    this.state = State.Trailer;
    return i;
  }

  /** Sets `done`, `consumed` and `relay` once a read has been scanned up to `i`. */
  private finish(work: Buffer, inputLength: number, offset: number, i: number): void {
    const n = work.length;
    const state = this.state;
    this.done = state === State.Done;
    this.consumed = this.done ? i - offset : inputLength;
    let relayEnd: number;
    if (this.lastChunkAt >= 0) relayEnd = this.lastChunkAt;
    else if (state >= State.TrailerStart) relayEnd = 0;
    else if (state === State.Size || state === State.Extension || state === State.SizeLf) {
      // The line is read again, whole, with the next bytes.
      relayEnd = this.lineAt;
      this.carry = Buffer.from(work.subarray(this.lineAt));
      this.state = State.LineStart;
    } else relayEnd = n;
    this.relay = relayEnd === 0 ? undefined : relayEnd === n ? work : work.subarray(0, relayEnd);
  }

  private fail(): false {
    this.relay = undefined;
    return false;
  }
}
