import type { FastifyInstance } from "fastify";
import { htmlPage } from "./layout.js";
import type { SignInContext } from "./sign-in-flow.js";
import { registerStepPage } from "./step-page.js";
import { totpEnrolmentSection } from "./totp-enrolment-section.js";

/** `/hub/enrol-totp`: enrolment of an authenticator at sign-in, when TOTP is required and the account has none. */
export function registerEnrolTotpPage(app: FastifyInstance, ctx: SignInContext): void {
  registerStepPage(app, ctx, {
    path: "/hub/enrol-totp",
    step: "enrol-second-factor",
    params: (body) => ({ code: body.code, pending: body.pending ?? "" }),
    render: async (reply, pending, next, error) =>
      htmlPage(reply, {
        title: "Set up your authenticator",
        body: totpEnrolmentSection({
          heading: "Set up your authenticator",
          enrolment: await ctx.identity.beginTotpEnrolment(pending.user),
          action: "/hub/enrol-totp",
          xsrf: pending.xsrfToken,
          next,
          askPassword: false,
          error,
        }),
        script: "enrol",
      }),
  });
}
