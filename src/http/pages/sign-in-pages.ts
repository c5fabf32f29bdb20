import type { FastifyReply } from "fastify";
import type { SlipwayError } from "../../domain/errors.js";
import { html } from "../html.js";
import { htmlPage } from "./layout.js";
import { answerWith, withNext } from "./sign-in-flow.js";

/** The sign-in page of a method with a provider: one button that begins the trip there. */
export function providerButton(
  reply: FastifyReply,
  start: { readonly label: string; readonly href: string },
  next: string,
): string {
  return htmlPage(reply, {
    title: "Sign in",
    body: html`<section class="card narrow">
      <h1>Sign in</h1>
      <p><a class="button" id="provider-sign-in" href="${withNext(start.href, next)}">${start.label}</a></p>
    </section>`,
  });
}

/**
 * A sign-in the hub refused, or could not complete: why, in words, with the status of the error
 * and a way to try again. No session was started.
 */
export function signInRefusedPage(reply: FastifyReply, err: SlipwayError): string {
  answerWith(reply, err);
  return htmlPage(reply, {
    title: "Not signed in",
    body: html`<section class="card narrow">
      <h1>Not signed in</h1>
      <p class="error" role="alert" data-code="${err.code}">${err.message}</p>
      <p><a href="/hub/login">Try again</a></p>
    </section>`,
  });
}

/** The hub's session has ended; the browser goes on to the provider's (or front door's) sign-out. */
export function continueSignOutPage(reply: FastifyReply, target: string): string {
  return htmlPage(reply, {
    title: "Signing out",
    refreshTo: target,
    body: html`<section class="card narrow">
      <h1>Signing out</h1>
      <p>You are signed out of this hub. Now signing you out at your institution…</p>
      <p><a id="continue-sign-out" href="${target}">Continue</a></p>
    </section>`,
  });
}

/** Where a sign-out ends once the provider or front door has ended its own session too. */
export function signedOutPage(reply: FastifyReply, providerUnreachable: boolean): string {
  return htmlPage(reply, {
    title: "Signed out",
    body: html`<section class="card narrow">
      <h1>You are signed out</h1>
      ${
        providerUnreachable
          ? html`<p class="error" role="alert" id="provider-still-signed-in">
              You are signed out of this hub, but the identity provider could not be reached, so you may still
              be signed in there. Close the browser to end that session.
            </p>`
          : ""
      }
      <p><a href="/hub/login">Sign in again</a></p>
    </section>`,
  });
}
