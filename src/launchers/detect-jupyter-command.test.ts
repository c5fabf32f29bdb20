import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { detectJupyterCommand } from "./detect-jupyter-command.js";

describe("detectJupyterCommand", () => {
  let root = "";
  const dir = (name: string) => join(root, name);

  async function program(d: string, name: string, mode = 0o755): Promise<void> {
    await mkdir(dir(d), { recursive: true });
    await writeFile(join(dir(d), name), "#!/bin/sh\n");
    await chmod(join(dir(d), name), mode);
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "slipway-detect-"));
    await program("classic", "jupyter");
    await program("classic", "jupyter-notebook");
    await program("lab", "jupyter");
    await program("lab", "jupyter-lab");
    await program("lonely", "jupyter-server");
    await program("noexec", "jupyter-lab", 0o644);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("prefers JupyterLab even when Notebook comes first on PATH", () => {
    const path = [dir("classic"), dir("lab")].join(":");
    assert.deepEqual(detectJupyterCommand(path), [join(dir("lab"), "jupyter"), "lab"]);
  });

  it("falls back to the classic Notebook", () => {
    assert.deepEqual(detectJupyterCommand(dir("classic")), [join(dir("classic"), "jupyter"), "notebook"]);
  });

  it("runs the subcommand's own program when no jupyter sits beside it", () => {
    assert.deepEqual(detectJupyterCommand(dir("lonely")), [join(dir("lonely"), "jupyter-server")]);
  });

  it("ignores files that are not executable", () => {
    assert.deepEqual(detectJupyterCommand([dir("noexec"), dir("classic")].join(":")), [
      join(dir("classic"), "jupyter"),
      "notebook",
    ]);
  });

  it("finds nothing on an empty or relative PATH", () => {
    assert.equal(detectJupyterCommand(""), undefined);
    assert.equal(detectJupyterCommand(undefined), undefined);
    assert.equal(detectJupyterCommand("relative/bin"), undefined);
  });
});
