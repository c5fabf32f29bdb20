/** Entry of the websocket load process: options as JSON in argv[2], progress and result over IPC. */
import { runWsLoad, wsLoadOptionsSchema, type WsLoadResult } from "./ws-load.js";

type Message = { type: "measuring" } | { type: "measured" } | { type: "result"; result: WsLoadResult };

function send(message: Message): void {
  process.send?.(message);
}

const options = wsLoadOptionsSchema.parse(JSON.parse(process.argv[2] ?? "null"));
const result = await runWsLoad(options, (on) => send({ type: on ? "measuring" : "measured" }));
send({ type: "result", result });
process.disconnect?.();
