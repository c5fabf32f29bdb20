// A warning that a server is about to reach its time limit, shown once per server, end time and
// threshold; the user may dismiss it for the life of the tab.

const CONTAINER = "walltime-warnings";

/** The warning now shown for the server `name`, if any. */
export function walltimeWarningFor(name: string): HTMLElement | null {
  for (const item of document.querySelectorAll<HTMLElement>(`#${CONTAINER} [data-server]`)) {
    if (item.dataset["server"] === name) return item;
  }
  return null;
}

function dismissed(key: string): boolean {
  try {
    return window.sessionStorage.getItem(`slipway-walltime:${key}`) !== null;
  } catch {
    return false;
  }
}

function dismiss(key: string): void {
  try {
    window.sessionStorage.setItem(`slipway-walltime:${key}`, "1");
  } catch {
    // Without storage the warning may come back on reload; nothing worse.
  }
}

/**
 * Shows `message` as the warning of the server `name` for the occasion `key`, replacing the one
 * shown for an earlier occasion, unless the user dismissed this one already.
 */
export function showWalltimeWarning(name: string, key: string, message: string): void {
  const item = walltimeWarningFor(name);
  if (item?.dataset["key"] === key) return;
  item?.remove();
  if (dismissed(key)) return;
  // Announced once per threshold (the container is role=alert); the countdown itself lives in the row.
  const warning = document.createElement("p");
  warning.className = "warning walltime";
  warning.dataset["server"] = name;
  warning.dataset["key"] = key;
  const text = document.createElement("span");
  text.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "Dismiss";
  close.addEventListener("click", () => {
    dismiss(key);
    warning.remove();
  });
  warning.append(text, close);
  document.getElementById(CONTAINER)?.appendChild(warning);
}
