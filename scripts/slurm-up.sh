#!/usr/bin/env bash
# Brings up the single-host Slurm 22.05 test cluster on loopback (see docs/contributing.md):
# munge, slurmctld, two slurmd (node cpu1 = partition debug, node gpu1 = partition gpu with
# AllowGroups=gpu and 4 fake GPUs) and, unless SLIPWAY_SLURM_ACCOUNTING=0, MariaDB + slurmdbd so
# that sacct works.
#
# Idempotent: a healthy cluster with the same configuration is left alone (well under a second);
# a cluster with some daemons missing is repaired without losing its jobs; a cluster whose
# configuration changed is restarted; a cluster with no Slurm daemon running starts from clean
# state (fresh job ids, empty accounting database).
#
# Environment:
#   SLIPWAY_SLURM_DIR         cluster directory (default /var/lib/slipway-slurm)
#   SLIPWAY_SLURM_ACCOUNTING  1 (default): slurmdbd + MariaDB; 0: no accounting, sacct fails
#   SLIPWAY_SLURM_PROBE       1 (default): on a fresh start, run one job per partition
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/.." && pwd)"
# shellcheck source=scripts/slurm-common.sh
source "$here/slurm-common.sh"

ACCOUNTING="${SLIPWAY_SLURM_ACCOUNTING:-1}"
PROBE="${SLIPWAY_SLURM_PROBE:-1}"
templates="$repo_root/deploy/slurm"
[[ $ACCOUNTING == [01] && $PROBE == [01] ]] ||
  die "SLIPWAY_SLURM_ACCOUNTING and SLIPWAY_SLURM_PROBE must be 0 or 1"

require_root
take_lock
for bin in munged slurmctld slurmd sbatch; do
  command -v "$bin" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
  command -v "$bin" >/dev/null 2>&1 || die "$bin not found; run scripts/install-deps.sh test"
done
if [[ $ACCOUNTING == 1 ]]; then
  for bin in slurmdbd mariadbd mariadb-install-db; do
    command -v "$bin" >/dev/null 2>&1 || die "$bin not found; run scripts/install-deps.sh test"
  done
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

render() {
  local storage=accounting_storage/none
  [[ $ACCOUNTING == 1 ]] && storage=accounting_storage/slurmdbd
  sed -e "s|@LAB@|$SLURM_LAB|g" -e "s|@ACCOUNTING_STORAGE@|$storage|g" "$1"
}

render "$templates/slurm.conf.in" >"$tmp/slurm.conf"
render "$templates/gres.conf.in" >"$tmp/gres.conf"
render "$templates/slurmdbd.conf.in" >"$tmp/slurmdbd.conf"

config_current() {
  local f
  for f in slurm.conf gres.conf; do
    cmp -s "$tmp/$f" "/etc/slurm/$f" || return 1
  done
  if [[ $ACCOUNTING == 1 ]]; then
    cmp -s "$tmp/slurmdbd.conf" /etc/slurm/slurmdbd.conf || return 1
  fi
}

# Node states as "name state" lines; a trailing * means the node does not respond.
# sinfo retries for about 9 s when slurmctld is down; scontrol ping fails at once.
node_states() { scontrol ping >/dev/null 2>&1 && sinfo -h -N -o '%N %T' 2>/dev/null | sort -u; }

nodes_in() {
  local pattern="$1" states node
  states="$(node_states)" || return 1
  for node in "${SLURM_NODES[@]}"; do
    grep -Eq "^$node ($pattern)\$" <<<"$states" || return 1
  done
}
nodes_usable() { nodes_in 'idle|mixed|allocated|completing'; }
nodes_idle() { nodes_in 'idle'; }

resume_stuck_nodes() {
  local stuck
  stuck="$(node_states | awk '$2 ~ /^(drain|drained|draining|down|fail|failing|inval)$/ { print $1 }' | paste -sd,)" || return 0
  [[ -n $stuck ]] || return 0
  scontrol update nodename="$stuck" state=resume >/dev/null 2>&1 || true
}

healthy() {
  munge_alive || return 1
  if [[ $ACCOUNTING == 1 ]]; then
    mariadb_alive || return 1
    slurmdbd_alive || return 1
  fi
  slurmctld_alive || return 1
  local node
  for node in "${SLURM_NODES[@]}"; do
    slurmd_alive "$node" || return 1
  done
  nodes_usable
}

ensure_hosts() {
  # BatchHost and %B report the node names; the hub and jobs must be able to resolve them.
  if ! getent hosts "${SLURM_NODES[0]}" >/dev/null || ! getent hosts "${SLURM_NODES[1]}" >/dev/null; then
    printf '127.0.0.1\t%s\t# slipway test slurm\n' "${SLURM_NODES[*]}" >>/etc/hosts
  fi
}

