#!/usr/bin/env bash
# Copies the build (dist/), node_modules/ and package.json into a root-owned, world-readable
# directory (default /opt/slipway-test) and prints its path. The test users run the privileged
# helper from there with `sudo -n -u <user>`, which works even when the checkout itself lives
# somewhere they cannot reach (a clone under /root, which is 0700).
#
#   scripts/stage-world-readable.sh [DIR]      (or SLIPWAY_TEST_STAGE_DIR=DIR)
#
# Skips the copy when nothing in the sources is newer than the last stage.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stage="${1:-${SLIPWAY_TEST_STAGE_DIR:-/opt/slipway-test}}"
stamp="$stage/.staged"
sources=(dist node_modules package.json job)

cd "$repo_root"
for src in "${sources[@]}"; do
  [[ -e $src ]] || {
    echo "stage: $repo_root/$src is missing (run npm ci and npm run build first)" >&2
    exit 1
  }
done

# Directory mtimes change when entries are added or removed, so this also catches deletions.
# The stamp records which checkout was staged, so another checkout always restages.
if [[ -f $stamp && $(cat "$stamp") == "$repo_root" ]] &&
  [[ -z "$(find "${sources[@]}" -newer "$stamp" -print -quit)" ]]; then
  echo "$stage"
  exit 0
fi

parent="$(dirname "$stage")"
install -d -m 0755 "$parent"
next="$(mktemp -d "$parent/.slipway-stage.XXXXXX")"
trap 'rm -rf "$next"' EXIT
cp -a "${sources[@]}" "$next/"
chown -R root:root "$next"
chmod -R u+rwX,go+rX,go-w "$next"
chmod 0755 "$next"
echo "$repo_root" >"$next/.staged"
# Replace the old copy in one step, so a reader never sees a half-written stage.
if [[ -e $stage ]]; then
  mv "$stage" "$next.old"
  mv "$next" "$stage"
  rm -rf "$next.old"
else
  mv "$next" "$stage"
fi
echo "$stage"
