import { SlipwayError } from "../../domain/errors.js";
import type { Principal } from "../../domain/principal.js";
import type { Scope } from "../../domain/scopes.js";
import type { Server, User } from "../../domain/types.js";
import { requireScope, targetUser, type HttpContext } from "../context.js";

/** The path of a page about one server: its owner, and its name (none for the default server). */
export interface ServerPageParams {
  readonly user: string;
  readonly server?: string;
}

/**
 * The server a page is about, if the principal may see its owner (and holds `scope` for them,
 * when the page needs one); `server_not_found` otherwise.
 */
export async function pageServer(
  ctx: HttpContext,
  principal: Principal,
  params: ServerPageParams,
  scope?: Scope,
): Promise<{ owner: User; name: string; server: Server }> {
  const owner = await targetUser(ctx, principal, params.user);
  if (scope !== undefined) requireScope(principal, scope, owner.name);
  const name = params.server ?? "";
  const server = await ctx.servers.find(owner, name);
  if (!server) throw new SlipwayError("server_not_found");
  return { owner, name, server };
}
