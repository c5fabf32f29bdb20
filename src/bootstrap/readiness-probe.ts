import { request as httpRequest, type IncomingMessage } from "node:http";
import type { ReadinessProbe } from "../services/servers-service.js";

/** Asks a Jupyter server's `api/status` with its token: ready means it answers 200. */
export function probeWith(timeoutMs: number): ReadinessProbe {
  return (target, baseUrl, token) =>
    new Promise((done) => {
      const req = httpRequest(
        {
          host: target.host,
          port: target.port,
          path: `${baseUrl}api/status`,
          headers: { authorization: `token ${token}` },
          timeout: timeoutMs,
        },
        (res: IncomingMessage) => {
          res.resume();
          done(res.statusCode === 200);
        },
      );
      req.on("timeout", () => req.destroy());
      req.on("error", () => done(false));
      req.end();
    });
}
