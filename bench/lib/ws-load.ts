import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import { z } from "zod";
import { quantile } from "./stats.js";

/**
 * `echo`: each connection sends a frame of `payloadBytes` and waits for it to come back, in a
 * closed loop. `kernel-info`: a Jupyter kernel's channels socket; each connection sends a
 * `kernel_info_request` and waits for the reply; the first message about the request (iopub
 * `status: busy`) is timed separately.
 */
export const wsLoadOptionsSchema = z.strictObject({
  url: z.string().url(),
  headers: z.record(z.string(), z.string()),
  connections: z.int().min(1).max(1000),
  payloadBytes: z
    .int()
    .min(1)
    .max(16 * 1024 * 1024),
  warmupMs: z.int().min(0).max(60_000),
  durationMs: z.int().min(100).max(600_000),
  mode: z.enum(["echo", "kernel-info"]),
});
export type WsLoadOptions = z.infer<typeof wsLoadOptionsSchema>;

export const wsLoadResultSchema = z.strictObject({
  messages: z.number(),
  seconds: z.number(),
  messagesPerSecond: z.number(),
  p50Ms: z.number(),
  p99Ms: z.number(),
  firstP50Ms: z.number().nullable(),
  firstP99Ms: z.number().nullable(),
  errors: z.number(),
});
export type WsLoadResult = z.infer<typeof wsLoadResultSchema>;

/** A growing buffer of samples without one allocation per sample. */
class Samples {
  private data = new Float64Array(4096);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

interface Counters {
  measuring: boolean;
  stopped: boolean;
  messages: number;
  errors: number;
  readonly latency: Samples;
  readonly first: Samples;
}

function open(options: WsLoadOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(options.url, { headers: options.headers, perMessageDeflate: false });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) =>
      reject(new Error(`websocket refused with HTTP ${res.statusCode ?? 0}`)),
    );
    ws.once("error", reject);
  });
}

function echoLoop(ws: WebSocket, payload: Buffer, counters: Counters): void {
  let sentAt = 0;
  const send = () => {
    if (counters.stopped) return;
    sentAt = performance.now();
    ws.send(payload);
  };
  ws.on("message", () => {
    if (counters.measuring) {
      counters.latency.push(performance.now() - sentAt);
      counters.messages += 1;
    }
    send();
  });
  send();
}

interface KernelMessage {
  readonly parentId: string | undefined;
  readonly type: string | undefined;
}

function readKernelMessage(data: WebSocket.RawData): KernelMessage {
  const parsed: unknown = JSON.parse(String(data));
  if (typeof parsed !== "object" || parsed === null) return { parentId: undefined, type: undefined };
  const parent = "parent_header" in parsed ? parsed.parent_header : undefined;
  const header = "header" in parsed ? parsed.header : undefined;
  const parentId =
    typeof parent === "object" && parent !== null && "msg_id" in parent && typeof parent.msg_id === "string"
      ? parent.msg_id
      : undefined;
  const type =
    typeof header === "object" &&
    header !== null &&
    "msg_type" in header &&
    typeof header.msg_type === "string"
      ? header.msg_type
      : undefined;
  return { parentId, type };
}

function kernelInfoLoop(ws: WebSocket, counters: Counters): void {
  const session = randomUUID();
  let msgId = "";
  let sentAt = 0;
  let firstSeen = false;
  const send = () => {
    if (counters.stopped) return;
    msgId = randomUUID();
    firstSeen = false;
    sentAt = performance.now();
    ws.send(
      JSON.stringify({
        header: {
          msg_id: msgId,
          username: "bench",
          session,
          msg_type: "kernel_info_request",
          version: "5.3",
          date: new Date().toISOString(),
        },
        parent_header: {},
        metadata: {},
        content: {},
        channel: "shell",
        buffers: [],
      }),
    );
  };
  ws.on("message", (data) => {
    const msg = readKernelMessage(data);
    if (msg.parentId !== msgId) return;
    const elapsed = performance.now() - sentAt;
    if (!firstSeen) {
      firstSeen = true;
      if (counters.measuring) counters.first.push(elapsed);
    }
    if (msg.type !== "kernel_info_reply") return;
    if (counters.measuring) {
      counters.latency.push(elapsed);
      counters.messages += 1;
    }
    send();
  });
  send();
}

/** Runs the load in this process: connect, warm up, measure for `durationMs`, close. */
export async function runWsLoad(
  options: WsLoadOptions,
  onMeasuring?: (on: boolean) => void,
): Promise<WsLoadResult> {
  const sockets = await Promise.all(Array.from({ length: options.connections }, () => open(options)));
  const counters: Counters = {
    measuring: false,
    stopped: false,
    messages: 0,
    errors: 0,
    latency: new Samples(),
    first: new Samples(),
  };
  const payload = Buffer.alloc(options.payloadBytes, 0x61);
  for (const ws of sockets) {
    ws.on("error", () => {
      counters.errors += 1;
    });
    if (options.mode === "echo") echoLoop(ws, payload, counters);
    else kernelInfoLoop(ws, counters);
  }
  await sleep(options.warmupMs);
  onMeasuring?.(true);
  const started = performance.now();
  counters.measuring = true;
  await sleep(options.durationMs);
  counters.measuring = false;
  const seconds = (performance.now() - started) / 1000;
  onMeasuring?.(false);
  counters.stopped = true;
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.once("close", () => resolve());
          ws.close();
          setTimeout(() => {
            ws.terminate();
            resolve();
          }, 1000).unref();
        }),
    ),
  );
  const latency = counters.latency.view();
  const first = counters.first.view();
  return {
    messages: counters.messages,
    seconds,
    messagesPerSecond: counters.messages / seconds,
    p50Ms: quantile(latency, 0.5),
    p99Ms: quantile(latency, 0.99),
    firstP50Ms: first.length > 0 ? quantile(first, 0.5) : null,
    firstP99Ms: first.length > 0 ? quantile(first, 0.99) : null,
    errors: counters.errors,
  };
}
