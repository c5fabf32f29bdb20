import type { TotpEnrolment } from "../../services/identity-service.js";
import { html, type Html } from "../html.js";

export interface TotpEnrolmentSection {
  readonly heading: string;
  /** Said before the instructions, when the page needs to say why. */
  readonly lead?: string;
  readonly enrolment: Pick<TotpEnrolment, "secret" | "qrSvg" | "pending">;
  /** Where the form posts, with its XSRF token and, at sign-in, where to go afterwards. */
  readonly action: string;
  readonly xsrf: string;
  readonly next?: string;
  /** Ask for the password as well: an open session alone must not bind an authenticator. */
  readonly askPassword: boolean;
  readonly error?: string;
  readonly footer?: Html;
}

/**
 * Enrolment of an authenticator app: the QR code and the secret to scan or type, and the form
 * that proves it with a first code. The secret goes back sealed in `pending`, never in the clear.
 */
export function totpEnrolmentSection(section: TotpEnrolmentSection): Html {
  const { enrolment } = section;
  const qr = `data:image/svg+xml;base64,${Buffer.from(enrolment.qrSvg).toString("base64")}`;
  const asked = section.askPassword ? "your password and the code" : "the 6-digit code";
  return html`<section class="card narrow">
    <h1>${section.heading}</h1>
    <p>
      ${section.lead ?? ""} Scan this code with an authenticator app (FreeOTP, Google Authenticator, Aegis,
      1Password…), then enter ${asked} it shows.
    </p>
    ${section.error ? html`<p class="error" role="alert">${section.error}</p>` : ""}
    <img
      class="qr"
      id="totp-qr"
      alt="QR code of your authenticator secret"
      src="${qr}"
      width="220"
      height="220"
    />
    <p>
      Or type this secret: <code id="totp-secret" class="secret">${enrolment.secret}</code>
      <button type="button" class="copy" data-copy="#totp-secret">Copy</button>
    </p>
    <form method="post" action="${section.action}">
      <input type="hidden" name="_xsrf" value="${section.xsrf}" />
      ${section.next === undefined ? "" : html`<input type="hidden" name="next" value="${section.next}" />`}
      <input type="hidden" name="pending" value="${enrolment.pending}" />
      ${
        section.askPassword
          ? html`<label
              >Password <input name="password" type="password" autocomplete="current-password" required
            /></label>`
          : ""
      }
      <label
        >Code <input name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required
      /></label>
      <button type="submit">Confirm</button>
    </form>
    ${section.footer ?? ""}
  </section>`;
}
