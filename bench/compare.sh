#!/usr/bin/env bash
# relgate's performance table against its baselines, in one run (issue 13):
# it builds relgate, generates the release repositories (seeded), installs
# the Node peer (bench/peer: js-yaml + ajv against relgate's own schemas)
# from npm, runs each relgate command beside its baseline in the same run,
# as whole processes, REPS times each, and prints the medians of wall time,
# CPU time (user+sys) and peak memory, with the ratios, as Markdown. Then a
# growth table at several sizes, so the slope in the size of the repository
# shows.
#
#   bench/compare.sh [--quick] [--reps K] [--sizes "1000 10000 30000"]
#                    [--releases N] [--commits M] [--verify-reps K]
#                    [--no-verify] [--keep DIR] [--out FILE]
#
#   --quick        the table at 300 releases, growth at 300 and 1000, 1 rep
#                  (about a minute: checks that the script works)
#   --reps K       timed runs of each command (default 3); the median is shown
#   --sizes LIST   release counts of the growth table (default 1000 10000 30000;
#                  commits are twice the releases); "" for none
#   --releases N   releases of the main table (default 10000, commits 20000)
#   --commits M    commits of the main table (default 2 x releases)
#   --verify-reps K  runs of the cold audit verify (default 1: minutes at 10,000)
#   --no-verify    leave out audit verify
#   --keep DIR     keep the generated repositories in DIR and reuse them on the
#                  next run (they are only read: each run works on a copy)
#   --out FILE     also write the tables to FILE
#
# Progress goes to standard error, the tables to standard output. Needs go,
# git and, for the peer rows, node and npm; /usr/bin/time (GNU time) for CPU
# and peak memory (without it, bash's time gives wall and CPU, no memory).
# The machine's git configuration is ignored. Nothing in the checkout changes
# but bench/peer/node_modules.
set -eu

usage() {
	sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
	exit 2
}

quick=0 reps=3 sizes="1000 10000 30000" releases=10000 commits="" vreps=1 verify=1 keep="" out=""
sizes_set=0 reps_set=0 releases_set=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--reps) reps=${2:?--reps K}; reps_set=1; shift ;;
	--sizes) sizes=${2?--sizes LIST}; sizes_set=1; shift ;;
	--releases) releases=${2:?--releases N}; releases_set=1; shift ;;
	--commits) commits=${2:?--commits M}; shift ;;
	--verify-reps) vreps=${2:?--verify-reps K}; shift ;;
	--no-verify) verify=0 ;;
	--keep) keep=${2:?--keep DIR}; shift ;;
	--out) out=${2:?--out FILE}; shift ;;
	-h | --help) usage ;;
	*) echo "compare.sh: unknown argument $1" >&2; usage ;;
	esac
	shift
done
if [ $quick = 1 ]; then
	[ $sizes_set = 1 ] || sizes="300 1000"
	[ $reps_set = 1 ] || reps=1
	[ $releases_set = 1 ] || releases=300
fi
commits=${commits:-$((releases * 2))}
for n in "$reps" "$vreps" "$releases" "$commits" $sizes; do
	case $n in '' | *[!0-9]*) echo "compare.sh: $n is not a count" >&2; exit 2 ;; esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C
