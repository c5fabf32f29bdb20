import type { SlurmCommands } from "./slurm-client.js";

/** Slurm's commands where a configuration that names none finds them, for recorded-output tests. */
export const SLURM_TEST_COMMANDS: SlurmCommands = {
  sbatch: "/usr/bin/sbatch",
  squeue: "/usr/bin/squeue",
  sacct: "/usr/bin/sacct",
  scancel: "/usr/bin/scancel",
  scontrol: "/usr/bin/scontrol",
  sinfo: "/usr/bin/sinfo",
  sacctmgr: "/usr/bin/sacctmgr",
};
