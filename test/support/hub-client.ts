import { Totp } from "../../src/auth/totp.js";
import { rememberSecret } from "./test-hub.js";

/** A browser-less client of the hub: a cookie jar, forms and JSON, with redirects left visible. */
export class HubClient {
  readonly base: string;
  readonly cookies = new Map<string, string>();
  xsrf = "";

  constructor(base: string) {
    this.base = base;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  #absorb(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair?.indexOf("=") ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "" || /max-age=0/i.test(line) || /expires=thu, 01 jan 1970/i.test(line))
        this.cookies.delete(name);
      else {
        this.cookies.set(name, value);
        if (name.includes("slipway-session") || name.includes("login-xsrf")) rememberSecret(value);
      }
    }
  }

  async request(
    path: string,
    init: RequestInit & { headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size > 0 && headers["cookie"] === undefined) headers["cookie"] = this.cookieHeader();
    const res = await fetch(this.base + path, { ...init, headers, redirect: "manual" });
    this.#absorb(res);
    return res;
  }

  async page(path: string): Promise<{ res: Response; html: string }> {
    const res = await this.request(path, { headers: { accept: "text/html" } });
    return { res, html: await res.text() };
  }

  async postForm(
    path: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return this.request(path, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: this.base,
        "sec-fetch-site": "same-origin",
        ...headers,
      },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** A same-origin JSON call as the hub's own pages make it (cookie + XSRF header). */
  async api(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return this.request(path, {
      method,
      headers: {
        accept: "application/json",
        origin: this.base,
        "sec-fetch-site": "same-origin",
        "x-xsrf-token": this.xsrf,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async refreshXsrf(): Promise<void> {
    const { html } = await this.page("/hub/home");
    this.xsrf = field(html, /<meta name="slipway-xsrf" content="([^"]+)"/);
    rememberSecret(this.xsrf);
  }
}

export function field(html: string, pattern: RegExp): string {
  const match = pattern.exec(html);
  if (!match?.[1]) throw new Error(`pattern ${pattern} not found in page:\n${html.slice(0, 2000)}`);
  return match[1]
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}

export const hiddenField = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`);

export interface Account {
  readonly name: string;
  readonly password: string;
  readonly totpSecret: string;
}

const totp = new Totp();

export function codeFor(secret: string, at: Date = new Date()): string {
  return totp.codeAt(secret, at);
}

/** Runs a set-up link (first-admin or user) to the end: password, then TOTP enrolment. */
export async function completeSetup(
  client: HubClient,
  linkPath: string,
  account: { name: string; password: string },
  options: { askName: boolean },
): Promise<Account> {
  const form = await client.page(linkPath);
  if (form.res.status !== 200) throw new Error(`set-up page answered ${form.res.status}`);
  const fields: Record<string, string> = {
    _xsrf: field(form.html, hiddenField("_xsrf")),
    password: account.password,
    confirm: account.password,
  };
  if (options.askName) fields["username"] = account.name;
  const submitted = await client.postForm(linkPath, fields);
  if (submitted.status !== 303)
    throw new Error(`set-up answered ${submitted.status}: ${await submitted.text()}`);
  const location = submitted.headers.get("location") ?? "";
  if (!location.startsWith("/hub/enrol-totp")) {
    await client.refreshXsrf();
    return { ...account, totpSecret: "" };
  }
  const enrol = await client.page(location);
  const secret = field(enrol.html, /id="totp-secret" class="secret">([A-Z2-7]+)</);
  rememberSecret(secret);
  const done = await client.postForm("/hub/enrol-totp", {
    _xsrf: field(enrol.html, hiddenField("_xsrf")),
    pending: field(enrol.html, hiddenField("pending")),
    next: "/hub/home",
    code: codeFor(secret),
  });
  if (done.status !== 303) throw new Error(`enrolment answered ${done.status}: ${await done.text()}`);
  await client.refreshXsrf();
  return { ...account, totpSecret: secret };
}

/** Signs in with password and TOTP; `at` picks the TOTP time (a code works once). */
export async function signIn(client: HubClient, account: Account, at: Date = new Date()): Promise<Response> {
  const login = await client.page("/hub/login");
  const res = await client.postForm("/hub/login", {
    _xsrf: field(login.html, hiddenField("_xsrf")),
    username: account.name,
    password: account.password,
  });
  if (res.status !== 303) return res;
  const location = res.headers.get("location") ?? "";
  if (!location.startsWith("/hub/login/totp")) return res;
  const page = await client.page(location);
  const done = await client.postForm("/hub/login/totp", {
    _xsrf: field(page.html, hiddenField("_xsrf")),
    code: codeFor(account.totpSecret, at),
    next: "/hub/home",
  });
  if (done.status === 303) await client.refreshXsrf();
  return done;
}
