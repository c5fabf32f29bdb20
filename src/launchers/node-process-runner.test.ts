import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeProcessRunner } from "./node-process-runner.js";

const node = process.execPath;

describe("NodeProcessRunner", { timeout: 60_000 }, () => {
  const runner = new NodeProcessRunner();

  it("writes stdin to the program and returns its output and exit code", async () => {
    const script =
      "let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => { process.stdout.write(s.toUpperCase()); process.stderr.write('done'); process.exit(4); });";
    const r = await runner.run([node, "-e", script], { stdin: "hello" });
    assert.deepEqual(r, { code: 4, signal: null, stdout: "HELLO", stderr: "done", timedOut: false });
  });

  it("passes arguments as they are, without a shell to expand them", async () => {
    const r = await runner.run(["echo", "$HOME; ls `id`", "*"]);
    assert.equal(r.stdout, "$HOME; ls `id` *\n");
  });

  it("gives the program only the environment it is told to", async () => {
    const r = await runner.run(
      [node, "-e", "process.stdout.write(Object.keys(process.env).sort().join(','))"],
      {
        env: { ONLY_THIS: "1" },
      },
    );
    assert.equal(r.stdout, "ONLY_THIS");
  });

  it("stops a program that runs past its timeout", async () => {
    const r = await runner.run([node, "-e", "setInterval(() => {}, 1000)"], { timeoutMs: 200 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, "SIGTERM");
  });

  it("kills a program that ignores SIGTERM once the grace period is over", async () => {
    const stubborn = new NodeProcessRunner({ killGraceMs: 200 });
    // The timeout leaves node ample time to install its handler before SIGTERM arrives.
    const script = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)";
    const r = await stubborn.run([node, "-e", script], { timeoutMs: 3000 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, "SIGKILL");
  });

  it("keeps only the first bytes of a flood of output and still waits for the exit", async () => {
    const small = new NodeProcessRunner({ maxOutputBytes: 1000 });
    const r = await small.run([node, "-e", "process.stdout.write('x'.repeat(5 * 1024 * 1024))"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "x".repeat(1000));
  });

  it("rejects when the program does not exist", async () => {
    await assert.rejects(runner.run(["/nonexistent/program"]), /Could not run \/nonexistent\/program/);
  });

  it("rejects an empty argv", async () => {
    await assert.rejects(runner.run([]), /empty argv/);
  });
});
