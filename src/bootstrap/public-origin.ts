import type { Config } from "../config/schema.js";

/**
 * The origin browsers reach the hub at: `hub.publicUrl`'s, or the listener's own. With port 0
 * the listener's is known only once it is bound, so the parts that need it (the proxy's origin
 * check, cookie-authenticated writes, callback URLs) read it from here, after `settle`.
 */
export class PublicOrigin {
  #value: string;
  /** The origins the proxy admits, read live by its origin policy: `settle` refills it. */
  readonly allowed: string[];
  readonly secure: boolean;

  constructor(private readonly hub: Config["hub"]) {
    this.#value = new URL(hub.publicUrl ?? `http://${hub.host}:${hub.port}`).origin;
    this.allowed = [this.#value];
    this.secure = this.#value.startsWith("https:");
  }

  get value(): string {
    return this.#value;
  }

  /** Takes the port the listener was bound to, unless a public URL was configured. */
  settle(port: number): void {
    if (this.hub.publicUrl) return;
    const host = this.hub.host.includes(":") ? `[${this.hub.host}]` : this.hub.host;
    this.#value = `http://${host}:${port}`;
    this.allowed.splice(0, this.allowed.length, this.#value);
  }
}
