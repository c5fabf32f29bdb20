import type { FastifyInstance } from "fastify";
import { isSlipwayError, SlipwayError } from "../../domain/errors.js";
import { clientAddress, parseBody, type HttpContext } from "../context.js";
import { checkLoginXsrf, issueLoginXsrf } from "./login-xsrf.js";
import { setupBody, setupFormPage } from "./setup-form.js";
import { enterSession, type SignInContext } from "./sign-in-flow.js";

/** `/hub/first-admin/<secret>`: the bootstrap link that creates the first administrator, while no user exists. */
export function registerFirstAdminPage(
  app: FastifyInstance,
  ctx: SignInContext & Pick<HttpContext, "firstAdmin" | "audit">,
  randomToken: () => string,
): void {
  app.get<{ Params: { secret: string } }>("/hub/first-admin/:secret", async (request, reply) => {
    if (!(await ctx.firstAdmin.isOpen())) throw new SlipwayError("setup_link_invalid");
    const xsrf = issueLoginXsrf(ctx, request, reply, randomToken);
    return setupFormPage(reply, { action: `/hub/first-admin/${request.params.secret}`, xsrf, askName: true });
  });

  app.post<{ Params: { secret: string } }>("/hub/first-admin/:secret", async (request, reply) => {
    const body = parseBody(setupBody, request.body);
    checkLoginXsrf(ctx, request, body._xsrf);
    try {
      if (body.password !== body.confirm)
        throw new SlipwayError("validation_failed", "The two passwords differ.");
      ctx.identity.checkPasswordPolicy(body.password);
      const name = body.username ?? "";
      if (!/^[a-z0-9][a-z0-9._-]{0,31}$/.test(name)) throw new SlipwayError("invalid_user_name");
      if (!(await ctx.firstAdmin.consume(request.params.secret)))
        throw new SlipwayError("setup_link_invalid");
      const user = await ctx.identity.createFirstAdmin(name, body.password);
      // Nobody was signed in: the hub made the account for whoever held its one-time link.
      await ctx.audit.record({
        kind: "admin_action",
        actor: null,
        subject: user.name,
        reason: "user_created",
        address: clientAddress(ctx, request),
        details: { admin: true, firstAdminLink: true },
      });
      return enterSession(ctx, reply, await ctx.identity.signInAfterSetup(user), "/hub/home");
    } catch (err) {
      if (!isSlipwayError(err)) throw err;
      reply.code(err.status);
      const action = `/hub/first-admin/${request.params.secret}`;
      return setupFormPage(reply, { action, xsrf: body._xsrf, askName: true, error: err.message });
    }
  });
}