prepare_dirs() {
  local fresh="$1" node i
  if [[ $fresh == 1 ]]; then
    # Stale DRAIN/INVAL reasons and old jobs live in the state directories.
    rm -rf "$SLURM_LAB/state/ctld" "$SLURM_LAB/state"/slurmd-* "$SLURM_LAB/log/jobcomp.txt"
  fi
  # Job users must be able to traverse down to SlurmdSpoolDir, or execve of the batch script fails.
  install -d -m 0755 "$SLURM_LAB" "$SLURM_LAB/etc" "$SLURM_LAB/state" "$SLURM_LAB/fakegpu"
  for node in "${SLURM_NODES[@]}"; do
    install -d -m 0755 "$SLURM_LAB/state/slurmd-$node"
  done
  install -d -o slurm -g slurm -m 0755 "$SLURM_LAB/run"
  install -d -o slurm -g slurm -m 0750 "$SLURM_LAB/log"
  # StateSaveLocation holds job scripts and environments: slurm only.
  install -d -o slurm -g slurm -m 0700 "$SLURM_LAB/state/ctld"
  for i in 0 1 2 3; do
    [[ -c $SLURM_LAB/fakegpu/nvidia$i ]] || mknod -m 0666 "$SLURM_LAB/fakegpu/nvidia$i" c 195 "$i"
  done
  if [[ ! -s $SLURM_LAB/etc/jwt_hs256.key ]]; then
    (umask 077 && head -c 32 /dev/urandom >"$SLURM_LAB/etc/jwt_hs256.key")
  fi
  chown slurm:slurm "$SLURM_LAB/etc/jwt_hs256.key"
  chmod 0600 "$SLURM_LAB/etc/jwt_hs256.key"
}

install_config() {
  install -m 0644 "$tmp/slurm.conf" /etc/slurm/slurm.conf
  install -m 0644 "$tmp/gres.conf" /etc/slurm/gres.conf
  if [[ $ACCOUNTING == 1 ]]; then
    install -o slurm -g slurm -m 0600 "$tmp/slurmdbd.conf" /etc/slurm/slurmdbd.conf
  else
    rm -f /etc/slurm/slurmdbd.conf
  fi
}

start_munge() {
  munge_alive && return 0
  [[ -s /etc/munge/munge.key ]] || quietly mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  rm -f "$MUNGE_PID"
  runuser -u munge -- /usr/sbin/munged 9>&-
  wait_until 10 munged munge_works || {
    show_log /var/log/munge/munged.log
    return 1
  }
}
munge_works() { munge -n | unmunge >/dev/null; }

mysql_root() { mariadb --no-defaults --socket="$MYSQL_SOCKET" -u root "$@"; }

