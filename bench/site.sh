#!/usr/bin/env bash
# relgate site against its baseline, in the same run (issue 14): the static
# site of a repository's HEAD, cold (no decode cache) and warm, beside
# `relgate validate --rev HEAD` cold, which reads and checks the same
# documents. Wall time, CPU time and peak memory of whole processes, the
# median of RUNS runs each.
#
#   bench/site.sh DIR [RUNS]
#
# DIR is a repository made by relgate-gen, e.g.
#   go run ./controller/cmd/relgate-gen -releases 10000 -commits 20000 -seed 1 DIR
set -eu
if [ $# -lt 1 ]; then echo "usage: $0 DIR [RUNS]" >&2; exit 2; fi
dir=$1 runs=${2:-3}
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/relgate
go build -o "$bin" ./controller/cmd/relgate
cache="$dir/.git/relgate/decode-cache"
out=$(mktemp -d)

# one LABEL PREP CMD...: runs CMD RUNS times after PREP, prints the median.
one() {
	label=$1 prep=$2; shift 2
	for i in $(seq "$runs"); do
		eval "$prep"
		/usr/bin/time -f '%e %U %S %M' -o "$out/t" "$@" >/dev/null 2>&1 || { echo "$label: failed" >&2; cat "$out/t" >&2; exit 1; }
		cat "$out/t"
	done | sort -n | awk -v label="$label" -v n="$runs" '{w[NR]=$1; c[NR]=$2+$3; m[NR]=$4} END {i=int((n+1)/2); printf "%-32s %6.2f s wall  %6.2f s CPU  %6.0f MiB peak\n", label, w[i], c[i], m[i]/1024}'
}
echo "repository: $dir ($(git -C "$dir" ls-tree --name-only HEAD releases/ | wc -l) releases), $runs runs, median"
one "validate --rev HEAD, cold" "rm -rf '$cache'" "$bin" validate --rev HEAD --repo "$dir"
one "site, cold" "rm -rf '$cache' '$out/site'" "$bin" site "$out/site" --repo "$dir"
one "site, warm decode cache" "rm -rf '$out/site'" "$bin" site "$out/site" --repo "$dir"
echo "pages: $(find "$out/site" -name '*.html' | wc -l), largest: $(find "$out/site" -name '*.html' -printf '%s %P\n' | sort -n | tail -1)"
