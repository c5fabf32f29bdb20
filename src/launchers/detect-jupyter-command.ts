import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** In order of preference: JupyterLab, then classic Notebook, then the bare server. */
const CANDIDATES = [
  ["jupyter-lab", "lab"],
  ["jupyter-notebook", "notebook"],
  ["jupyter-server", "server"],
] as const;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The default server command: the first of `jupyter lab`, `jupyter notebook`, `jupyter server`
 * whose program is on `pathEnv`, or undefined when none is. The `jupyter` found next to that
 * program is given by absolute path (e.g. `["/usr/bin/jupyter", "notebook"]`), because a server run through sudo gets sudo's PATH, which
 * may not hold the directory the hub found it in.
 */
export function detectJupyterCommand(pathEnv: string | undefined): string[] | undefined {
  const dirs = (pathEnv ?? "").split(delimiter).filter((d) => d.startsWith("/"));
  for (const [program, subcommand] of CANDIDATES) {
    for (const dir of dirs) {
      if (!isExecutable(join(dir, program))) continue;
      const jupyter = join(dir, "jupyter");
      // `jupyter-lab` itself takes the same arguments, should `jupyter` not sit beside it.
      return isExecutable(jupyter) ? [jupyter, subcommand] : [join(dir, program)];
    }
  }
  return undefined;
}
