import type { TargetProbe } from "../ports/target-probe.js";
import type { TargetPins } from "./target-connection.js";

/**
 * `TargetProbe` over the same channels the proxy forwards on. No keep-alive: each probe stands
 * alone, so no idle connection outlives a start.
 */
export function targetStatus(pins: TargetPins): TargetProbe {
  return (target, path, token, timeoutMs) =>
    new Promise((resolve) => {
      const req = pins.request(target, {
        path,
        method: "GET",
        headers: { Authorization: `token ${token}` },
        timeout: timeoutMs,
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => resolve(undefined));
      req.end();
    });
}
