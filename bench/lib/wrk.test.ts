import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseWrk } from "./wrk.js";

const REPORT = `Running 2s test @ http://127.0.0.1:40000/user/bench/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.12ms    2.01ms  40.00ms   90.00%
    Req/Sec    11.70k     1.20k   13.00k    80.00%
  Latency Distribution
     50%    3.99ms
     75%    4.50ms
     90%    5.10ms
     99%   12.28ms
  23304 requests in 2.00s, 5.93MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:  11652.00
Transfer/sec:      2.96MB
`;

describe("parseWrk", () => {
  it("reads rate, percentiles, counts and errors from wrk's --latency report", () => {
    const r = parseWrk(REPORT);
    assert.equal(r.requests, 23304);
    assert.equal(r.seconds, 2);
    assert.equal(r.requestsPerSecond, 11652);
    assert.equal(r.p50Ms, 3.99);
    assert.equal(r.p99Ms, 12.28);
    assert.equal(r.non2xx, 3);
    assert.equal(r.socketErrors, 3);
    assert.equal(Math.round(r.bytesPerSecond), Math.round(2.96 * 1024 * 1024));
  });

  it("converts microseconds and seconds to milliseconds", () => {
    const r = parseWrk(REPORT.replace("3.99ms", "850.00us").replace("12.28ms", "1.50s"));
    assert.equal(r.p50Ms, 0.85);
    assert.equal(r.p99Ms, 1500);
  });

  it("refuses output without the figures that matter", () => {
    assert.throws(
      () => parseWrk("unable to connect to 127.0.0.1:1 Connection refused"),
      /unexpected wrk output/,
    );
  });
});
