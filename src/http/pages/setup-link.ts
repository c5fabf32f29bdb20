import type { FastifyInstance } from "fastify";
import { isSlipwayError, SlipwayError } from "../../domain/errors.js";
import { parseBody } from "../context.js";
import { checkLoginXsrf, issueLoginXsrf } from "./login-xsrf.js";
import { setupBody, setupFormPage } from "./setup-form.js";
import { enterSession, type SignInContext } from "./sign-in-flow.js";

/** `/hub/setup/<token>`: an account's one-time link, given by an admin, to choose its password. */
export function registerSetupLinkPage(
  app: FastifyInstance,
  ctx: SignInContext,
  randomToken: () => string,
): void {
  app.get<{ Params: { token: string } }>("/hub/setup/:token", async (request, reply) => {
    const xsrf = issueLoginXsrf(ctx, request, reply, randomToken);
    return setupFormPage(reply, { action: `/hub/setup/${request.params.token}`, xsrf, askName: false });
  });

  app.post<{ Params: { token: string } }>("/hub/setup/:token", async (request, reply) => {
    const body = parseBody(setupBody, request.body);
    checkLoginXsrf(ctx, request, body._xsrf);
    try {
      if (body.username !== undefined) throw new SlipwayError("unknown_field", "Unknown field: username");
      if (body.password !== body.confirm)
        throw new SlipwayError("validation_failed", "The two passwords differ.");
      const result = await ctx.identity.completeSetup(request.params.token, body.password);
      return enterSession(ctx, reply, result, "/hub/home");
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      reply.code(err.status);
      const action = `/hub/setup/${request.params.token}`;
      return setupFormPage(reply, { action, xsrf: body._xsrf, askName: false, error: err.message });
    }
  });
}
