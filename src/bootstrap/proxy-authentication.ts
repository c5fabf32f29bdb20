import { can, type Principal } from "../domain/principal.js";
import { readCookie } from "../http/cookies.js";
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
      s && s.session.stage === "full" ? toProxy(s.principal) : null;
    return resolved instanceof Promise ? resolved.then(pick) : pick(resolved);
  };
  return proxyAuthenticate;
}
