import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parseClusterName,
  isAccountingDisabled,
  isInvalidJobIdError,
  parseGpusPerPartition,
  parsePartitions,
  parseSacct,
  parseSbatch,
  parseSqueue,
  SlurmParseError,
} from "./slurm-parsers.js";
import { parseDuration, parseEpoch } from "./slurm-time.js";

// Every sample below was printed by the Slurm 22.05.8 test cluster (SLURM_TIME_FORMAT=%s).
const SQUEUE_RUNNING_AND_FAILED = [
  "4|FAILED|NonZeroExitCode|1795598576|1795598576|1795598576|1:00|cpu1|cpu1|debug|alice|N/A|wrap|(null)",
  "3|RUNNING|None|1795598576|1795598876|1795598576|4:58|gpu1|gpu1|gpu|alice|gres:gpu:1|slipway-test-1|slipway:11111111-2222-3333-4444-555555555555",
].join("\n");
const SQUEUE_PENDING =
  "6|PENDING|Resources|1795598703|1795598823|1795598583|2:00||n/a|debug|bob|N/A|wrap|(null)\n";

const PARTITIONS = [
  "PartitionName=debug AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL Default=YES QoS=N/A DefaultTime=01:00:00 DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO MaxNodes=UNLIMITED MaxTime=12:00:00 MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED Nodes=cpu1 PriorityJobFactor=1 PriorityTier=1 RootOnly=NO ReqResv=NO OverSubscribe=NO OverTimeLimit=NONE PreemptMode=OFF State=UP TotalCPUs=16 TotalNodes=1 SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED MaxMemPerNode=UNLIMITED TRES=cpu=16,mem=8000M,node=1,billing=16",
  "PartitionName=gpu AllowGroups=gpu AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL Default=NO QoS=N/A DefaultTime=01:00:00 DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO MaxNodes=UNLIMITED MaxTime=04:00:00 MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED Nodes=gpu1 PriorityJobFactor=1 PriorityTier=1 RootOnly=NO ReqResv=NO OverSubscribe=NO OverTimeLimit=NONE PreemptMode=OFF State=UP TotalCPUs=8 TotalNodes=1 SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED MaxMemPerNode=UNLIMITED TRES=cpu=8,mem=8000M,node=1,billing=8",
].join("\n");

