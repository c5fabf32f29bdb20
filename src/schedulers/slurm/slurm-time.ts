/**
 * Slurm's duration and time columns. Durations (`%l`, `%L`, MaxTime, DefaultTime) come as
 * `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM` or `D-HH:MM:SS`, or a word (`UNLIMITED`, `INVALID`,
 * `NOT_SET`); times are epoch seconds under `SLURM_TIME_FORMAT=%s`, or `N/A`, `Unknown`, `None`
 * (scheduler-interfaces.md §4.1).
 */

const DURATION = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/;

/** Seconds, or null for "no limit" and for the words that mean "not known". */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  const m = DURATION.exec(t);
  if (!m) return null;
  const [, days, a, b, c] = m;
  const n = (s: string | undefined) => (s === undefined ? 0 : Number.parseInt(s, 10));
  if (days !== undefined) {
    // With a day part the fields are hours[:minutes[:seconds]].
    return n(days) * 86_400 + n(a) * 3600 + n(b) * 60 + n(c);
  }
  if (c !== undefined) return n(a) * 3600 + n(b) * 60 + n(c);
  if (b !== undefined) return n(a) * 60 + n(b);
  // A bare number is minutes (sbatch --time, scontrol's MaxTime never prints it bare).
  return n(a) * 60;
}

/** Epoch seconds, or null for `N/A`, `Unknown`, `None` and 0. */
export function parseEpoch(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const v = Number.parseInt(t, 10);
  return v > 0 ? v : null;
}

/** Minutes as sbatch's `--time` takes them. */
export function formatMinutes(seconds: number): string {
  return String(Math.max(1, Math.ceil(seconds / 60)));
}
