import type { FastifyRequest } from "fastify";
import type { Principal } from "../domain/principal.js";
import type { ActedBy } from "../services/acted-by.js";
import { clientAddress, type HttpContext } from "./context.js";

/** Who is acting in this request, for the audit trail: the caller's name and address. */
export function actedBy(
  ctx: Pick<HttpContext, "trustForwarded">,
  request: FastifyRequest,
  principal: Principal,
): ActedBy {
  return { actor: principal.user.name, address: clientAddress(ctx, request) };
}
