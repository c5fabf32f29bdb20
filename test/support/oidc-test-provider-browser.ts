/** A page the browser stopped at: an answer that is not a redirect. */
export interface Page {
  readonly url: URL;
  readonly status: number;
  readonly html: string;
}

/** Where a navigation ended: a page, or a redirect to the relying party (not followed). */
export type Landing = { readonly callback: URL } | { readonly page: Page };

const MAX_REDIRECTS = 10;

/**
 * `fetch` with a cookie jar, following redirects by hand, for walking a sign-in without a real
 * browser. It stops at the first redirect to a URL that `stopAt` accepts (the relying party's
 * callback or post-logout page), so a test can hand it to openid-client or to the hub.
 */
export class FormBrowser {
  readonly #cookies = new Map<string, string>();
  readonly #stopAt: (url: URL) => boolean;

  constructor(stopAt: (url: URL) => boolean) {
    this.#stopAt = stopAt;
  }

  async open(url: URL | string, init: RequestInit = {}): Promise<Landing> {
    let next = new URL(url);
    let request = init;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (this.#stopAt(next)) return { callback: next };
      const headers = new Headers(request.headers);
      headers.set("cookie", [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; "));
      const res = await fetch(next, { ...request, headers, redirect: "manual" });
      this.#keep(res);
      const location = res.headers.get("location");
      if (location === null) return { page: { url: next, status: res.status, html: await res.text() } };
      await res.body?.cancel();
      next = new URL(location, next);
      request = {};
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects from ${String(url)}`);
  }

  /** One request with the jar's cookies, redirects not followed; the cookies it sets are kept. */
  async fetch(url: URL | string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("cookie", [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    this.#keep(res);
    return res;
  }

  /** The jar's cookies as one `Cookie` header, for a client of another kind (a websocket). */
  cookieHeader(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  /** Posts the page's first form with its hidden fields and these. */
  submit(page: Page, fields: Record<string, string>): Promise<Landing> {
    const action = /<form[^>]*action="([^"]*)"/.exec(page.html)?.[1];
    if (action === undefined) throw new Error(`no form on ${page.url.href}:\n${page.html}`);
    const hidden = [...page.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)];
    const body = new URLSearchParams([
      ...hidden.map(([, name = "", value = ""]): [string, string] => [name, value]),
      ...Object.entries(fields),
    ]);
    const headers = { "content-type": "application/x-www-form-urlencoded" };
    return this.open(new URL(action.replaceAll("&amp;", "&"), page.url), { method: "POST", headers, body });
  }

  /** Host-wide and path-blind: enough for one provider whose cookie names differ by purpose. */
  #keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(";")[0] ?? "";
      const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      if (value === "" || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
}

export function pageOf(landing: Landing): Page {
  if (!("page" in landing)) throw new Error(`expected a page, got a redirect to ${landing.callback.href}`);
  return landing.page;
}

export function callbackOf(landing: Landing): URL {
  if (!("callback" in landing)) throw new Error(`expected a redirect, got:\n${landing.page.html}`);
  return landing.callback;
}
