# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this
# Shared by scripts/slurm-up.sh and scripts/slurm-down.sh (sourced, not run).
#
# The test cluster lives in SLIPWAY_SLURM_DIR (state, logs, pid files, fake GPU devices, the
# MariaDB data directory for accounting). Outside it, the scripts touch /etc/slurm/{slurm,gres,
# slurmdbd}.conf, /run/munge, /run/mysqld and one /etc/hosts line for the node names.

SLURM_LAB="${SLIPWAY_SLURM_DIR:-/var/lib/slipway-slurm}"
SLURM_NODES=(cpu1 gpu1)
MUNGE_PID=/run/munge/munged.pid
MYSQL_RUN=/run/mysqld
MYSQL_SOCKET="$MYSQL_RUN/mysqld.sock"
MYSQL_PID="$MYSQL_RUN/mariadbd.pid"

log() { echo "slurm: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# Serialises slurm-up and slurm-down. slurm-up runs slurm-down itself, which then inherits the
# lock. Every daemon is started with fd 9 closed, or it would hold the lock for its lifetime.
take_lock() {
  [[ ${SLIPWAY_SLURM_LOCKED:-} == 1 ]] && return 0
  mkdir -p /run/lock
  exec 9>/run/lock/slipway-slurm.lock
  flock -w 300 9 || die "another slurm-up/slurm-down is still running"
  export SLIPWAY_SLURM_LOCKED=1
}

require_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root"
}

# True when $1 is a live (not zombie) process whose command name is $2. PID 1 here reaps
# orphans late, so a dead daemon can linger as a zombie that pgrep and kill -0 still see.
proc_alive() {
  local pid="$1" name="$2" comm state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
  [[ $comm == "$name" ]] || return 1
  state="$(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)" || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

pid_from() {
  local pid=""
  [[ -r $1 ]] && read -r pid <"$1" 2>/dev/null
  echo "$pid"
}

# pidfile_alive PIDFILE NAME
pidfile_alive() {
  proc_alive "$(pid_from "$1")" "$2"
}

# wait_until SECONDS WHAT COMMAND... — polls every 0.1 s.
wait_until() {
  local timeout="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.1
  done
}

slurmd_pidfile() { echo "$SLURM_LAB/run/slurmd-$1.pid"; }

munge_alive() { pidfile_alive "$MUNGE_PID" munged; }
mariadb_alive() { pidfile_alive "$MYSQL_PID" mariadbd; }
slurmdbd_alive() { pidfile_alive "$SLURM_LAB/run/slurmdbd.pid" slurmdbd; }
slurmctld_alive() { pidfile_alive "$SLURM_LAB/run/slurmctld.pid" slurmctld; }
slurmd_alive() { pidfile_alive "$(slurmd_pidfile "$1")" slurmd; }

any_slurm_daemon_alive() {
  local node
  slurmctld_alive && return 0
  for node in "${SLURM_NODES[@]}"; do
    slurmd_alive "$node" && return 0
  done
  return 1
}

# stop_pidfile PIDFILE NAME [GRACE_SECONDS] — SIGTERM, then SIGKILL after the grace period.
stop_pidfile() {
  local pidfile="$1" name="$2" grace="${3:-10}" pid
  pid="$(pid_from "$pidfile")"
  if proc_alive "$pid" "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$grace" "$name to stop" proc_alive_not "$pid" "$name"; then
      kill -KILL "$pid" 2>/dev/null || true
      wait_until 5 "$name to die" proc_alive_not "$pid" "$name" || return 1
    fi
  fi
  rm -f "$pidfile"
}

proc_alive_not() { ! proc_alive "$1" "$2"; }

# Last lines of a log, for failure messages.
show_log() {
  [[ -r $1 ]] || return 0
  echo "---- last lines of $1" >&2
  tail -n 20 "$1" >&2
}
