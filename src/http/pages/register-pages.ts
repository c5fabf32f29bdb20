import type { FastifyInstance } from "fastify";
import type { HttpContext } from "../context.js";
import { registerAccountAuthenticatorPage } from "./account-authenticator.js";
import { registerAdminAuditPage } from "./admin-audit.js";
import { registerAdminGroupsPage } from "./admin-groups.js";
import { registerAdminPage } from "./admin.js";
import { registerEnrolTotpPage } from "./enrol-totp.js";
import { registerFirstAdminPage } from "./first-admin.js";
import { registerHomePage } from "./home.js";
import { registerLoginPage } from "./login.js";
import { registerLogoutPage } from "./logout.js";
import { registerOAuthPages, registerSignedOutPage } from "./oauth.js";
import { registerServerLogPage } from "./server-log.js";
import { registerSetupLinkPage } from "./setup-link.js";
import { registerSpawnPendingPage } from "./spawn-pending.js";
import { registerSpawnPage } from "./spawn.js";
import { registerTokensPage } from "./tokens.js";
import { registerTotpPage } from "./totp.js";

/**
 * Every server-rendered page, one module each. The pages of passwords and of the hub's own second
 * factor are there only when the authenticator has them.
 */
export function registerPages(app: FastifyInstance, ctx: HttpContext, randomToken: () => string): void {
  const { keepsPasswords, ownSecondFactor, visitsProvider } = ctx.authenticator.capabilities;
  registerLoginPage(app, ctx, randomToken);
  if (ownSecondFactor) {
    registerTotpPage(app, ctx);
    registerEnrolTotpPage(app, ctx);
  }
  if (ownSecondFactor && keepsPasswords) registerAccountAuthenticatorPage(app, ctx);
  if (keepsPasswords) {
    registerSetupLinkPage(app, ctx, randomToken);
    registerFirstAdminPage(app, ctx, randomToken);
  }
  registerLogoutPage(app, ctx);
  registerSignedOutPage(app);
  if (visitsProvider) registerOAuthPages(app, ctx);

  registerHomePage(app, ctx);
  registerSpawnPage(app, ctx);
  registerSpawnPendingPage(app, ctx);
  registerServerLogPage(app, ctx);
  registerTokensPage(app, ctx);
  registerAdminPage(app, ctx);
  registerAdminGroupsPage(app, ctx);
  registerAdminAuditPage(app, ctx);
}
