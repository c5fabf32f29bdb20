import { setTimeout as sleep } from "node:timers/promises";

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
}

export interface HttpOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly timeoutMs?: number;
}

/** One request; a JSON body is sent as JSON. Network errors reject. */
export async function http(url: string, options: HttpOptions = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const res = await fetch(url, {
    method: options.method ?? "GET",
    headers,
    body,
    redirect: "manual",
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** Status of one GET, or 0 when nothing answered (refused, reset, timed out). */
export async function statusOf(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  timeoutMs = 2000,
): Promise<number> {
  try {
    return (await http(url, { headers, timeoutMs })).status;
  } catch {
    return 0;
  }
}

/**
 * Polls `url` every `intervalMs` until it answers 200; resolves with the moment it did
 * (`performance.now()`), or rejects after `timeoutMs`.
 */
export async function waitFor200(
  url: string,
  options: { headers?: Readonly<Record<string, string>>; timeoutMs: number; intervalMs: number },
): Promise<number> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const status = await statusOf(url, options.headers ?? {}, Math.min(2000, options.timeoutMs));
    const now = performance.now();
    if (status === 200) return now;
    if (now > deadline)
      throw new Error(`${url} did not answer 200 within ${options.timeoutMs} ms (last ${status})`);
    await sleep(options.intervalMs);
  }
}

/** Parses a JSON answer, failing with the status and the start of the body when it is not one. */
export function json(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    throw new Error(`expected JSON, got ${answer.status}: ${answer.text.slice(0, 300)}`);
  }
}
