import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Logger } from "../ports/logger.js";
import type { Assembly } from "./assembly.js";

export interface IdleCollectorOptions {
  /** How often the event loop's load is sampled. */
  readonly intervalMs: number;
  /** Event-loop utilisation (0–1) above which an interval counts as busy. */
  readonly busyAbove: number;
  /** ... and below which it counts as quiet. */
  readonly quietBelow: number;
  readonly log: Logger;
  /** Event-loop utilisation since the previous call (default: from perf_hooks); for tests. */
  readonly utilization?: () => number;
  /** Lets go of what is only worth keeping under load, just before the collection. */
  readonly beforeCollect?: () => void;
  /** Runs a full collection (default: V8's, exposed at run time); for tests. */
  readonly collect?: () => void;
}

export interface IdleCollector {
  stop(): void;
}

type CollectGarbage = () => void;

function eventLoopUtilization(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    return utilization;
  };
}

/** V8's collector as a function; the flag must be set before the context that exposes it exists. */
function collectorFunction(): CollectGarbage | undefined {
  setFlagsFromString("--expose-gc");
  const gc: unknown = runInNewContext("typeof gc === 'function' ? gc : undefined");
  return typeof gc === "function" ? () => void gc() : undefined;
}

/**
 * Runs one full garbage collection when the hub goes quiet after a busy spell. Under proxy load
 * V8 grows its young generation and leaves dead objects in the old one; with no allocation after
 * the load nothing triggers a collection, so the process keeps that memory for as long as it is
 * idle. One collection at the first quiet interval lets V8 shrink both and return the pages.
 * Quiet means the event loop was nearly idle for a whole interval, so the pause costs no request
 * any latency that matters; a hub that never gets busy never collects.
 */
export function startIdleCollector(options: IdleCollectorOptions): IdleCollector {
  const collect = options.collect ?? collectorFunction();
  if (!collect) {
    options.log.warn(
      { event: "idle_gc_unavailable" },
      "cannot run V8's collector; idle memory is not reclaimed",
    );
    return { stop: () => undefined };
  }
  const utilizationSinceLast = options.utilization ?? eventLoopUtilization();
  let busySinceCollect = false;
  const timer = setInterval(() => {
    const utilization = utilizationSinceLast();
    if (utilization > options.busyAbove) {
      busySinceCollect = true;
      return;
    }
    if (busySinceCollect && utilization < options.quietBelow) {
      busySinceCollect = false;
      const before = process.memoryUsage.rss();
      const started = performance.now();
      options.beforeCollect?.();
      collect();
      options.log.debug(
        {
          event: "idle_gc",
          ms: Math.round(performance.now() - started),
          rssBefore: before,
          rssAfter: process.memoryUsage.rss(),
        },
        "collected garbage after a busy spell",
      );
    }
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * The hub's collector, sampling every 2 s: busy above a fifth of the event loop, quiet below a
 * twentieth. Just before it collects, the proxy lets go of its spare read buffers.
 */
export function startHubIdleCollector(
  { log, disposables }: Assembly,
  proxy: { releaseSpareBuffers(): void },
): IdleCollector {
  const collector = startIdleCollector({
    intervalMs: 2000,
    busyAbove: 0.2,
    quietBelow: 0.05,
    beforeCollect: () => proxy.releaseSpareBuffers(),
    log: log("memory"),
  });
  disposables.add(() => collector.stop());
  return collector;
}
