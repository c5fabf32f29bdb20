import { request } from "node:http";

/**
 * The HTTP status of `GET http://<host>:<port><path>` sent with a Jupyter token, or undefined
 * when no answer came (refused, reset, timed out). No keep-alive: each probe stands alone, so no
 * idle socket outlives the start.
 */
export function httpStatus(
  host: string,
  port: number,
  path: string,
  token: string,
  timeoutMs: number,
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        host,
        port,
        path,
        method: "GET",
        agent: false,
        headers: { Authorization: `token ${token}` },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode);
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}
