#!/usr/bin/env bash
# Creates the Unix accounts the multi-user and Slurm suites run as:
#   group gpu; alice (member of gpu) and bob (not), each with a home directory and a login shell
#   (slurmd builds a job's environment with `su - user`, which needs a real shell).
# Idempotent; also repairs group membership. Prints a note when the checkout is not reachable by
# those users (for example a clone under /root): the suites then use the world-readable copy made
# by scripts/stage-world-readable.sh.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

[[ $(id -u) -eq 0 ]] || {
  echo "test-users: must run as root" >&2
  exit 1
}

getent group gpu >/dev/null || groupadd gpu

ensure_user() {
  local name="$1"
  if ! getent passwd "$name" >/dev/null; then
    useradd --create-home --user-group --shell /bin/bash "$name"
  fi
  local home
  home="$(getent passwd "$name" | cut -d: -f6)"
  if [[ ! -d $home ]]; then
    install -d -o "$name" -g "$(id -gn "$name")" -m 0755 "$home"
  fi
}

ensure_user alice
ensure_user bob

in_group() { id -nG "$1" | tr ' ' '\n' | grep -qx "$2"; }
in_group alice gpu || usermod -aG gpu alice
if in_group bob gpu; then
  gpasswd -d bob gpu >/dev/null
fi

# Every directory from / down to the checkout must be searchable by others, and the build
# output readable, for the test users to run anything from it.
reachable=1
dir="$repo_root"
while [[ $dir != / ]]; do
  if [[ $(stat -c %A "$dir") != *x ]]; then
    reachable=0
    break
  fi
  dir="$(dirname "$dir")"
done
if ((reachable == 0)); then
  echo "test-users: note: $repo_root is not reachable by alice and bob ($dir is not searchable" \
    "by others); the suites run the helper from the staged copy (scripts/stage-world-readable.sh)" >&2
fi
