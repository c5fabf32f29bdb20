import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { isSlipwayError } from "../../domain/errors.js";
import type { SignInStep } from "../../ports/authenticator.js";
import { checkSameOrigin, parseBody } from "../context.js";
import { safeNext } from "../safe-next.js";
import {
  answerWith,
  completeSignIn,
  finishSignIn,
  nextOf,
  pendingStep,
  signInRequest,
  withNext,
  type PendingStep,
  type SignInContext,
} from "./sign-in-flow.js";

/** The forms of the steps: a one-time code, and for an enrolment the sealed secret it proves. */
const codeBody = z.strictObject({
  code: z.string().max(64),
  _xsrf: z.string().max(256),
  next: z.string().max(2048).optional(),
  pending: z.string().max(4096).optional(),
});

export interface StepPage {
  readonly path: string;
  readonly step: SignInStep;
  /** What of the posted form the authenticator gets. */
  params(body: z.infer<typeof codeBody>): Record<string, string>;
  /** The step's page; again with the error when an answer was refused. */
  render(reply: FastifyReply, pending: PendingStep, next: string, error?: string): string | Promise<string>;
}

/**
 * The page of a step of sign-in and the form it posts, both only for a sign-in waiting at that
 * step; anyone else goes back to `/hub/login`. The answer goes to the authenticator.
 */
export function registerStepPage(app: FastifyInstance, ctx: SignInContext, page: StepPage): void {
  app.get(page.path, async (request, reply) => {
    const next = nextOf(request);
    const pending = await pendingStep(ctx, request, page.step);
    if (!pending) return reply.redirect(withNext("/hub/login", next), 302);
    return page.render(reply, pending, next);
  });

  app.post(page.path, async (request, reply) => {
    const body = parseBody(codeBody, request.body);
    const next = safeNext(body.next);
    const pending = await pendingStep(ctx, request, page.step);
    if (!pending) return reply.redirect(withNext("/hub/login", next), 303);
    checkSameOrigin(ctx, request, pending.xsrfToken);
    try {
      const fields = { step: page.step, handle: pending.handle, params: page.params(body) };
      const signIn = signInRequest(ctx, request, fields);
      const outcome = await completeSignIn(ctx, signIn, pending.user.name);
      return await finishSignIn(ctx, reply, outcome, { next, address: signIn.address });
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      answerWith(reply, err);
      return page.render(reply, pending, next, err.message);
    }
  });
}
