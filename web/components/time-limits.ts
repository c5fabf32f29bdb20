import { showWalltimeWarning, walltimeWarningFor } from "./walltime-warning.js";

/** A span of milliseconds in words: `45 s`, `12 min`, `2 h 05 min`. */
function leftInWords(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

function clockTime(at: Date): string {
  return at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * Shows each running server's time left before its job's time limit (from the rows' data
 * attributes, see server-row.ts), and warns once per threshold (e.g. 10 and 1 minutes before,
 * per target in `thresholds`) that the cluster is about to end it.
 */
export function tickTimeLimits(thresholds: ReadonlyMap<string, readonly number[]>, now: number): void {
  for (const row of document.querySelectorAll<HTMLElement>("tr[data-server]")) {
    const name = row.dataset["server"] ?? "";
    const remaining = row.querySelector<HTMLElement>('[data-role="remaining"]');
    const endsAt = Date.parse(row.dataset["endsAt"] ?? "");
    const running = row.dataset["state"] === "running" && Number.isFinite(endsAt);
    if (!running) {
      remaining?.toggleAttribute("hidden", true);
      walltimeWarningFor(name)?.remove();
      continue;
    }
    const left = endsAt - now;
    const at = clockTime(new Date(endsAt));
    if (remaining) {
      remaining.hidden = false;
      remaining.textContent = `ends at ${at} (${leftInWords(left)} left)`;
    }
    const list = thresholds.get(row.dataset["target"] ?? "") ?? [];
    // The smallest threshold already reached is the one to announce.
    const reached = list.filter((t) => left <= t * 1000).at(-1);
    if (reached === undefined) {
      walltimeWarningFor(name)?.remove();
      continue;
    }
    const who = name === "" ? "Your server" : `Your server ${name}`;
    const message =
      left > 0
        ? `${who} reaches its time limit in ${leftInWords(left)}, at ${at}: the cluster will stop it then. Save your work. `
        : `${who} has reached its time limit; the cluster is stopping it. `;
    showWalltimeWarning(name, `${name}|${endsAt}|${reached}`, message);
  }
}
