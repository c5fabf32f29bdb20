import { userInfo } from "node:os";
import { ProcReader } from "./proc-reader.js";

/** The Unix account the helper runs as (after sudo, the signed-in user). */
export interface HelperUser {
  readonly uid: number;
  readonly name: string;
  /** From the password database, not $HOME, which sudo may have kept from the caller. */
  readonly home: string;
  readonly shell: string;
}

/** What the verbs depend on, gathered once by the entry point so they hold no global state. */
export interface HelperContext {
  readonly user: HelperUser;
  /** PATH given to servers: the helper's own (sudo's secure_path, or the hub's when run directly). */
  readonly path: string;
  readonly lang: string;
  readonly proc: ProcReader;
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts; an aborted sleep leaves no timer behind. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin";

export function systemHelperContext(env: NodeJS.ProcessEnv): HelperContext {
  const info = userInfo();
  return {
    user: { uid: info.uid, name: info.username, home: info.homedir, shell: info.shell ?? "/bin/sh" },
    path: env["PATH"] || FALLBACK_PATH,
    lang: env["LANG"] || "C.UTF-8",
    proc: new ProcReader(),
    now: () => Date.now(),
    sleep: sleepUnlessAborted,
  };
}

function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
