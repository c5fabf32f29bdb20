import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { noStore } from "../context.js";

/** The media type with which a JupyterHub client asks for a page in an envelope. */
const PAGINATION = "application/jupyterhub-pagination+json";
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

/** `offset` and `limit` of a list request, JupyterHub's names; a limit above the maximum is lowered. */
export const pageQuery = {
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_LIMIT)
    .transform((n) => Math.min(n, MAX_LIMIT)),
};

/** Parses a list request's query with its schema; a bad offset or limit is `validation_failed`. */
export function parsePageQuery<T>(schema: z.ZodType<T>, query: unknown): T {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    throw new SlipwayError("validation_failed", "offset and limit must be non-negative whole numbers.");
  }
  return parsed.data;
}

/**
 * A page as JupyterHub answers it: the envelope `{items, _pagination}` (with the link to the next
 * page while there is one) when the client asks for it, a bare list otherwise.
 */
export function answerPage<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  page: { items: readonly T[]; offset: number; limit: number; total: number; path: string },
) {
  noStore(reply);
  if (!(request.headers.accept ?? "").includes(PAGINATION)) return page.items;
  reply.header("content-type", `${PAGINATION}; charset=utf-8`);
  const { offset, limit, total } = page;
  const nextOffset = offset + limit;
  return {
    items: page.items,
    _pagination: {
      offset,
      limit,
      total,
      next:
        nextOffset < total
          ? { offset: nextOffset, limit, url: `${page.path}?offset=${nextOffset}&limit=${limit}` }
          : null,
    },
  };
}
