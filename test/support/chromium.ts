import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { LOG_DIR } from "./test-hub.js";

/**
 * Debian's Chromium, headless. Playwright's own browser downloads are not available here, so the
 * suite drives the system package (CHROMIUM_PATH overrides where it lives).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/** Saves a full-page screenshot under .test-logs/ for a person to look at; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(LOG_DIR, { recursive: true });
  const path = join(LOG_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
