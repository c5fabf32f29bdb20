import type { FastifyInstance } from "fastify";
import type { HttpContext } from "../context.js";
import { registerAuditRoutes } from "./api-audit.js";
import { registerBatchRoutes } from "./api-batch.js";
import { registerCurrentUserRoute } from "./api-current-user.js";
import { registerEventRoutes } from "./api-events.js";
import { registerGroupRoutes } from "./api-groups.js";
import { registerHubRoutes } from "./api-hub.js";
import { registerNamedServerRoutes } from "./api-named-server.js";
import { registerServerProgressRoutes } from "./api-server-progress.js";
import { registerServerStartRoutes } from "./api-server-start.js";
import { registerServerStopRoutes } from "./api-server-stop.js";
import { registerTokenRoutes } from "./api-tokens.js";
import { registerUserCreationRoutes } from "./api-user-creation.js";
import { registerUserListRoute } from "./api-user-list.js";
import { registerUserSetupLinkRoute } from "./api-user-setup-link.js";
import { registerUserRoutes } from "./api-user.js";

/**
 * The REST API, one module per route or per small group of routes on the same resource. Each
 * route reads as a pipeline: authenticate (and check the scope), validate the input with its
 * schema, call the service, answer through a presenter.
 */
export function registerApiRoutes(app: FastifyInstance, ctx: HttpContext): void {
  registerHubRoutes(app, ctx);

  registerCurrentUserRoute(app, ctx);
  registerUserListRoute(app, ctx);
  registerUserCreationRoutes(app, ctx);
  registerUserRoutes(app, ctx);
  registerUserSetupLinkRoute(app, ctx);
  registerGroupRoutes(app, ctx);

  registerServerStartRoutes(app, ctx);
  registerServerStopRoutes(app, ctx);
  registerNamedServerRoutes(app, ctx);
  registerServerProgressRoutes(app, ctx);

  registerTokenRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  registerBatchRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
}
