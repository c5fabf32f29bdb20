import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { OpenCredential, Proxy } from "../proxy/proxy.js";
import type { Assembly } from "./assembly.js";
import type { HubMetrics } from "./hub-metrics.js";

export interface CredentialSweepDeps {
  /** The credentials holding websockets open, with their use since the last call. */
  readonly openCredentials: () => OpenCredential[];
  /** Whether a session is still good (asked of the store); `used` counts as use of it. */
  readonly sessionValid: (idHash: string, used: boolean) => Promise<boolean>;
  readonly tokenValid: (ownerName: string, tokenId: string) => Promise<boolean>;
  readonly close: (sessionKey: string) => void;
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly log: Logger;
  /** Told of every check, for metrics. */
  readonly checked?: (outcome: "valid" | "ended" | "error") => void;
}

/**
 * Websockets outlive the request that opened them. Sign-out, revocation and disabling close
 * them at once on this replica; this periodic check closes the rest: sessions that timed out
 * (idle or absolute), and sessions and tokens ended on another replica or by `slipway`
 * commands. A notebook the user is typing into counts as use of its session. When the store
 * cannot answer, nothing is closed: not knowing is not a reason to cut anyone off.
 */
export class CredentialSweep {
  readonly #deps: CredentialSweepDeps;
  #timer: { cancel(): void } | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: CredentialSweepDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#running;
  }

  /** One pass; resolves when every open credential has been checked. */
  async sweep(): Promise<void> {
    const { openCredentials, sessionValid, tokenValid, close, log, checked } = this.#deps;
    for (const credential of openCredentials()) {
      try {
        const valid =
          credential.via === "cookie"
            ? await sessionValid(credential.sessionKey, credential.used)
            : await tokenValid(credential.userName, credential.sessionKey);
        checked?.(valid ? "valid" : "ended");
        if (!valid) {
          close(credential.sessionKey);
          log.info(
            { event: "websockets_closed", user: credential.userName, via: credential.via },
            "closed websockets of an ended session or token",
          );
        }
      } catch (err) {
        checked?.("error");
        log.warn({ err }, "could not check the credential of open websockets");
      }
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#deps.clock.setTimeout(() => {
      this.#running = this.sweep().finally(() => {
        this.#running = undefined;
        this.#schedule();
      });
    }, this.#deps.intervalMs);
  }
}

/** Starts the check of the proxy's open websockets every `proxy.credentialCheckInterval`. */
export function startCredentialSweep(
  { config, clock, log, disposables }: Assembly,
  parts: {
    proxy: Pick<Proxy, "takeCredentialUse" | "closeSession">;
    sessions: { isSessionValid(idHash: string, used: boolean): Promise<boolean> };
    tokens: { isTokenValid(ownerName: string, tokenId: string): Promise<boolean> };
    metrics: HubMetrics;
  },
): CredentialSweep {
  const { proxy, sessions, tokens, metrics } = parts;
  const sweep = new CredentialSweep({
    openCredentials: () => proxy.takeCredentialUse(),
    sessionValid: (idHash, used) => sessions.isSessionValid(idHash, used),
    tokenValid: (owner, id) => tokens.isTokenValid(owner, id),
    close: (key) => proxy.closeSession(key),
    clock,
    intervalMs: config.proxy.credentialCheckInterval * 1000,
    log: log("proxy"),
    checked: (outcome) => metrics.credentialChecked(outcome),
  });
  sweep.start();
  disposables.add(() => sweep.stop());
  return sweep;
}
