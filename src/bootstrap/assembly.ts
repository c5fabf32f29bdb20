import type { Config } from "../config/schema.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Disposables } from "./disposables.js";

/**
 * What every builder of a part of the hub gets besides the parts it is wired to: the settings,
 * the clock, a log for the part, and where to register the part's disposer as it is made.
 */
export interface Assembly {
  readonly config: Config;
  readonly dataDir: string;
  readonly clock: Clock;
  /** The log of one part of the hub (`part` on every line). */
  log(part: string): Logger;
  readonly disposables: Disposables;
}
