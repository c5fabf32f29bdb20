import type { Socket } from "node:net";
import type { ServerTarget } from "../domain/types.js";
import type { TargetPins } from "./target-connection.js";

/** An idle connection's read buffer: room for a typical response (head and small body) at once. */
const SMALL_READ = 16 * 1024;
/**
 * Once a read fills the small buffer, a large body is streaming: read it in pieces four times
 * the size `node:net` reads in. A 1 MiB response then takes four or five reads and writes instead
 * of sixteen of each, which saves a quarter to a third of the proxy's CPU for large bodies.
 */
const LARGE_READ = 256 * 1024;
/** Large buffers kept for the next large body once their connections went idle (8 MiB). */
const SPARE_LARGE = 32;

/**
 * The large read buffers of the pool's connections. A connection takes one while a large body
 * streams and gives it back when it goes idle, so that a busy proxy reuses a few dozen buffers
 * rather than allocating one for every large response: the allocator would keep the memory of
 * that churn long after the load, fragmented. The spares are let go of when the hub goes quiet.
 */
class LargeBuffers {
  private spare: Buffer[] = [];

  take(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(LARGE_READ);
  }

  give(buffer: Buffer): void {
    if (this.spare.length < SPARE_LARGE) this.spare.push(buffer);
  }

  /** Bytes held in spare buffers. */
  get spareBytes(): number {
    return this.spare.length * LARGE_READ;
  }

  drop(): void {
    this.spare = [];
  }
}

/**
 * Connections to one server are shared only by requests for the same channel: for TLS, the same
 * pinned certificate too, so a new launch on the same host and port never inherits a connection
 * checked against the previous launch's key.
 */
function poolKey(target: ServerTarget): string {
  return target.kind === "unix" ? target.socket : `${target.host}:${target.port}\n${target.certificate}`;
}

/** Whoever is using a pooled connection: told of everything that happens on it meanwhile. */
export interface UpstreamUser {
  /** The connection is this user's now; `reused` when it served a request before. */
  attach(connection: UpstreamConnection, reused: boolean): void;
  /**
   * Bytes from the server. `data` is a view of the connection's read buffer, which the next read
   * overwrites: return true if anything still refers to it after the call (a write the client's
   * socket has not finished), so that the connection reads into a fresh buffer from then on.
   */
  onData(data: Buffer): boolean;
  /** The server closed its side, or the connection failed (`error` set); it is gone either way. */
  onGone(error: Error | undefined): void;
  onDrain(): void;
}

/**
 * One keep-alive connection to a user's server. Its listeners are set once and pass events to
 * whichever request holds it, so a request costs no listener churn.
 */
export class UpstreamConnection {
  user: UpstreamUser | undefined;
  /** It has served a request (and may have gone stale while idle). */
  used = false;
  readonly socket: Socket;
  private gone = false;
  /** Where the socket reads now: `small`, or a large buffer while a large body streams. */
  private buffer: Buffer;
  /** The connection's own small buffer, kept across requests. */
  private small = Buffer.allocUnsafe(SMALL_READ);
  private kept = false;
  private filled = false;

  constructor(
    target: ServerTarget,
    pins: TargetPins,
    readonly pool: TargetPool,
    private readonly large: LargeBuffers,
  ) {
    this.buffer = this.small;
    // Reading into one buffer of our own spares an allocation, a `Readable` push and a `data`
    // event per read; the buffer is replaced only when a user keeps a view of it.
    const socket = pins.connect(target, { buffer: this.nextBuffer, callback: this.onRead });
    // Nagle's delay would hold back the last small write of each request over TCP.
    if (target.kind === "tls") socket.setNoDelay(true);
    this.socket = socket;
    socket.on("drain", () => this.user?.onDrain());
    socket.on("end", () => this.lost(undefined));
    socket.on("error", (error: Error) => this.lost(error));
    socket.on("close", () => this.lost(undefined));
  }

  /** Closes the connection without telling its user, who gave it up. */
  discard(): void {
    this.user = undefined;
    this.socket.destroy();
  }

  private readonly onRead = (length: number): boolean => {
    const user = this.user;
    this.filled = length === this.buffer.length;
    if (user !== undefined) this.kept = user.onData(this.buffer.subarray(0, length));
    // An idle server has nothing to say; whatever it says, the connection is no longer in step.
    else this.socket.destroy();
    return true;
  };

  /**
   * Called by the socket once it is connected and after every read: the buffer for the next read.
   * A large one while a large body streams, the small one again once the connection is idle, and
   * a new one in place of a buffer the user kept a view of (nothing it refers to is overwritten).
   */
  private readonly nextBuffer = (): Buffer => {
    const wantLarge = this.user !== undefined && (this.filled || this.buffer !== this.small);
    const current = this.buffer;
    const kept = this.kept;
    this.kept = false;
    if (current === this.small) {
      if (kept) this.small = Buffer.allocUnsafe(SMALL_READ);
      this.buffer = wantLarge ? this.large.take() : this.small;
    } else if (kept) {
      // A kept large buffer is never given back: the write that refers to it owns it now.
      this.buffer = wantLarge ? Buffer.allocUnsafe(LARGE_READ) : this.small;
    } else if (!wantLarge) {
      this.large.give(current);
      this.buffer = this.small;
    }
    return this.buffer;
  };

