import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import Fastify, { type FastifyInstance, type FastifyServerFactory } from "fastify";
import {
  errorCatalogue,
  isSlipwayError,
  retryAfterOf,
  SlipwayError,
  type ErrorCode,
} from "../domain/errors.js";
import type { Logger } from "../ports/logger.js";
import { newToken } from "../auth/random-token.js";
import type { HttpContext } from "./context.js";
import { errorPage } from "./pages/layout.js";
import { registerPages } from "./pages/register-pages.js";
import { registerApiRoutes } from "./routes/register-api-routes.js";

export interface AppOptions {
  readonly serverFactory: FastifyServerFactory;
  /** Directory with the built browser assets (app.js, slipway.css). */
  readonly staticDir: string;
  readonly bodyLimit?: number;
  readonly hsts: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json",
};

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/** Fastify's own error codes, mapped to ours so clients only ever see the catalogue. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "body_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "bad_request",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_VALIDATION: "validation_failed",
};

/**
 * Driver errors that mean the database cannot be reached right now (PostgreSQL connection
 * classes 08 and 57P0x, SQLite busy/locked, refused sockets): a 503 with Retry-After, not a 500.
 */
const STORE_DOWN = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|08\d{3}|57P0[1-3]|SQLITE_BUSY|SQLITE_LOCKED)$/;

function loadStatic(dir: string): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  const walk = (sub: string) => {
    let entries: string[];
    try {
      entries = readdirSync(join(dir, sub));
    } catch {
      return;
    }
    for (const entry of entries) {
      const rel = sub ? `${sub}/${entry}` : entry;
      const full = join(dir, rel);
      if (statSync(full).isDirectory()) walk(rel);
      else {
        const type = CONTENT_TYPES[extname(entry)];
        if (type) files.set(rel, { body: readFileSync(full), type });
      }
    }
  };
  walk("");
  return files;
}

function wantsHtml(accept: string | undefined, url: string): boolean {
  return !url.startsWith("/hub/api") && (accept ?? "").includes("text/html");
}

/** Fastify as the hub runs it: routing on the path as sent, no schema compilers, no logger of its own. */
function createFastify(options: AppOptions): FastifyInstance {
  return Fastify({
    serverFactory: options.serverFactory,
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    logger: false,
    trustProxy: false,
    // Route on the path as sent: no case folding, no duplicate-slash merging.
    routerOptions: {
      caseSensitive: true,
      ignoreTrailingSlash: false,
      ignoreDuplicateSlashes: false,
      maxParamLength: 200,
    },
    return503OnClosing: true,
    forceCloseConnections: false,
    // Bodies are validated with zod where they enter (parseBody) and replies are plain JSON, so
    // Fastify's schema compilers (ajv, fast-json-stringify) are never needed; leaving them unloaded
    // shortens the hub's start. A route that declares a JSON schema fails when it is registered.
    schemaController: {
      compilersFactory: {
        buildValidator: () => () => {
          throw new Error("Routes validate with zod (parseBody), not with a Fastify schema.");
        },
        buildSerializer: () => () => {
          throw new Error("Routes reply with plain JSON, not with a Fastify response schema.");
        },
      },
    },
  });
}

async function registerBodyParsers(app: FastifyInstance): Promise<void> {
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 16 * 1024 });

  // JupyterHub clients POST with an empty body to start a server: treat it as {}.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new SlipwayError("invalid_json"), undefined);
    }
  });
  // `text/plain` is what a cross-site form can send without a preflight: refuse it outright.
  app.removeContentTypeParser("text/plain");
}

function registerSecurityHeaders(app: FastifyInstance, hsts: boolean): void {
  app.addHook("onSend", async (request, reply, payload) => {
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "same-origin");
    reply.header("x-frame-options", "DENY");
    reply.header("content-security-policy", CSP);
    if (hsts) reply.header("strict-transport-security", "max-age=31536000");
    if (!reply.hasHeader("cache-control") && request.url.startsWith("/hub/api"))
      reply.header("cache-control", "no-store");
    return payload;
  });
}

/** Every failure becomes an entry of the catalogue: JSON for the API, an error page for browsers. */
function registerErrorHandlers(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    let slipway: SlipwayError;
    if (isSlipwayError(error)) slipway = error;
    else {
      const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
      const mapped = FASTIFY_CODES[code];
      if (mapped) slipway = new SlipwayError(mapped);
      else if (STORE_DOWN.test(code)) {
        log.warn({ code, method: request.method, url: request.url.split("?")[0] }, "database unavailable");
        slipway = new SlipwayError("store_unavailable");
      } else {
        log.error({ err: error, method: request.method, url: request.url.split("?")[0] }, "request failed");
        slipway = new SlipwayError("internal");
      }
    }
    const wait = retryAfterOf(slipway);
    if (wait !== undefined) reply.header("retry-after", String(wait));
    if (slipway.code === "store_unavailable") reply.header("retry-after", "5");
    reply.code(slipway.status);
    if (wantsHtml(request.headers.accept, request.url)) {
      reply.type("text/html; charset=utf-8");
      return errorPage(slipway.status, slipway.message, request.principal?.user);
    }
    return { status: slipway.status, message: slipway.message, code: slipway.code };
  });

  app.setNotFoundHandler((request, reply) => {
    const entry = errorCatalogue.not_found;
    reply.code(404);
    if (wantsHtml(request.headers.accept, request.url)) {
      reply.type("text/html; charset=utf-8");
      return errorPage(404, entry.message);
    }
    return { status: 404, message: entry.message, code: "not_found" };
  });
}

function registerStatic(app: FastifyInstance, staticDir: string): void {
  const files = loadStatic(staticDir);
  app.get<{ Params: { "*": string } }>("/hub/static/*", async (request, reply) => {
    const file = files.get(request.params["*"]);
    if (!file) throw new SlipwayError("not_found");
    reply.header("cache-control", "public, max-age=300");
    reply.type(file.type);
    return file.body;
  });
}

export async function buildApp(ctx: HttpContext, options: AppOptions): Promise<FastifyInstance> {
  const app = createFastify(options);
  await registerBodyParsers(app);
  app.decorateRequest("principal", null);
  registerSecurityHeaders(app, options.hsts);
  registerErrorHandlers(app, ctx.log);
  registerStatic(app, options.staticDir);

  registerApiRoutes(app, ctx);
  registerPages(app, ctx, () => newToken(32));
  return app;
}
