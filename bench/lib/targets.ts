import { fmt, SLIPWAY, type Row, type TargetCheck } from "./report.js";

/** `GET /hub/api/audit` over 100,000 events: p95 at most this, an absolute target (no anchor has the API). */
const AUDIT_P95_MS = 50;

type Pick = (group: string, test: string, subject: string) => Row | undefined;

function finder(rows: readonly Row[]): Pick {
  return (group, test, subject) =>
    rows.find(
      (r) => r.group === group && r.test === test && r.subject === subject && r.primary.summary.n > 0,
    );
}

const median = (row: Row | undefined, figure?: string): number | undefined => {
  if (row === undefined) return undefined;
  const s = figure === undefined ? row.primary.summary : row.figures[figure]?.summary;
  return s !== undefined && s.n > 0 && Number.isFinite(s.median) ? s.median : undefined;
};

function ratioCheck(
  id: string,
  target: string,
  value: number | undefined,
  anchor: number | undefined,
  limit: number,
  direction: "atLeast" | "atMost",
  label: (v: number, a: number, r: number) => string,
): TargetCheck {
  if (value === undefined || anchor === undefined || anchor === 0) {
    return { id, target, measured: "not measured", met: undefined };
  }
  const r = value / anchor;
  return {
    id,
    target,
    measured: label(value, anchor, r),
    met: direction === "atLeast" ? r >= limit : r <= limit,
  };
}

function absoluteCheck(
  id: string,
  target: string,
  value: number | undefined,
  limit: number,
  label: (v: number) => string,
): TargetCheck {
  if (value === undefined) return { id, target, measured: "not measured", met: undefined };
  return { id, target, measured: label(value), met: value <= limit };
}