start_mariadb() {
  local fresh="$1" datadir="$SLURM_LAB/mysql"
  mariadb_alive && return 0
  if [[ $fresh == 1 || ! -d $datadir/mysql ]]; then
    # An empty, initialised data directory is kept aside: copying it is ten times faster than
    # running mariadb-install-db on every fresh start.
    local pristine="$SLURM_LAB/mysql.pristine"
    if [[ ! -f $pristine/.complete ]]; then
      rm -rf "$pristine"
      install -d -o mysql -g mysql -m 0700 "$pristine"
      quietly mariadb-install-db --no-defaults --user=mysql --datadir="$pristine" \
        --auth-root-authentication-method=socket --skip-test-db
      touch "$pristine/.complete"
    fi
    rm -rf "$datadir"
    cp -a "$pristine" "$datadir"
  fi
  install -d -o mysql -g mysql -m 0755 "$MYSQL_RUN"
  rm -f "$MYSQL_PID"
  setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$datadir" \
    --socket="$MYSQL_SOCKET" --pid-file="$MYSQL_PID" --skip-networking \
    --log-error="$datadir/mariadbd.err" \
    --innodb-buffer-pool-size=1G --innodb-lock-wait-timeout=900 \
    </dev/null >/dev/null 2>&1 9>&- &
  wait_until 30 mariadbd mysql_root -e 'select 1' || {
    show_log "$datadir/mariadbd.err"
    return 1
  }
  # slurmdbd runs as the slurm OS user and logs in over the socket as that user.
  mysql_root -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED VIA unix_socket;
                 GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_slurmdbd() {
  slurmdbd_alive && return 0
  quietly /usr/sbin/slurmdbd
  wait_until 30 "slurmdbd on port 6819" port_open 6819 || {
    show_log "$SLURM_LAB/log/slurmdbd.log"
    return 1
  }
}

ctld_answers() { scontrol ping >/dev/null 2>&1; }
ctld_settled() { ctld_answers || ! slurmctld_alive; }

start_slurmctld() {
  # A slurmctld that is still starting, or still saving state after SIGTERM, keeps its pid file;
  # wait until it either answers or is gone.
  if slurmctld_alive && ! wait_until 30 "slurmctld to answer or exit" ctld_settled; then
    stop_pidfile "$SLURM_LAB/run/slurmctld.pid" slurmctld
  fi
  ctld_answers && return 0
  quietly /usr/sbin/slurmctld
  wait_until 30 "slurmctld to answer" ctld_answers || {
    show_log "$SLURM_LAB/log/slurmctld.log"
    return 1
  }
}

start_slurmd() {
  local node="$1"
  slurmd_alive "$node" && return 0
  quietly /usr/sbin/slurmd -N "$node"
}

# Runs one short job per partition as root (root bypasses AllowGroups) so that the scheduler's
# slow first pass after a cold start is paid here, not by the first test.
probe() {
  local debug_id gpu_id
  debug_id="$(sbatch --parsable -p debug -D / -o /dev/null -J slurm-up-probe --wrap true)"
  gpu_id="$(sbatch --parsable -p gpu --gres=gpu:1 -D / -o /dev/null -J slurm-up-probe --wrap true)"
  if ! wait_until 60 "probe jobs $debug_id, $gpu_id" probes_done "$debug_id" "$gpu_id"; then
    squeue -t all -j "$debug_id,$gpu_id" >&2 || true
    return 1
  fi
  local states
  states="$(squeue -h -t all -j "$debug_id,$gpu_id" -o '%T' | sort -u)"
  [[ $states == COMPLETED ]] || die "probe jobs ended as: $(tr '\n' ' ' <<<"$states")"
  if [[ $ACCOUNTING == 1 ]]; then
    # slurmctld sends job records to slurmdbd asynchronously; sacct lags by up to a second or so.
    wait_until 30 "sacct to record the probe jobs" sacct_completed "$debug_id" "$gpu_id" || {
      show_log "$SLURM_LAB/log/slurmdbd.log"
      return 1
    }
  fi
}
sacct_completed() {
  [[ "$(sacct -n -X -P -j "$1,$2" -o state 2>/dev/null | sort -u)" == COMPLETED ]]
}
probes_done() {
  local states
  states="$(squeue -h -t all -j "$1,$2" -o '%T')" || return 1
  [[ -n $states ]] && ! grep -Evq '^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL)$' <<<"$states"
}

# Daemons are started through this too; 9>&- keeps them from inheriting the lock (see take_lock).
quietly() {
  local out
  if ! out="$("$@" 2>&1 9>&-)"; then
    log "failed: $*"
    [[ -n $out ]] && echo "$out" >&2
    return 1
  fi
}

main() {
  ensure_hosts
  if config_current && healthy; then
    return 0
  fi

  if ! config_current && { any_slurm_daemon_alive || slurmdbd_alive; }; then
    "$here/slurm-down.sh"
  fi

  local fresh=0
  if ! any_slurm_daemon_alive; then
    fresh=1
    # Jobs of an earlier cluster that outlived their daemons would confuse the new one.
    "$here/slurm-down.sh"
  fi

  prepare_dirs "$fresh"
  install_config
  start_munge
  if [[ $ACCOUNTING == 1 ]]; then
    start_mariadb "$fresh"
    start_slurmdbd
  fi
  local ctld_was_down=0 node
  ctld_answers || ctld_was_down=1
  start_slurmctld
  for node in "${SLURM_NODES[@]}"; do
    if ((ctld_was_down)) && slurmd_alive "$node"; then
      # A restarted slurmctld only pings its nodes after several seconds; SIGHUP makes a running
      # slurmd register again at once. Its jobs are not affected.
      kill -HUP "$(pid_from "$(slurmd_pidfile "$node")")"
    fi
    start_slurmd "$node"
  done

  # Nodes that answer but were drained or marked down (by a test, or a failure before a restart)
  # keep that state, since it is saved with slurmctld's state; return them to service.
  resume_stuck_nodes
  if ! wait_until 30 "nodes ${SLURM_NODES[*]} to be up" nodes_usable; then
    node_states >&2 || true
    show_log "$SLURM_LAB/log/slurmctld.log"
    exit 1
  fi

  if [[ $fresh == 1 ]]; then
    wait_until 30 "nodes ${SLURM_NODES[*]} to be idle" nodes_idle || exit 1
    if [[ $PROBE == 1 ]]; then
      probe
    fi
  fi
}

main
