import type { FastifyReply, FastifyRequest } from "fastify";
import { SlipwayError } from "../../domain/errors.js";
import { checkSameOrigin, type HttpContext } from "../context.js";
import { readCookie } from "../cookies.js";
import { cookieOptions } from "./sign-in-flow.js";

/**
 * The double-submit XSRF token of the forms shown before there is a session (sign-in, set-up
 * links): a cookie, and the same value in the form.
 */
export function issueLoginXsrf(
  ctx: Pick<HttpContext, "cookies">,
  request: FastifyRequest,
  reply: FastifyReply,
  randomToken: () => string,
): string {
  const existing = readCookie(request.headers.cookie, ctx.cookies.loginXsrf);
  if (existing && /^[A-Za-z0-9_-]{20,128}$/.test(existing)) return existing;
  const fresh = randomToken();
  reply.setCookie(ctx.cookies.loginXsrf, fresh, cookieOptions(ctx, 3600));
  return fresh;
}

/** Refuses a form posted from elsewhere, or without the token its cookie holds. */
export function checkLoginXsrf(
  ctx: Pick<HttpContext, "cookies" | "publicOrigin">,
  request: FastifyRequest,
  sent: string,
): void {
  const expected = readCookie(request.headers.cookie, ctx.cookies.loginXsrf);
  checkSameOrigin(ctx, request, null);
  if (!expected || expected !== sent) throw new SlipwayError("csrf_failed");
}