/** The targets, each a ratio against an anchor measured in this run (or an absolute limit). */
export function evaluateTargets(rows: readonly Row[]): TargetCheck[] {
  const find = finder(rows);
  const checks: TargetCheck[] = [];

  const small = find("proxy-trivial", "small GET c50", SLIPWAY);
  for (const anchor of ["chp5", "chp4"]) {
    const other = find("proxy-trivial", "small GET c50", anchor);
    if (anchor === "chp4" && other === undefined) continue;
    checks.push(
      ratioCheck(
        `proxy-small-c50-vs-${anchor}`,
        `Proxy, small GET, 50 connections, trivial backend: ≥ 5× ${anchor}'s req/s`,
        median(small),
        median(other),
        5,
        "atLeast",
        (v, a, r) => `${fmt(v)} vs ${fmt(a)} req/s = ${fmt(r, 2)}×`,
      ),
    );
  }
  const direct = (test: string) => find("proxy-trivial", test, "direct");
  checks.push(
    ratioCheck(
      "proxy-1mib",
      "Proxy, 1 MiB responses (50 connections): ≥ 0.8× direct req/s",
      median(find("proxy-trivial", "1 MiB GET c50", SLIPWAY)),
      median(direct("1 MiB GET c50")),
      0.8,
      "atLeast",
      (v, a, r) => `${fmt(v)} vs ${fmt(a)} req/s direct = ${fmt(r, 2)}×`,
    ),
  );
  for (const test of ["ws echo 32 B c1", "ws echo 32 B c50", "ws echo 64 KiB c1", "ws echo 64 KiB c50"]) {
    checks.push(
      ratioCheck(
        `proxy-${test.replaceAll(" ", "-")}`,
        `Websocket echo (${test.slice(8)}): ≥ 0.8× direct msg/s`,
        median(find("proxy-trivial", test, SLIPWAY)),
        median(direct(test)),
        0.8,
        "atLeast",
        (v, a, r) => `${fmt(v)} vs ${fmt(a)} msg/s direct = ${fmt(r, 2)}×`,
      ),
    );
  }
  for (const test of ["status GET c50", "1 MiB file GET c50"]) {
    checks.push(
      ratioCheck(
        `jupyter-p99-${test.replaceAll(" ", "-")}`,
        `In front of jupyter-server, ${test}: p99 ≤ 1.2× direct`,
        median(find("proxy-jupyter", test, SLIPWAY), "p99"),
        median(find("proxy-jupyter", test, "direct"), "p99"),
        1.2,
        "atMost",
        (v, a, r) => `p99 ${fmt(v)} vs ${fmt(a)} ms direct = ${fmt(r, 2)}×`,
      ),
    );
  }

  const spawn = median(find("spawn", "1 user", SLIPWAY));
  const bare = median(find("spawn", "1 user", "bare"));
  const jhSpawn = median(find("spawn", "1 user", "jupyterhub"));
  checks.push(
    spawn === undefined || bare === undefined
      ? {
          id: "spawn-1",
          target: "Local spawn to ready ≤ bare server start + 0.15 s",
          measured: "not measured",
          met: undefined,
        }
      : {
          id: "spawn-1",
          target: "Local spawn to ready ≤ bare server start + 0.15 s",
          measured: `${fmt(spawn, 3)} s vs bare ${fmt(bare, 3)} s (+${fmt(spawn - bare, 3)} s)`,
          met: spawn <= bare + 0.15,
        },
  );
  checks.push(
    ratioCheck(
      "spawn-1-vs-jupyterhub",
      "Local spawn to ready well under JupyterHub's median",
      spawn,
      jhSpawn,
      1,
      "atMost",
      (v, a, r) => `${fmt(v, 3)} vs ${fmt(a, 3)} s = ${fmt(r, 2)}×`,
    ),
  );
  const concurrentTest = rows.find((r) => r.group === "spawn" && r.test.endsWith("at once"))?.test ?? "";
  checks.push(
    ratioCheck(
      "spawn-concurrent",
      `${concurrentTest || "Many at once"}: all ready ≤ 0.5× JupyterHub's time`,
      median(find("spawn", concurrentTest, SLIPWAY)),
      median(find("spawn", concurrentTest, "jupyterhub")),
      0.5,
      "atMost",
      (v, a, r) => `${fmt(v, 2)} vs ${fmt(a, 2)} s = ${fmt(r, 2)}×`,
    ),
  );

  checks.push(
    ratioCheck(
      "users-200",
      "GET /hub/api/users, 200 users: p50 ≤ 0.1× JupyterHub's",
      median(find("hub-api", "200 users c1", SLIPWAY), "p50"),
      median(find("hub-api", "200 users c1", "jupyterhub"), "p50"),
      0.1,
      "atMost",
      (v, a, r) => `p50 ${fmt(v)} vs ${fmt(a)} ms = ${fmt(r, 3)}×`,
    ),
  );
  const pageTest = rows.find((r) => r.group === "hub-api" && r.test.includes("users page"))?.test ?? "";
  checks.push(
    absoluteCheck(
      "users-10k",
      "GET /hub/api/users, 10,000 users (paginated): p50 ≤ 5 ms",
      median(find("hub-api", pageTest, SLIPWAY), "p50"),
      5,
      (v) => `p50 ${fmt(v)} ms (${pageTest})`,
    ),
  );
  for (const test of ["fresh data directory", "restart with 200 users"]) {
    checks.push(
      absoluteCheck(
        `cold-start-${test.replaceAll(" ", "-")}`,
        `Hub cold start to /hub/health (${test}) ≤ 0.5 s`,
        median(find("cold-start", test, SLIPWAY)),
        0.5,
        (v) => `${fmt(v, 3)} s`,
      ),
    );
  }
  checks.push(
    absoluteCheck(
      "memory-idle",
      "Memory idle ≤ 100 MiB for the whole hub including its proxy",
      median(find("memory", "idle, fresh", SLIPWAY)),
      100,
      (v) => `${fmt(v, 1)} MiB`,
    ),
  );
  const loaded = median(find("memory", "before the load", SLIPWAY));
  const settled = median(find("memory", "after the load, settled", SLIPWAY));
  checks.push(
    loaded === undefined || settled === undefined
      ? {
          id: "memory-back",
          target: "Memory back within 10% of idle after the load",
          measured: "not measured",
          met: undefined,
        }
      : {
          id: "memory-back",
          target: "Memory back within 10% of idle after the load",
          measured: `${fmt(settled, 1)} MiB after vs ${fmt(loaded, 1)} MiB before (${fmt((settled / loaded - 1) * 100, 1)}%)`,
          met: settled <= loaded * 1.1,
        },
  );
  checks.push(...auditChecks(rows, find));
  return checks;
}

/** One check per audit test and store measured in this run: p95 ≤ 50 ms. */
function auditChecks(rows: readonly Row[], find: Pick): TargetCheck[] {
  const measured = rows.filter((r) => r.group === "audit");
  return [...new Set(measured.map((r) => `${r.subject}\u0000${r.test}`))].map((key) => {
    const [subject = "", test = ""] = key.split("\u0000");
    return absoluteCheck(
      `audit-${subject}-${test.replace(/[^a-z0-9]+/g, "-")}`,
      `GET /hub/api/audit, 100,000 events, ${test} (${subject.replace("slipway-", "")}): p95 ≤ ${AUDIT_P95_MS} ms`,
      median(find("audit", test, subject)),
      AUDIT_P95_MS,
      (v) => `p95 ${fmt(v)} ms (p50 ${fmt(median(find("audit", test, subject), "p50") ?? Number.NaN)} ms)`,
    );
  });
}
