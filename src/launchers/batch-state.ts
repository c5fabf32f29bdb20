import { z } from "zod";
import type { JsonObject, TlsTarget } from "../domain/types.js";
import { certificatePem } from "../helper/protocol.js";

/** What the batch launcher persists per server: enough to poll, route and cancel its job. */
const stateSchema = z.object({
  /** The scheduler's job id (`1234`, `6100.0`); the scheduler checks it again before any command. */
  jobId: z.string().regex(/^[A-Za-z0-9_.]{1,64}$/),
  serverId: z.int().positive(),
  /** Where the job waits (a Slurm partition): its queue limit applies. */
  queue: z.string(),
  submittedAt: z.int(),
  port: z.int().min(1).max(65535).optional(),
  /**
   * The launch's certificate (public; its key is only in the job's directory): the one peer the
   * hub accepts on `host:port`. Absent in states stored before servers spoke TLS.
   */
  certificate: certificatePem.optional(),
  /** When the scheduler ends the running job (its time limit), epoch seconds; absent when unlimited. */
  endsAt: z.int().positive().optional(),
});

export type BatchState = z.infer<typeof stateSchema>;

/** The launcher's state as stored, or undefined when it is not one (then nothing of ours runs). */
export function parseBatchState(raw: JsonObject): BatchState | undefined {
  // States stored before the scheduler port named it `queue` called it `partition` (Slurm's word).
  const input = raw["queue"] === undefined ? { ...raw, queue: raw["partition"] } : raw;
  const parsed = stateSchema.safeParse(input);
  return parsed.success ? parsed.data : undefined;
}

export function batchStateJson(s: BatchState): JsonObject {
  const out: JsonObject = {
    jobId: s.jobId,
    serverId: s.serverId,
    queue: s.queue,
    submittedAt: s.submittedAt,
  };
  if (s.port !== undefined) out["port"] = s.port;
  if (s.certificate !== undefined) out["certificate"] = s.certificate;
  if (s.endsAt !== undefined) out["endsAt"] = s.endsAt;
  return out;
}

/** Where the proxy reaches the job's server; none without the launch's certificate. */
export function batchTarget(state: BatchState, host: string, port: number): TlsTarget | undefined {
  return state.certificate === undefined
    ? undefined
    : { kind: "tls", host, port, certificate: state.certificate };
}