  private lost(error: Error | undefined): void {
    if (this.gone) return;
    this.gone = true;
    this.socket.destroy();
    const user = this.user;
    this.user = undefined;
    this.pool.forget(this);
    user?.onGone(error);
  }
}

/** Connections to one server: idle ones on a stack (the warmest first), users queued past the limit. */
class TargetPool {
  private readonly idle: UpstreamConnection[] = [];
  private readonly waiting: UpstreamUser[] = [];
  private readonly all = new Set<UpstreamConnection>();

  constructor(
    private readonly target: ServerTarget,
    private readonly pins: TargetPins,
    private readonly max: number,
    private readonly large: LargeBuffers,
    private readonly onEmpty: (pool: TargetPool) => void,
  ) {}

  private get count(): number {
    return this.all.size;
  }

  acquire(user: UpstreamUser, fresh: boolean): void {
    if (!fresh) {
      const connection = this.idle.pop();
      if (connection !== undefined) {
        connection.socket.ref();
        connection.user = user;
        user.attach(connection, true);
        return;
      }
    } else if (this.count >= this.max) {
      // A retry after a stale connection: make room by closing an idle one rather than wait.
      this.idle.shift()?.socket.destroy();
    }
    if (this.count >= this.max) {
      this.waiting.push(user);
      return;
    }
    this.open(user);
  }

  cancel(user: UpstreamUser): void {
    const index = this.waiting.indexOf(user);
    if (index !== -1) this.waiting.splice(index, 1);
  }

  /** The response is complete and the connection in step: keep it for the next request. */
  release(connection: UpstreamConnection): void {
    connection.user = undefined;
    connection.used = true;
    const next = this.waiting.shift();
    if (next !== undefined) {
      connection.user = next;
      next.attach(connection, true);
      return;
    }
    // An idle pooled connection must not keep the hub's process alive.
    connection.socket.unref();
    this.idle.push(connection);
  }

  /** Called once by a connection that closed or failed. */
  forget(connection: UpstreamConnection): void {
    if (!this.all.delete(connection)) return;
    const index = this.idle.indexOf(connection);
    if (index !== -1) this.idle.splice(index, 1);
    const next = this.waiting.shift();
    if (next !== undefined) this.open(next);
    else if (this.all.size === 0) this.onEmpty(this);
  }

  destroyAll(): void {
    this.waiting.length = 0;
    for (const connection of [...this.all]) connection.socket.destroy();
  }

  private open(user: UpstreamUser): void {
    const connection = new UpstreamConnection(this.target, this.pins, this, this.large);
    this.all.add(connection);
    connection.user = user;
    // Writes made before the connection is up are queued by the socket.
    user.attach(connection, false);
  }
}

/**
 * Keep-alive connections to users' servers, at most `maxPerTarget` per server, taken by one
 * request at a time. Requests past the limit wait for a connection to come free.
 */
export class UpstreamPool {
  private readonly targets = new Map<string, TargetPool>();
  private readonly large = new LargeBuffers();

  constructor(
    private readonly maxPerTarget: number,
    private readonly pins: TargetPins,
  ) {}

  /** `fresh`: open a new connection even if an idle one is there (a retry after a stale one). */
  acquire(target: ServerTarget, user: UpstreamUser, fresh = false): void {
    this.targetFor(target).acquire(user, fresh);
  }

  cancel(target: ServerTarget, user: UpstreamUser): void {
    this.targets.get(poolKey(target))?.cancel(user);
  }

  release(connection: UpstreamConnection): void {
    connection.pool.release(connection);
  }

  /** Bytes held in large read buffers that no connection is using. */
  get spareBytes(): number {
    return this.large.spareBytes;
  }

  /**
   * Lets go of the large read buffers no connection is using, for the collector to return to the
   * system; the next large body allocates them anew.
   */
  releaseSpareBuffers(): void {
    this.large.drop();
  }

  /** Closes every connection, idle or in use; requests in flight see their connection gone. */
  close(): void {
    for (const pool of [...this.targets.values()]) pool.destroyAll();
  }

  private targetFor(target: ServerTarget): TargetPool {
    const key = poolKey(target);
    let pool = this.targets.get(key);
    if (pool === undefined) {
      pool = new TargetPool(target, this.pins, this.maxPerTarget, this.large, (empty) => {
        if (this.targets.get(key) === empty) this.targets.delete(key);
      });
      this.targets.set(key, pool);
    }
    return pool;
  }
}
