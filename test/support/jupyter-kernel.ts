import { randomUUID } from "node:crypto";
import WebSocket from "ws";

/** Runs `code` on a kernel through its websocket and returns what it printed. */
export function executeOnKernel(
  url: string,
  code: string,
  headers: Record<string, string>,
  timeoutMs = 30_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const msgId = randomUUID();
    let output = "";
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no reply from the kernel within ${timeoutMs} ms; got ${JSON.stringify(output)}`));
    }, timeoutMs);
    ws.on("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`websocket refused with HTTP ${res.statusCode}`));
    });
    ws.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on("open", () => {
      ws.send(
        JSON.stringify({
          header: {
            msg_id: msgId,
            username: "test",
            session: randomUUID(),
            msg_type: "execute_request",
            version: "5.3",
            date: new Date().toISOString(),
          },
          parent_header: {},
          metadata: {},
          content: {
            code,
            silent: false,
            store_history: false,
            user_expressions: {},
            allow_stdin: false,
            stop_on_error: true,
          },
          channel: "shell",
          buffers: [],
        }),
      );
    });
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data)) as {
        msg_type?: string;
        header?: { msg_type?: string };
        parent_header?: { msg_id?: string };
        content?: { name?: string; text?: string; execution_state?: string };
      };
      if (msg.parent_header?.msg_id !== msgId) return;
      const type = msg.header?.msg_type ?? msg.msg_type;
      if (type === "stream" && msg.content?.text) output += msg.content.text;
      if (type === "status" && msg.content?.execution_state === "idle") {
        clearTimeout(timer);
        ws.close();
        resolve(output);
      }
    });
  });
}

/** Opens a websocket and reports how the handshake ended: "open" or the HTTP status it got. */
export function tryWebsocket(url: string, headers: Record<string, string>): Promise<"open" | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on("open", () => {
      ws.terminate();
      resolve("open");
    });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("error", (err) => reject(err));
  });
}
