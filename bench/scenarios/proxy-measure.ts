import { CpuWindow, readRssKiB, type RolePids } from "../lib/proc.js";
import { figureOf, fmt, type Figure } from "../lib/report.js";
import { runWrk } from "../lib/wrk.js";
import { runWsLoadProcess } from "../lib/ws-load-process.js";
import type { BenchContext } from "./context.js";

/** A server process behind the subjects, and its processes whose CPU is counted, by role. */
export interface ProxyBackend {
  readonly roles: Readonly<Record<string, RolePids>>;
}

/** One way to reach a backend: straight, or through a proxy. */
export interface ProxySubject<B extends ProxyBackend = ProxyBackend> {
  readonly name: string;
  readonly baseUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The proxy's processes (none for direct). */
  readonly proxyPids: RolePids;
  /** The server this subject reaches: subjects reach one process where they can, else identical ones. */
  readonly backend: B;
}

/** A path, or one that depends on the backend (a kernel's id). */
export type TestPath<B extends ProxyBackend> = string | ((backend: B) => string);

export type ProxyTest<B extends ProxyBackend = ProxyBackend> = (
  | {
      readonly kind: "http";
      readonly name: string;
      readonly path: TestPath<B>;
      readonly connections: number;
    }
  | {
      readonly kind: "ws";
      readonly name: string;
      readonly path: TestPath<B>;
      readonly connections: number;
      readonly payloadBytes: number;
      readonly mode: "echo" | "kernel-info";
    }
) & {
  /** Part of the `--quick` smoke run (which still exercises every kind of load). */
  readonly quick?: boolean;
};

interface Sample {
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly ops: number;
  readonly cpuSeconds: Record<string, number>;
  readonly errors: number;
  readonly firstP50?: number | null;
  readonly firstP99?: number | null;
}

async function measureOnce<B extends ProxyBackend>(
  ctx: BenchContext,
  test: ProxyTest<B>,
  subject: ProxySubject<B>,
  roles: Record<string, RolePids>,
  seconds: number,
): Promise<Sample> {
  const path = typeof test.path === "string" ? test.path : test.path(subject.backend);
  if (test.kind === "http") {
    const window = new CpuWindow(roles);
    const r = await runWrk(ctx.supervisor, {
      url: subject.baseUrl + path,
      connections: test.connections,
      durationSeconds: seconds,
      headers: subject.headers,
    });
    return {
      rate: r.requestsPerSecond,
      p50: r.p50Ms,
      p99: r.p99Ms,
      ops: r.requests,
      cpuSeconds: window.close(),
      errors: r.non2xx + r.socketErrors,
    };
  }
  let window: CpuWindow | undefined;
  let cpuSeconds: Record<string, number> = {};
  const r = await runWsLoadProcess(
    ctx.supervisor,
    {
      url: subject.baseUrl.replace(/^http/, "ws") + path,
      headers: { ...subject.headers },
      connections: test.connections,
      payloadBytes: test.payloadBytes,
      warmupMs: Math.round(ctx.options.warmupSeconds * 1000),
      durationMs: Math.round(seconds * 1000),
      mode: test.mode,
    },
    {
      open: () => {
        window = new CpuWindow(roles);
      },
      close: () => {
        cpuSeconds = window?.close() ?? {};
      },
    },
  );
  return {
    rate: r.messagesPerSecond,
    p50: r.p50Ms,
    p99: r.p99Ms,
    ops: r.messages,
    cpuSeconds,
    errors: r.errors,
    firstP50: r.firstP50Ms,
    firstP99: r.firstP99Ms,
  };
}

/** Each run visits the subjects in a rotated order, so no subject always goes first or last. */
function rotated<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * Runs every test against every subject, `runs` times, interleaved, and adds one row per test
 * and subject: rate, p50, p99 and CPU per request (or message) of the proxy and of the backend
 * the subject reaches.
 */
export async function measureProxies<B extends ProxyBackend>(
  ctx: BenchContext,
  group: string,
  tests: readonly ProxyTest<B>[],
  subjects: readonly ProxySubject<B>[],
): Promise<void> {
  const { runs, durationSeconds, warmupSeconds, quick } = ctx.options;
  for (const test of tests.filter((t) => !quick || t.quick === true)) {
    if (test.kind === "http" && !quick) {
      for (const subject of subjects) {
        await measureOnce(ctx, test, subject, {}, Math.max(1, Math.round(warmupSeconds * 2)));
      }
    }
    const samples = new Map<string, Sample[]>(subjects.map((s) => [s.name, []]));
    for (let run = 0; run < runs; run++) {
      for (const subject of rotated(subjects, run)) {
        const roles = { proxy: subject.proxyPids, ...subject.backend.roles };
        const sample = await measureOnce(ctx, test, subject, roles, durationSeconds);
        samples.get(subject.name)?.push(sample);
        ctx.log(
          `${test.name} run ${run + 1}/${runs} ${subject.name}: ${fmt(sample.rate)}/s p50 ${fmt(sample.p50)} ms ` +
            `p99 ${fmt(sample.p99)} ms${sample.errors > 0 ? ` errors ${sample.errors}` : ""}`,
        );
      }
    }
    const unit = test.kind === "http" ? "req/s" : "msg/s";
    const perOp = test.kind === "http" ? "µs/req" : "µs/msg";
    for (const subject of subjects) {
      const list = samples.get(subject.name) ?? [];
      const figures: Record<string, Figure> = {
        p50: figureOf(
          list.map((s) => s.p50),
          "ms",
        ),
        p99: figureOf(
          list.map((s) => s.p99),
          "ms",
        ),
      };
      for (const role of ["proxy", ...Object.keys(subject.backend.roles)]) {
        if (role === "proxy" && subject.proxyPids().length === 0) continue;
        figures[`CPU ${role}`] = figureOf(
          list.map((s) => ((s.cpuSeconds[role] ?? 0) * 1e6) / Math.max(1, s.ops)),
          perOp,
        );
      }
      if (list.some((s) => s.firstP50 !== undefined && s.firstP50 !== null)) {
        figures["first msg p50"] = figureOf(
          list.map((s) => s.firstP50 ?? Number.NaN),
          "ms",
        );
        figures["first msg p99"] = figureOf(
          list.map((s) => s.firstP99 ?? Number.NaN),
          "ms",
        );
      }
      const errors = list.reduce((sum, s) => sum + s.errors, 0);
      if (errors > 0) figures["errors"] = figureOf([errors], "count");
      ctx.addRow({
        group,
        test: test.name,
        subject: subject.name,
        primary: {
          name: unit,
          higherIsBetter: true,
          ...figureOf(
            list.map((s) => s.rate),
            unit,
          ),
        },
        figures,
      });
    }
  }
}

/** RSS of a proxy, in MiB (0 when it is gone). */
export function rssMiB(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (readRssKiB(pid) ?? 0), 0) / 1024;
}
