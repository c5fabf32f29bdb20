import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { rememberSecret } from "./test-hub.js";

/**
 * Steps the browser suites share: an API token made with the page's own session (the way the hub's
 * script calls the API, kept for teardown), and a cell run in a new notebook.
 */

/** An API token of `user`, made from the signed-in page with its XSRF token; remembered as a secret. */
export async function tokenFromPage(page: Page, user: string, origin: string, note: string): Promise<string> {
  const xsrf = (await page.locator('meta[name="slipway-xsrf"]').getAttribute("content")) ?? "";
  const res = await page.context().request.post(`/hub/api/users/${user}/tokens`, {
    headers: { "x-xsrf-token": xsrf, origin },
    data: { note },
  });
  assert.equal(res.status(), 201, await res.text());
  const body: unknown = await res.json();
  assert.ok(typeof body === "object" && body !== null && "token" in body && typeof body.token === "string");
  rememberSecret(body.token);
  return body.token;
}

/**
 * From the Jupyter tree on `page`: New → Python 3, waits for the kernel to be idle (it says so over
 * its websocket, through the proxy), runs `print(6*7)` and waits for 42. Returns the notebook's
 * page, still open, and the URL of the kernel's websocket.
 */
export async function runCellInNewNotebook(
  page: Page,
  timeoutMs: number,
): Promise<{ notebook: Page; kernelSocketUrl: URL }> {
  await page.locator("#new-dropdown-button").click();
  const popup = page.waitForEvent("popup");
  await page.locator("#kernel-python3 a").click();
  const notebook = await popup;
  const kernelSocket = notebook.waitForEvent("websocket", {
    predicate: (ws) => /\/api\/kernels\/[^/]+\/channels/.test(ws.url()),
    timeout: timeoutMs,
  });
  await notebook.locator("#kernel_indicator_icon.kernel_idle_icon").waitFor({ timeout: timeoutMs });
  const kernelSocketUrl = new URL((await kernelSocket).url());
  await notebook.locator(".cell.code_cell .CodeMirror").first().click();
  await notebook.keyboard.type("print(6*7)");
  await notebook.keyboard.press("Shift+Enter");
  const output = notebook.locator(".cell.code_cell").first().locator(".output_subarea pre");
  await output.getByText("42", { exact: true }).waitFor();
  return { notebook, kernelSocketUrl };
}