work=$(mktemp -d "${TMPDIR:-/tmp}/relgate-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "$keep" ]; then
	mkdir -p "$keep"
	keep=$(cd "$keep" && pwd)
else
	keep=$work/repos
	mkdir -p "$keep"
fi
say() { echo "compare.sh: $*" >&2; }

# --- tools ---------------------------------------------------------------
command -v go >/dev/null || { say "go is not on PATH"; exit 1; }
command -v git >/dev/null || { say "git is not on PATH"; exit 1; }
gnutime=0
if [ -x /usr/bin/time ] && /usr/bin/time -f '%M' -o "$work/t" true 2>/dev/null && grep -q '^[0-9]' "$work/t"; then
	gnutime=1
else
	say "GNU time (/usr/bin/time -f) is not here: wall and CPU from bash's time, no peak memory (apt-get install time)"
fi

say "building relgate and relgate-gen"
(cd "$root" && go build -o "$work/bin/relgate" ./controller/cmd/relgate && go build -o "$work/bin/relgate-gen" ./controller/cmd/relgate-gen)
rg=$work/bin/relgate gen=$work/bin/relgate-gen

# The peer: npm ci from the lock file (npm install when there is none).
peer=1 peer_why=""
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	peer=0 peer_why="node or npm is not on PATH"
elif [ ! -d "$root/bench/peer/node_modules/ajv" ] || [ ! -d "$root/bench/peer/node_modules/js-yaml" ] ||
	[ ! -d "$root/bench/peer/node_modules/ajv-formats" ] ||
	[ "$root/bench/peer/package-lock.json" -nt "$root/bench/peer/node_modules/.package-lock.json" ]; then
	say "installing the peer (npm ci in bench/peer)"
	npmcmd=install
	[ -f "$root/bench/peer/package-lock.json" ] && npmcmd=ci
	if ! (cd "$root/bench/peer" && npm "$npmcmd" --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1); then
		peer=0
		if ! (cd "$root/bench/peer" && timeout 30 npm ping >/dev/null 2>&1); then
			peer_why="the npm registry ($(npm config get registry 2>/dev/null)) is unreachable"
		else
			peer_why="npm $npmcmd failed: $(tail -3 "$work/npm.log" | tr '\n' ' ')"
		fi
	fi
fi
if [ $peer = 0 ]; then
	say "PEER ROWS SKIPPED: $peer_why"
fi

# --- repositories --------------------------------------------------------

# repo N M: the path of a packed generated repository of N releases and M
# commits (seed 1), generated into the keep folder unless it is there.
repo() {
	local d=$keep/r$1-c$2-s1
	if [ ! -d "$d" ]; then
		say "generating $1 releases, $2 commits (relgate-gen -seed 1)"
		rm -rf "$d.tmp"
		"$gen" -releases "$1" -commits "$2" -seed 1 "$d.tmp" >"$work/gen.log" 2>&1 || { cat "$work/gen.log" >&2; exit 1; }
		git -C "$d.tmp" repack -adq
		mv "$d.tmp" "$d"
	fi
	echo "$d"
}

# prepare SRC DST: a working copy of SRC with what the rows need: a
# commit-graph with changed-path filters (for git log), branch bench-gate
# (one release's plan.yaml edited) and, with a third argument, branch
# bench-blob (a commit of the policy and one 50 MB YAML file); repacked. Sets rel (a release from
# the middle) and quarter (the quarter of HEAD's commit).
prepare() {
	local src=$1 d=$2 f n
	rm -rf "$d"
	cp -a "$src" "$d"
	rm -rf "$d/.git/relgate"
	n=$(git -C "$d" ls-tree --name-only HEAD releases/ | wc -l)
	rel=$(git -C "$d" ls-tree --name-only HEAD releases/ | sed -n "$((n / 2 + 1))p")
	rel=${rel#releases/}
	quarter=$(git -C "$d" log -1 --format=%cd --date=format:'%Y %m' HEAD | awk '{printf "%sQ%d", $1, int(($2 + 2) / 3)}')
	main=$(git -C "$d" symbolic-ref --short HEAD)
	f=releases/$rel/plan.yaml
	git -C "$d" checkout -q -b bench-gate
	printf '# bench: one release changed\n' >>"$d/$f"
	git -C "$d" -c user.name=bench -c user.email=bench@example.cn commit -q -m "bench: edit $f" -- "$f"
	git -C "$d" checkout -q "$main"
	if [ $# -gt 2 ]; then
		# A commit of its own: the policy and the 50 MB file, nothing else,
		# so the peak memory is the blob's.
		blob=$(awk 'BEGIN { print "apiVersion: relgate.dev/v1"; print "kind: CMDBItem"; print "notes: |";
			line = sprintf("  %0100d", 0); for (i = 0; i < 520000; i++) print line }' | git -C "$d" hash-object -w --stdin)
		t=$(printf '100644 blob %s\tbench-large.yaml\n' "$blob" | git -C "$d" mktree)
		t=$(printf '100644 blob %s\trelgate.yaml\n040000 tree %s\tcmdb\n' "$(git -C "$d" rev-parse HEAD:relgate.yaml)" "$t" | git -C "$d" mktree)
		git -C "$d" branch -f bench-blob "$(git -C "$d" -c user.name=bench -c user.email=bench@example.cn commit-tree -m "bench: a 50 MB document" "$t")"
	fi
	git -C "$d" repack -adq
	git -C "$d" commit-graph write --reachable --changed-paths --no-progress
}

# --- measuring -----------------------------------------------------------

# run1 PREP CMD...: one run of CMD after the shell text PREP, in a subshell;
# appends "wall cpu rss_kib" to $work/runs. Exit codes 0 and 1 (findings, a
# refused gate) are results; others are failures.
run1() {
	local prep=$1 s e rc
	shift
	eval "$prep"
	s=$(date +%s%N)
	rc=0
	if [ $gnutime = 1 ]; then
		/usr/bin/time -f '%U %S %M' -o "$work/t" "$@" >"$work/stdout" 2>"$work/stderr" || rc=$?
	else
		TIMEFORMAT='%U %S -'
		{ time "$@" >"$work/stdout" 2>"$work/stderr"; } 2>"$work/t" || rc=$?
	fi
	e=$(date +%s%N)
	if [ "$rc" -gt 1 ]; then
		say "FAILED (exit $rc): $*"
		tail -5 "$work/stderr" >&2
		echo "failed" >>"$work/runs"
		return 0
	fi
	tail -1 "$work/t" | awk -v w="$(((e - s) / 1000000))" '{ printf "%.3f %.2f %s\n", w / 1000, $1 + $2, $3 }' >>"$work/runs"
}

# measure K PREP CMD...: K runs; prints the medians "wall cpu mib", or
# "failed".
measure() {
	local k=$1
	shift
	: >"$work/runs"
	while [ "$k" -gt 0 ]; do
		run1 "$@"
		k=$((k - 1))
	done
	if grep -q failed "$work/runs"; then
		echo failed
		return 0
	fi
	awk '{ w[NR] = $1; c[NR] = $2; m[NR] = $3 }
	function med(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END { mm = (m[1] == "-") ? "-" : sprintf("%.0f", med(m, NR) / 1024); printf "%.3f %.2f %s\n", med(w, NR), med(c, NR), mm }' "$work/runs"
}

# cell "wall cpu mib": a table cell.
cell() {
	[ "$1" = failed ] && { echo "failed"; return; }
	echo "$1" | awk '{ s = ($1 < 1) ? sprintf("%.0f ms", $1 * 1000) : ($1 < 120) ? sprintf("%.2f s", $1) : sprintf("%d min %.0f s", $1 / 60, $1 % 60)
		printf "%s wall, %.2f s CPU", s, $2; if ($3 != "-") printf ", %s MiB", $3 }'
}

# ratio "relgate" "baseline": relgate over the baseline, wall and memory.
ratio() {
	if [ "$1" = failed ] || [ "$2" = failed ]; then echo; return; fi
	printf '%s %s\n' "$1" "$2" | awk '{ r = ($4 > 0) ? sprintf("%.2f× wall", $1 / $4) : "";
		if ($3 != "-" && $6 != "-" && $6 > 0) r = r sprintf(", %.1f× memory", $3 / $6); print r }'
}

row() { # operation relgate-result baseline-label baseline-result
	local b="" r=""
	if [ -n "$3" ]; then
		b="$3: $(cell "$4")"
		r=$(ratio "$2" "$4")
	fi
	printf '| %s | %s | %s | %s |\n' "$1" "$(cell "$2")" "$b" "$r" | tee -a "$work/table"
}

# --- the table -----------------------------------------------------------

src=$(repo "$releases" "$commits")
d=$work/repo
say "preparing a copy of $src"
prepare "$src" "$d" blob
cache=$d/.git/relgate/decode-cache
docs=$(git -C "$d" ls-tree -r --name-only HEAD | grep -c '\.yaml$' || true)
nrel=$(git -C "$d" ls-tree --name-only HEAD releases/ | wc -l)
ncommits=$(git -C "$d" rev-list --count "$main")
load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
cores=$(nproc 2>/dev/null || echo '?')
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)

{
	echo
	echo "### relgate against its baselines, $(date -u +%Y-%m-%d)"
	echo
	echo "Generated repository: \`relgate-gen -releases $releases -commits $commits -seed 1\`, packed: $nrel releases, $docs YAML files, $ncommits commits; release $rel, quarter $quarter."
	echo "Machine: $cores cores${cpu:+ ($cpu)}; $(go version | cut -d' ' -f3), $(git --version), node $(node --version 2>/dev/null || echo none); relgate $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')."
	echo "Whole processes, median of $reps runs (audit verify: $vreps), wall time, CPU time (user+sys), peak RSS$([ $gnutime = 1 ] || echo ' (not measured: no GNU time)')."
	[ $peer = 1 ] || echo "**Peer rows skipped: $peer_why.**"
	echo
	echo "| operation | relgate | baseline, same run | relgate / baseline |"
	echo "|---|---|---|---|"
} | tee "$work/table"

say "validate --rev HEAD, cold"
r=$(measure "$reps" "rm -rf '$cache'" "$rg" validate --rev HEAD --repo "$d")
if [ $peer = 1 ]; then
	b=$(measure "$reps" : node "$root/bench/peer/validate.js" --schemas "$root/schemas" --rev HEAD "$d")
	peer_said=$(tail -1 "$work/stdout")
	row "\`validate --rev HEAD\`, cold (no decode cache)" "$r" "Node peer (cat-file --batch, js-yaml, ajv 2020-12, one thread)" "$b"
else
	row "\`validate --rev HEAD\`, cold (no decode cache)" "$r" "" ""
fi

say "validate --rev HEAD, warm"
run1 : "$rg" validate --rev HEAD --repo "$d"
r=$(measure "$reps" : "$rg" validate --rev HEAD --repo "$d")
# shellcheck disable=SC2016 # $1 is the inner shell's argument
b=$(measure "$reps" : sh -c 'git -C "$1" ls-tree -r --object-only HEAD | git -C "$1" cat-file --batch >/dev/null' sh "$d")
row "same, warm decode cache" "$r" "\`git ls-tree -r --object-only HEAD \\| git cat-file --batch\`" "$b"

say "status"
r=$(measure "$reps" : "$rg" status --repo "$d")
row "\`status\` (work tree, all releases), warm" "$r" "" ""
r=$(measure "$reps" "rm -rf '$cache'" "$rg" status --repo "$d")
row "\`status\`, cold (no decode cache)" "$r" "" ""

say "gate, one release changed"
run1 : "$rg" gate --base "$main" --head bench-gate --repo "$d"
r=$(measure "$reps" : "$rg" gate --base "$main" --head bench-gate --repo "$d")
row "\`gate\`, one release changed (warm)" "$r" "" ""

say "audit $rel"
run1 : "$rg" audit "$rel" --repo "$d"
r=$(measure "$reps" : "$rg" audit "$rel" --repo "$d")
b=$(measure "$reps" : git -C "$d" log --format=%H -- "releases/$rel")
row "\`audit REL\`, warm index" "$r" "\`git log -- releases/REL\`, commit-graph with changed paths" "$b"

if [ $verify = 1 ]; then
	say "audit verify ($ncommits commits; minutes at 10,000 releases)"
	r=$(measure "$vreps" : "$rg" audit verify --state - --repo "$d")
	b=$(measure "$vreps" : git -C "$d" log --name-only --format=%H "$main")
	row "\`audit verify\`, $ncommits commits (warm index, no verified state)" "$r" "\`git log --name-only\` over the history" "$b"
fi

say "reconcile --dry-run"
r=$(measure "$reps" : "$rg" reconcile --dry-run --repo "$d")
row "\`reconcile --dry-run\` ($(grep -c '^would commit' "$work/stdout" || true) commits due)" "$r" "" ""

say "report quarter $quarter --rev HEAD"
r=$(measure "$reps" : "$rg" report quarter "$quarter" --rev HEAD --repo "$d")
row "\`report quarter $quarter --rev HEAD\`" "$r" "" ""

say "validate with a 50 MB blob"
r=$(measure "$reps" "rm -rf '$cache'" "$rg" validate --rev bench-blob --repo "$d")
b=$(measure "$reps" : git -C "$d" cat-file blob "$blob")
row "\`validate --rev\` of a commit of the policy and one 50 MB file, cold" "$r" "\`git cat-file blob\` of the same blob, packed" "$b"

# --- growth --------------------------------------------------------------

if [ -n "$sizes" ]; then
	{
		echo
		echo "### Growth: relgate at ${sizes// /, } releases (commits 2 × releases), median of $reps runs, wall time, CPU time, peak RSS"
		echo
		echo "| releases | YAML files | validate cold | status warm | gate, one release | audit REL warm | report quarter |"
		echo "|---|---|---|---|---|---|---|"
	} | tee -a "$work/table"
	: >"$work/slope"
	for n in $sizes; do
		src=$(repo "$n" $((n * 2)))
		g=$work/growth
		say "growth: $n releases"
		prepare "$src" "$g"
		c=$g/.git/relgate/decode-cache
		files=$(git -C "$g" ls-tree -r --name-only HEAD | grep -c '\.yaml$' || true)
		line="| $n | $files"
		for what in validate status gate audit report; do
			case $what in
			validate) r=$(measure "$reps" "rm -rf '$c'" "$rg" validate --rev HEAD --repo "$g") ;;
			status) run1 : "$rg" status --repo "$g"; r=$(measure "$reps" : "$rg" status --repo "$g") ;;
			gate) run1 : "$rg" gate --base "$main" --head bench-gate --repo "$g"; r=$(measure "$reps" : "$rg" gate --base "$main" --head bench-gate --repo "$g") ;;
			audit) run1 : "$rg" audit "$rel" --repo "$g"; r=$(measure "$reps" : "$rg" audit "$rel" --repo "$g") ;;
			report) r=$(measure "$reps" : "$rg" report quarter "$quarter" --rev HEAD --repo "$g") ;;
			esac
			[ $what = validate ] && echo "$files $r" >>"$work/slope"
			line="$line | $(echo "$r" | awk '$1 == "failed" { print "failed"; next } { s = ($1 < 1) ? sprintf("%.0f ms", $1 * 1000) : sprintf("%.2f s", $1); print s ", " $2 " s CPU, " $3 " MiB" }')"
		done
		echo "$line |" | tee -a "$work/table"
		rm -rf "$g"
	done
	# Peak memory of cold validation per YAML file, from the smallest size to the largest.
	awk 'NR == 1 { f0 = $1; m0 = $4 } { f1 = $1; m1 = $4 }
	END { if (NR > 1 && m0 != "-" && m1 != "-" && f1 > f0)
		printf "\nCold validation peak memory grows by %.2f KiB per YAML file from %d to %d files.\n", (m1 - m0) * 1024 / (f1 - f0), f0, f1 }' "$work/slope" | tee -a "$work/table"
fi

{
	echo
	[ -z "${peer_said:-}" ] || echo "The peer printed: $peer_said."
	echo "Load average at the start: $load0; at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') (other work on the machine slows every row)."
} | tee -a "$work/table"
[ -z "$out" ] || cp "$work/table" "$out"
