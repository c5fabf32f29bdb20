#!/usr/bin/env bash
# Installs what Slipway needs on a Debian 12 machine, and nothing that is already there.
#
#   scripts/install-deps.sh [runtime|test]
#
# runtime: npm dependencies (npm ci), sudo, and Jupyter from Debian when no `jupyter` is on PATH.
# test:    runtime + Chromium, PostgreSQL, Slurm (munge, slurmctld, slurmd, slurmdbd + MariaDB for
#          accounting), pytest for the notebook-side client, and the front doors the examples in
#          examples/ are tested with (Apache + mod_auth_openidc, nginx).
#
# Runs as root. Quiet unless something fails; apt-get update runs at most once, and only when a
# package is missing.
set -euo pipefail

profile="${1:-runtime}"
case "$profile" in
  runtime | test) ;;
  *)
    echo "usage: $0 [runtime|test]" >&2
    exit 2
    ;;
esac

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive

# Runs a command with its output captured; prints the output only if the command fails.
quietly() {
  local log status
  log="$(mktemp)"
  if "$@" >"$log" 2>&1; then
    rm -f "$log"
    return 0
  else
    status=$?
  fi
  echo "install-deps: failed ($status): $*" >&2
  cat "$log" >&2
  rm -f "$log"
  return "$status"
}

install_packages() {
  local missing=() pkg present
  # One dpkg-query for all packages; unknown ones are simply absent from its output.
  present="$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null | awk '$NF == "installed" { print $1 }' || true)"
  for pkg in "$@"; do
    grep -qxF "$pkg" <<<"$present" || missing+=("$pkg")
  done
  ((${#missing[@]} > 0)) || return 0

  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing Debian packages (${missing[*]}); run this script as root" >&2
    return 1
  fi
  echo "install-deps: installing ${missing[*]}" >&2

  # Daemons are started by our own scripts (slurm-up, pg-test-up), never by package scripts:
  # without systemd their init scripts would start them with the packaged configuration.
  local own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    own_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  local status=0
  quietly apt-get update -q || status=$?
  if ((status == 0)); then
    quietly apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
  fi
  if ((own_policy)); then
    rm -f /usr/sbin/policy-rc.d
  fi
  return "$status"
}

# npm ci when node_modules is missing or older than the lockfile. npm writes
# node_modules/.package-lock.json at the end of every successful install.
install_node_modules() {
  cd "$repo_root"
  local marker=node_modules/.package-lock.json
  if [[ -f $marker && ! package-lock.json -nt $marker ]]; then
    return 0
  fi
  # better-sqlite3 compiles its addon when no prebuilt binary can be fetched (the npm registry is
  # the only network here); point node-gyp at Debian's Node headers so it needs no download.
  if [[ -z ${npm_config_nodedir:-} && -f /usr/include/node/node_api.h ]]; then
    export npm_config_nodedir=/usr
  fi
  quietly npm ci --no-audit --no-fund
  # npm only runs install scripts that package.json's allowScripts approves; make sure the native
  # module really got built rather than failing later at the first database open.
  if ! quietly node -e 'new (require("better-sqlite3"))(":memory:").prepare("select 1").get()'; then
    echo "install-deps: better-sqlite3's native module is missing after npm ci" >&2
    return 1
  fi
}

packages=(sudo)
if ! command -v jupyter >/dev/null 2>&1; then
  packages+=(jupyter-notebook python3-ipykernel jupyter-server)
fi
if [[ $profile == test ]]; then
  packages+=(
    chromium
    postgresql
    munge slurm-wlm slurm-client slurmctld slurmd
    # slurm.conf names auth/jwt as an alternative type (for slurmrestd); the daemons refuse
    # to start without its plugin.
    slurm-wlm-jwt-plugin
    slurmdbd mariadb-server
    python3-pytest
    # The front-door examples: test/support/apache-front-door.ts runs Apache with its own
    # ServerRoot, and nginx is only syntax-checked (nginx -t). Debian 12's `nginx` is built
    # --with-http_auth_request_module; `nginx-light` is only a transitional package for it.
    apache2 libapache2-mod-auth-openidc
    nginx
  )
fi

install_packages "${packages[@]}"
install_node_modules
