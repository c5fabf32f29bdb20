#!/usr/bin/env bash
# Tears down the Slurm test cluster started by scripts/slurm-up.sh: cancels every job, stops
# slurmd, slurmctld, slurmdbd, MariaDB and munged, and kills job processes that outlive their
# daemons. Logs and state stay in SLIPWAY_SLURM_DIR for inspection; the next slurm-up starts
# from clean state. Idempotent.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/slurm-common.sh
source "$here/slurm-common.sh"
PATH="$PATH:/usr/sbin"

require_root
take_lock

no_active_jobs() {
  [[ -z "$(squeue -h -t PENDING,RUNNING,CONFIGURING,COMPLETING,SUSPENDED -o %A 2>/dev/null)" ]]
}

# `scontrol shutdown` leaves running jobs alive, so cancel them first, while slurmctld answers.
cancel_jobs() {
  if ! slurmctld_alive || ! scontrol ping >/dev/null 2>&1; then
    return 0
  fi
  local ids
  ids="$(squeue -h -o %A 2>/dev/null | sort -u)" || return 0
  [[ -n $ids ]] || return 0
  # shellcheck disable=SC2086 # one argument per job id
  scancel $ids >/dev/null 2>&1 || true
  wait_until 5 "cancelled jobs to end" no_active_jobs 2>/dev/null || true
}

# Any slurmstepd still running belongs to a job of this cluster (it owns /etc/slurm). slurmstepd
# ignores SIGTERM, so its whole process tree gets SIGTERM and then SIGKILL.
kill_job_processes() {
  local table roots pids
  table="$(ps -e -o pid=,ppid=,comm=)"
  roots="$(awk '$3 == "slurmstepd" { print $1 }' <<<"$table")"
  [[ -n $roots ]] || return 0
  pids="$(awk -v roots="$roots" '
    BEGIN { n = split(roots, r, "\n"); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { parent[$1] = $2; pid[NR] = $1 }
    END {
      changed = 1
      while (changed) {
        changed = 0
        for (i = 1; i <= NR; i++) if (!(pid[i] in keep) && (parent[pid[i]] in keep)) { keep[pid[i]] = 1; changed = 1 }
      }
      for (p in keep) print p
    }' <<<"$table")"
  # shellcheck disable=SC2086 # one argument per pid
  kill -TERM $pids 2>/dev/null || true
  # shellcheck disable=SC2086
  wait_until 3 "job processes to exit" none_alive $pids 2>/dev/null || true
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
}
none_alive() {
  local pid state
  for pid in "$@"; do
    state="$(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)" || continue
    [[ -z $state || $state == Z || $state == X ]] || return 1
  done
}

main() {
  cancel_jobs
  local node pids=() pid status=0
  for node in "${SLURM_NODES[@]}"; do
    stop_pidfile "$(slurmd_pidfile "$node")" slurmd &
    pids+=($!)
  done
  stop_pidfile "$SLURM_LAB/run/slurmctld.pid" slurmctld &
  pids+=($!)
  for pid in "${pids[@]}"; do
    wait "$pid" || status=1
  done
  kill_job_processes
  stop_pidfile "$SLURM_LAB/run/slurmdbd.pid" slurmdbd
  stop_pidfile "$MYSQL_PID" mariadbd 30
  stop_pidfile "$MUNGE_PID" munged
  return "$status"
}

main
