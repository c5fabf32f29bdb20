/**
 * Slurm's pending reasons (`%r`, `job_reason_string`) in words a user understands. Unlisted
 * reasons are shown as Slurm prints them.
 */
const REASONS: Record<string, string> = {
  None: "waiting for the scheduler's next pass",
  Priority: "other jobs with higher priority are ahead in the queue",
  Resources: "waiting for resources (CPUs, memory or GPUs) to become free",
  Dependency: "waiting for another job to finish",
  BeginTime: "its start time has not come yet",
  JobHeldUser: "held by you",
  JobHeldAdmin: "held by an administrator",
  PartitionTimeLimit: "the requested runtime exceeds the partition's limit",
  PartitionNodeLimit: "the request exceeds the partition's node limit",
  PartitionDown: "the partition is down",
  PartitionInactive: "the partition is inactive",
  ReqNodeNotAvail: "the nodes it needs are not available (down, drained or reserved)",
  AssocGrpCpuLimit: "your group has reached its CPU limit",
  AssociationJobLimit: "your account has reached its job limit",
  AssocMaxJobsLimit: "your account has reached its job limit",
  QOSMaxJobsPerUserLimit: "you have reached the number of jobs you may run at once",
  QOSMaxGRESPerUser: "you have reached the number of GPUs you may use at once",
  DependencyNeverSatisfied: "a job it depends on failed, so it can never start",
  Reservation: "waiting for a reservation",
  InvalidAccount: "the account is not valid",
  InvalidQOS: "the quality of service is not valid",
  BadConstraints: "its constraints can never be satisfied",
  Prolog: "the node is running its prolog",
  NodeDown: "a node it needs is down",
  launch_failed_requeued_held: "the launch failed and the job is held",
};

export function pendingReasonInWords(reason: string): string {
  const text = REASONS[reason];
  return text === undefined ? `Slurm says: ${reason}` : `${text} (${reason})`;
}
