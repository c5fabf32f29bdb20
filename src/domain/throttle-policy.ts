/**
 * Growing delays after failed sign-in or TOTP attempts, the "delay scheme" of RFC 4226 §7.3. The
 * delay is capped, so an attacker who knows a user name can slow that user down but never lock
 * them out for good (ASVS 6.1.1/6.3.1: anti-automation without malicious lockout).
 */
export interface ThrottlePolicy {
  /** Failures allowed before any delay. */
  readonly freeFailures: number;
  /** The first delay, in seconds; each further failure doubles it. */
  readonly baseDelaySeconds: number;
  /** The longest delay, in seconds. */
  readonly maxDelaySeconds: number;
}

/**
 * Seconds to wait, after the latest of `failures` consecutive failures, before the next attempt is
 * even checked: 0 while failures < freeFailures, then base·2^(failures − freeFailures), capped at max.
 * With freeFailures 5, base 1 and max 300, the sixth attempt waits 1 s, the seventh 2 s, and so on.
 */
export function delayFor(failures: number, policy: ThrottlePolicy): number {
  assertPolicy(policy);
  // A corrupt counter fails closed: the longest delay, not none.
  if (Number.isNaN(failures)) return policy.maxDelaySeconds;
  if (failures < policy.freeFailures) return 0;
  const doublings = Math.floor(failures) - policy.freeFailures;
  // 2^doublings overflows to Infinity for huge counts; the cap below still applies.
  return Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** doublings);
}

/**
 * Whole seconds left before another attempt may be checked (0 = may try now), suitable for a
 * Retry-After header. Never more than the delay itself, so a `lastFailureAt` in the future (clock
 * skew between replicas) cannot stretch the wait.
 */
export function retryAfter(lastFailureAt: Date, failures: number, policy: ThrottlePolicy, now: Date): number {
  const delaySeconds = delayFor(failures, policy);
  if (delaySeconds === 0) return 0;
  const last = lastFailureAt.getTime();
  const current = now.getTime();
  if (!Number.isFinite(last) || !Number.isFinite(current)) return Math.ceil(delaySeconds);
  const remainingMs = last + delaySeconds * 1000 - current;
  return Math.min(Math.ceil(delaySeconds), Math.max(0, Math.ceil(remainingMs / 1000)));
}

/** From `failures` counted attempts on (up to the next step), the next attempt waits `delaySeconds`. */
export interface DelayStep {
  readonly failures: number;
  readonly delaySeconds: number;
}

/**
 * Past this many steps the table ends at the cap even if the doubling has not reached it: a longer
 * wait than the policy's, never a shorter one, for policies whose cap is 2^63 base delays away.
 */
const MAX_STEPS = 64;

/**
 * `delayFor` as a finite table, so a store can decide in one SQL statement, without powers of two,
 * whether a key may have another attempt: one step per count from the first with a delay to the
 * first whose delay is the cap, which holds for every count after it. A key with no attempts
 * counted waits for nothing, even with `freeFailures` 0.
 */
export function delaySteps(policy: ThrottlePolicy): DelayStep[] {
  assertPolicy(policy);
  const steps: DelayStep[] = [];
  for (let failures = Math.max(1, policy.freeFailures); ; failures++) {
    const delaySeconds = delayFor(failures, policy);
    if (delaySeconds >= policy.maxDelaySeconds || steps.length === MAX_STEPS - 1) {
      steps.push({ failures, delaySeconds: policy.maxDelaySeconds });
      return steps;
    }
    steps.push({ failures, delaySeconds });
  }
}

function assertPolicy({ freeFailures, baseDelaySeconds, maxDelaySeconds }: ThrottlePolicy): void {
  if (!Number.isInteger(freeFailures) || freeFailures < 0) {
    throw new RangeError(`freeFailures must be a whole number ≥ 0, not ${freeFailures}.`);
  }
  if (!Number.isFinite(baseDelaySeconds) || baseDelaySeconds <= 0) {
    throw new RangeError(`baseDelaySeconds must be > 0, not ${baseDelaySeconds}.`);
  }
  if (!Number.isFinite(maxDelaySeconds) || maxDelaySeconds < baseDelaySeconds) {
    throw new RangeError(`maxDelaySeconds must be finite and ≥ baseDelaySeconds, not ${maxDelaySeconds}.`);
  }
}
