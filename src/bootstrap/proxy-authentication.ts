import { can, type Principal } from "../domain/principal.js";
import type { Session } from "../domain/types.js";
import { peerOfSocket } from "../http/context.js";
import { headerValuesIn } from "../http/header-values.js";
import { readCookie } from "../http/cookies.js";
import type { Authenticator } from "../ports/authenticator.js";
import type { CredentialRequest, ProxyAuthenticate, ProxyPrincipal } from "../proxy/types.js";
import type { SessionService } from "../services/session-service.js";
import { TokenService } from "../services/token-service.js";

/**
 * The proxy's view of the hub's credentials: an API token or a full session cookie. It answers
 * synchronously when the credential is cached, so the proxy's hot path has no await.
 */
export function proxyAuthentication(deps: {
  tokens: TokenService;
  sessions: SessionService;
  sessionCookie: string;
  /** A front door's check that each request still names the session's user (trusted-header mode). */
  stillVouches?: Authenticator["stillVouches"];
}): ProxyAuthenticate {
  const { tokens, sessions } = deps;
  const proxyPrincipals = new WeakMap<Principal, ProxyPrincipal>();
  const toProxy = (principal: Principal | null): ProxyPrincipal | null => {
    if (!principal) return null;
    let out = proxyPrincipals.get(principal);
    if (!out) {
      out = {
        userName: principal.user.name,
        admin: principal.user.admin,
        via: principal.via,
        sessionKey: principal.credentialKey,
        // Owners reach their servers through the access:servers!user=<self> their role grants;
        // a token narrowed below it (read-only, say) gets no access, as in JupyterHub.
        mayAccess: (owner) => can(principal, "access:servers", owner),
      };
      proxyPrincipals.set(principal, out);
    }
    return out;
  };
  const vouched = (session: Session, req: CredentialRequest): boolean => {
    if (session.auth?.kind !== "header" || deps.stillVouches === undefined) return true;
    const raw = req.rawHeaders ?? req.raw ?? [];
    const values = (name: string) => headerValuesIn(raw, name);
    return deps.stillVouches(session.auth.idpSubject, values, peerOfSocket(req.socket));
  };
  const proxyAuthenticate = (req: CredentialRequest) => {
    const token = TokenService.fromHeader(req.headers.authorization);
    if (token !== undefined) {
      const resolved = tokens.resolve(token);
      return resolved instanceof Promise ? resolved.then(toProxy) : toProxy(resolved);
    }
    const sessionId = readCookie(req.headers.cookie, deps.sessionCookie);
    if (sessionId === undefined) return null;
    const resolved = sessions.resolveSession(sessionId);
    const pick = (s: Awaited<typeof resolved>) =>
      s && s.session.stage === "full" && vouched(s.session, req) ? toProxy(s.principal) : null;
    return resolved instanceof Promise ? resolved.then(pick) : pick(resolved);
  };
  return proxyAuthenticate;
}
