import { z } from "zod";
import { tsNodeArgv } from "./node-argv.js";
import type { Supervisor } from "./supervisor.js";
import { wsLoadResultSchema, type WsLoadOptions, type WsLoadResult } from "./ws-load.js";

const messageSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("measuring") }),
  z.strictObject({ type: z.literal("measured") }),
  z.strictObject({ type: z.literal("result"), result: wsLoadResultSchema }),
]);

/**
 * Runs the websocket load in a process of its own (like wrk), so that its CPU is not the
 * bench's. `window` is told when the measured part starts and ends, to time CPU over exactly it.
 */
export async function runWsLoadProcess(
  supervisor: Supervisor,
  options: WsLoadOptions,
  window: { open(): void; close(): void },
): Promise<WsLoadResult> {
  const [node = process.execPath, ...args] = tsNodeArgv(new URL("./ws-load-main.ts", import.meta.url));
  const proc = supervisor.start("ws-load", node, [...args, JSON.stringify(options)], {
    ipc: true,
    capture: true,
  });
  let result: WsLoadResult | undefined;
  proc.child.on("message", (raw: unknown) => {
    const message = messageSchema.parse(raw);
    if (message.type === "measuring") window.open();
    else if (message.type === "measured") window.close();
    else result = message.result;
  });
  const timer = setTimeout(() => void proc.stop(1000), options.warmupMs + options.durationMs + 30_000);
  const exit = await proc.exited;
  clearTimeout(timer);
  if (result === undefined) {
    throw new Error(`the websocket load failed (${exit.code ?? exit.signal}): ${proc.text.slice(-1500)}`);
  }
  return result;
}
