import { Proxy } from "./proxy.js";
import { createFrontDoor } from "./front-door.js";
import type { ProxyPrincipal } from "./types.js";
const alice: ProxyPrincipal = { userName: "alice", admin: false, via: "token", sessionKey: "t", mayAccess: (o) => o === "alice" };
const tokens = new Map([["token tok-alice", alice]]);
const proxy = new Proxy({
  authenticate: (req) => tokens.get(req.headers.authorization ?? "") ?? null,
  resolveMiss: async () => undefined,
  allowedOrigins: ["http://127.0.0.1:8000"],
  hubCookieNames: ["slipway-session"],
  now: () => new Date(),
});
proxy.routes.setRoute({ serverId: 1, owner: "alice", serverName: "", target: { host: "127.0.0.1", port: Number(process.argv[2]) }, token: "t" });
const door = createFrontDoor({ proxy, app: (_q, r) => r.end("app") , server: { keepAliveTimeout: 60000 } });
await door.listen(Number(process.argv[3]), "127.0.0.1");
console.log("ready");
process.on("SIGINT", () => process.exit(0));
