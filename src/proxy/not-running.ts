import type { IncomingMessage, ServerResponse } from "node:http";
import { withoutTokenParams } from "../domain/without-token-params.js";
import { acceptsHtml, replyWithError } from "./gate-replies.js";
import { gateFailure } from "./gate-failure.js";
import { HTML_PAGE_HEADERS, escapeHtml, htmlPage } from "./html-page.js";

/**
 * The answer for a server with no route when the hub wires nothing richer: 503 JSON for API
 * clients, and for browsers a page that links to the spawn page and comes back afterwards.
 */
export function defaultNotRunning(
  req: IncomingMessage,
  res: ServerResponse,
  owner: string,
  serverName: string,
): void {
  const label = serverName === "" ? `${owner}'s server` : `${owner}'s server “${serverName}”`;
  const message = `${label} is not running.`;
  if (!acceptsHtml(req)) {
    replyWithError(req, res, gateFailure("server_not_running", message));
    return;
  }
  const spawnPath =
    serverName === ""
      ? `/hub/spawn/${encodeURIComponent(owner)}`
      : `/hub/spawn/${encodeURIComponent(owner)}/${encodeURIComponent(serverName)}`;
  const href = `${spawnPath}?next=${encodeURIComponent(withoutTokenParams(req.url ?? "/"))}`;
  const body = htmlPage(
    "Server not running",
    `<p>${escapeHtml(message)}</p><p><a class="button" href="${escapeHtml(href)}">Start it</a> ` +
      `<a href="/hub/home">Your servers</a></p>`,
  );
  res.writeHead(503, { ...HTML_PAGE_HEADERS, "content-length": Buffer.byteLength(body) });
  res.end(req.method === "HEAD" ? undefined : body);
}
