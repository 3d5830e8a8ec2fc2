#!/usr/bin/env bash
# Webhook acknowledgement times and peak memory of `relgate serve`, for a
# baseline commit and for the working tree, in the same run and measured the
# same way: bench/serveload (built from the working tree) starts each
# binary as its own process on loopback with a replayed example repository
# and a fake GitHub, and sends 500 deliveries paced over 10 s, the same 500
# as a burst from 50 senders, then 20 parallel 24 MiB bodies with a wrong
# signature (issue 11). It prints the figures side by side, with ratios
# working tree / baseline; a ratio under 1 is an improvement for every row.
#
#   bench/serve-load.sh [BASELINE-COMMIT] [serveload flags...]
#
# BASELINE-COMMIT defaults to 47ca46a. Flags go to serveload, e.g.
# -hostile=false, -deliveries 200, -keep. Needs git and go; uses about 1 GB
# of temporary disk for the bad-signature phase of the working tree's spool.
set -euo pipefail

root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
base=${1:-47ca46a}
[ $# -gt 0 ] && shift
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

tmp=$(mktemp -d)
cleanup() {
	git -C "$root" worktree remove --force "$tmp/base" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building relgate at $base and in the working tree ..." >&2
git -C "$root" worktree add -q --detach "$tmp/base" "$base"
(cd "$tmp/base" && go build -o "$tmp/relgate-base" ./controller/cmd/relgate)
(cd "$root" && go build -o "$tmp/relgate-work" ./controller/cmd/relgate && go build -o "$tmp/serveload" ./bench/serveload)

# The example repository and payloads of the working tree, so that both
# servers get byte-identical input.
cd "$root"
echo "measuring (about a minute per binary) ..." >&2
"$tmp/serveload" "$@" "base@$base=$tmp/relgate-base" "work=$tmp/relgate-work"