describe("Slurm output parsers", () => {
  it("reads the job id from sbatch --parsable, with or without a cluster", () => {
    assert.equal(parseSbatch("3\n"), "3");
    assert.equal(parseSbatch("1234;lab\n"), "1234");
    assert.throws(() => parseSbatch("Submitted batch job 3\n"), SlurmParseError);
    assert.throws(() => parseSbatch(""), SlurmParseError);
  });

  it("parses running, failed and pending squeue lines with host, GPUs, times and comment", () => {
    const [failed, running] = parseSqueue(SQUEUE_RUNNING_AND_FAILED);
    assert.equal(failed?.state, "FAILED");
    assert.equal(failed?.reason, "NonZeroExitCode");
    assert.equal(failed?.comment, null);
    assert.equal(failed?.gres, null);
    assert.equal(running?.jobId, "3");
    assert.equal(running?.batchHost, "gpu1");
    assert.equal(running?.gres, "gres:gpu:1");
    assert.equal(running?.timeLeft, 4 * 60 + 58);
    assert.equal(running?.end, 1795598876);
    assert.equal(running?.comment, "slipway:11111111-2222-3333-4444-555555555555");
    const [pending] = parseSqueue(SQUEUE_PENDING);
    assert.equal(pending?.state, "PENDING");
    assert.equal(pending?.reason, "Resources");
    assert.equal(pending?.batchHost, null);
    assert.equal(pending?.nodes, null);
    assert.equal(pending?.start, 1795598703, "the expected start of a pending job");
  });

  it("keeps a '|' inside the comment and refuses a line that is not squeue's", () => {
    const [job] = parseSqueue("7|RUNNING|None|1|2|1|1:00|cpu1|cpu1|debug|alice|N/A|x|a|b");
    assert.equal(job?.comment, "a|b");
    assert.throws(
      () => parseSqueue("slurm_load_jobs error: Unable to contact slurm controller"),
      SlurmParseError,
    );
    assert.throws(
      () => parseSqueue("7_1|RUNNING|None|1|2|1|1:00|cpu1|cpu1|debug|alice|N/A|x|c"),
      SlurmParseError,
    );
  });

  it("recognises the error squeue gives for one purged job id", () => {
    assert.ok(isInvalidJobIdError("slurm_load_jobs error: Invalid job id specified\n"));
    assert.ok(
      !isInvalidJobIdError("slurm_load_jobs error: Unable to contact slurm controller (connect failure)"),
    );
  });

  it("parses sacct rows, including CANCELLED by <uid>, exit codes and never-started jobs", () => {
    const rows = parseSacct(
      [
        "3|CANCELLED by 0|0:0|1795598576|1795598589|gpu1|None",
        "4|FAILED|3:0|1795598576|1795598576|cpu1|None",
        "6|CANCELLED by 0|0:0|None|1795598589|None assigned|None",
        "5000_1|COMPLETED|0:0|1|2|cpu1|None",
        "12|OUT_OF_MEMORY|0:125|1|2|cpu1|None",
      ].join("\n"),
    );
    assert.equal(rows.length, 4, "array rows are skipped");
    assert.deepEqual(
      rows.map((r) => [r.jobId, r.state, r.cancelledBy, r.exitCode, r.signal]),
      [
        ["3", "CANCELLED", 0, 0, 0],
        ["4", "FAILED", null, 3, 0],
        ["6", "CANCELLED", 0, 0, 0],
        ["12", "OUT_OF_MEMORY", null, 0, 125],
      ],
    );
    assert.equal(rows[2]?.start, null);
    assert.equal(rows[2]?.nodes, null);
    assert.ok(isAccountingDisabled("Slurm accounting storage is disabled\n"));
  });

  it("parses partitions: groups, accounts, time limits", () => {
    const [debug, gpu] = parsePartitions(PARTITIONS);
    assert.equal(debug?.name, "debug");
    assert.equal(debug?.allowGroups, null);
    assert.equal(debug?.allowAccounts, null);
    assert.deepEqual(debug?.denyAccounts, []);
    assert.equal(debug?.maxTime, 12 * 3600);
    assert.equal(debug?.defaultTime, 3600);
    assert.equal(debug?.up, true);
    assert.deepEqual(gpu?.allowGroups, ["gpu"]);
    assert.equal(gpu?.maxTime, 4 * 3600);
    const [other] = parsePartitions(
      "PartitionName=big AllowGroups=ALL AllowAccounts=phys,chem DenyAccounts=bio MaxTime=UNLIMITED State=DOWN",
    );
    assert.deepEqual(other?.allowAccounts, ["phys", "chem"]);
    assert.deepEqual(other?.denyAccounts, ["bio"]);
    assert.equal(other?.maxTime, null);
    assert.equal(other?.up, false);
  });

  it("counts GPUs per partition from sinfo's GRES column", () => {
    const gpus = parseGpusPerPartition("debug|(null)\ngpu|gpu:4\nbig|gpu:a100:2(S:0-1),shard:8\nbig|gpu:8\n");
    assert.equal(gpus.get("debug"), 0);
    assert.equal(gpus.get("gpu"), 4);
    assert.equal(gpus.get("big"), 8);
  });

  it("reads Slurm durations and epoch columns", () => {
    assert.equal(parseDuration("1:00"), 60);
    assert.equal(parseDuration("04:00:00"), 4 * 3600);
    assert.equal(parseDuration("1-00:00:00"), 86_400);
    assert.equal(parseDuration("2-03"), 2 * 86_400 + 3 * 3600);
    assert.equal(parseDuration("UNLIMITED"), null);
    assert.equal(parseDuration("INVALID"), null);
    assert.equal(parseEpoch("N/A"), null);
    assert.equal(parseEpoch("Unknown"), null);
    assert.equal(parseEpoch("1795598576"), 1795598576);
  });
});

describe("scontrol show config", () => {
  it("reads ClusterName and refuses output without one", () => {
    const config =
      "Configuration data as of 2026-11-25T10:00:00\nAuthType                = auth/munge\nClusterName             = lab\nSLURM_VERSION           = 22.05.8\n";
    assert.equal(parseClusterName(config), "lab");
    assert.throws(() => parseClusterName("AuthType = auth/munge\n"), /ClusterName/);
    assert.throws(() => parseClusterName("ClusterName = lab;rm\n"), /ClusterName/);
  });
});
