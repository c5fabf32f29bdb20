/**
 * The test provider's HTML pages. Self-contained (no fonts or scripts from elsewhere, unlike
 * oidc-provider's defaults), so a browser driven by a test reaches only loopback.
 */

const STYLE =
  "body{font-family:sans-serif;max-width:22rem;margin:3rem auto}label,input,button{display:block;width:100%;" +
  "margin:.3rem 0}input{padding:.3rem}button{padding:.4rem;margin-top:1rem}.error{color:#b00020}";

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

/** `body` is HTML already: callers escape what they put in it. */
function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)} · Slipway test provider</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body>
</html>`;
}

export interface LoginPageOptions {
  /** Where the form posts: the interaction's own URL, where its cookie is sent. */
  readonly action: string;
  readonly clientId: string;
  readonly username: string;
  /** Asks for the one-time code too (the client asked for urn:slipway:loa:2). */
  readonly otp: boolean;
  readonly error?: string | undefined;
}

export function loginPage(o: LoginPageOptions): string {
  const error = o.error === undefined ? "" : `<p class="error" role="alert">${escapeHtml(o.error)}</p>`;
  const otp = o.otp
    ? `<label for="otp">One-time code</label>
<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>`
    : "";
  return page(
    "Sign in",
    `<p>to continue to <strong>${escapeHtml(o.clientId)}</strong></p>
${error}
<form method="post" action="${escapeHtml(o.action)}">
<label for="username">User name</label>
<input id="username" name="username" value="${escapeHtml(o.username)}" autocomplete="username" required${o.username === "" ? " autofocus" : ""}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${o.username === "" ? "" : " autofocus"}>
${otp}
<button type="submit">Sign in</button>
</form>`,
  );
}

/**
 * The end-session confirmation. `form` is oidc-provider's hidden form (`id="op.logoutForm"`, with
 * its xsrf field); the buttons submit it from outside, `logout=yes` meaning "end my session".
 */
export function logoutPage(form: string): string {
  return page(
    "Sign out",
    `<p>Sign out of the Slipway test provider?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>
<button type="submit" form="op.logoutForm">Stay signed in</button>`,
  );
}

export function loggedOutPage(): string {
  return page("Signed out", "<p>You are signed out of the Slipway test provider.</p>");
}

export function errorPage(error: string, description: string | undefined): string {
  return page("Error", `<p class="error">${escapeHtml(error)}</p><p>${escapeHtml(description ?? "")}</p>`);
}
