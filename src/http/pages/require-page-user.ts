import type { FastifyReply, FastifyRequest } from "fastify";
import type { Principal } from "../../domain/principal.js";
import { withoutTokenParams } from "../../domain/without-token-params.js";
import { resolvePrincipal, type CallerContext } from "../context.js";

/** Pages need a full session; anyone else goes to sign-in and comes back. */
export async function requirePageUser(
  ctx: CallerContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<Principal | undefined> {
  const principal = await resolvePrincipal(ctx, request);
  if (principal && principal.via === "cookie") return principal;
  // A `?token=` stays out of `next`, as it does on the proxy's way to the login page.
  const next = encodeURIComponent(withoutTokenParams(request.url));
  await reply.redirect(`/hub/login?next=${next}`, 302);
  return undefined;
}
