#!/usr/bin/env bash
# Before/after figures of the history-based commands (issue 13, part 1):
# each command's median with the baseline relgate and the new one, beside
# the git CLI figure from the same run, and the ratios.
#
#   bench/history.sh BASE_RELGATE NEW_RELGATE REPO [RUNS]
#
# REPO is a repository made by relgate-gen (read only: each relgate works on
# its own copy, so their caches in .git/relgate never mix). RUNS is the
# number of timed runs of each fast command (default 5); the slow ones
# (a cold audit verify) run SLOW_RUNS times (default 1), and the baseline's
# verify after one new commit is a whole walk again, so it runs once.
# BASE_VERIFY=0 skips the baseline's verify rows (at 10,000 releases each is
# a walk of many minutes). Needs hyperfine and python3. Medians of wall time,
# whole processes.
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 BASE_RELGATE NEW_RELGATE REPO [RUNS]" >&2
	exit 2
fi
base=$(realpath "$1") new=$(realpath "$2") src=$(realpath "$3")
runs=${4:-5}
slow=${SLOW_RUNS:-1}
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for v in base new; do
	cp -a "$src" "$work/$v"
	rm -rf "$work/$v/.git/relgate"
done
cp -a "$src" "$work/git"
git -C "$work/git" commit-graph write --reachable --changed-paths --no-progress

count=$(git -C "$src" ls-tree --name-only HEAD releases/ | wc -l)
rel=$(git -C "$src" ls-tree --name-only HEAD releases/ | sed -n "$((count / 2 + 1))p")
rel=${rel#releases/}

# median CMD...: the median wall time of RUNS runs, in seconds.
median() {
	local n=$1
	shift
	hyperfine -N -i -w 1 -r "$n" --export-json "$work/h.json" "$@" >/dev/null 2>&1 ||
		hyperfine -i -w 1 -r "$n" --export-json "$work/h.json" "$@" >/dev/null 2>&1
	python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$work/h.json"
}

# once CMD: wall time of one run, in seconds.
once() {
	local s e
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	e=$(date +%s.%N)
	python3 -c "print('%.3f' % ($e - $s))"
}

row() { # name base new git-label git
	python3 - "$@" <<'EOF'
import sys
name, b, n, gl, g = sys.argv[1:6]
b, n = float(b), float(n)
ratio = b / n if b == b else float("nan")
line = f"{name:<44} {b:>9.3f} {n:>9.3f} {ratio:>7.1f}x"
if g:
    g = float(g)
    line += f"   {gl} {g:.3f}  new/git {n/g:.2f}"
print(line)
EOF
}

echo "repository: $src ($(git -C "$src" rev-list --count HEAD) commits, $(git -C "$src" rev-list --first-parent --count HEAD) first-parent, $count releases); release $rel"
echo "$(printf '%-44s %9s %9s %8s' command base-s new-s speedup)   git CLI, same run"

# Warm the caches (history index, decode cache) of both copies.
for v in base new; do
	bin=$base
	[ $v = new ] && bin=$new
	(cd "$work/$v" && "$bin" status >/dev/null 2>&1 || true)
done

gitlog=$(median "$slow" "git -C $work/git log --name-only --format=%H HEAD")
gitrel=$(median "$runs" "git -C $work/git log --format=%H -- releases/$rel")

for what in gate status audit-rel; do
	case $what in
	gate) args="gate --base HEAD^1 --head HEAD ." label="gate HEAD^1..HEAD (one release)" g="" gl="" ;;
	status) args="status ." label="status, warm" g="" gl="" ;;
	audit-rel) args="audit $rel ." label="audit REL, warm index" g=$gitrel gl="git log -- releases/REL (bloom)" ;;
	esac
	b=$(cd "$work/base" && median "$runs" "$base $args")
	n=$(cd "$work/new" && median "$runs" "$new $args")
	row "$label" "$b" "$n" "$gl" "$g"
done

# audit verify of the whole history, no earlier run (the index is warm).
b=nan
[ "${BASE_VERIFY:-1}" = 0 ] || b=$(cd "$work/base" && median "$slow" "$base audit verify --state - .")
n=$(cd "$work/new" && median "$slow" "$new audit verify --state - .")
row "audit verify, cold" "$b" "$n" "git log --name-only" "$gitlog"

# audit verify after one new commit: the previous run is recorded.
for v in base new; do
	bin=$base
	[ $v = new ] && bin=$new
	[ $v = base ] && [ "${BASE_VERIFY:-1}" = 0 ] && continue
	(cd "$work/$v" && "$bin" audit verify . >/dev/null 2>&1 || true)
done
commit() { # dir: one more commit that edits one release
	local f
	f=$(git -C "$1" ls-tree -r --name-only HEAD "releases/$rel/" | grep plan.yaml | head -1)
	echo "# $(date +%s%N)" >>"$1/$f"
	git -C "$1" -c user.name=bench -c user.email=bench@example.cn commit -qam "bench: edit $f"
}
b=nan
if [ "${BASE_VERIFY:-1}" != 0 ]; then
	commit "$work/base"
	b=$(cd "$work/base" && once "$base" audit verify .)
fi
prep="bash -c 'f=\$(git ls-tree -r --name-only HEAD releases/$rel/ | grep plan.yaml | head -1); echo \"# \$RANDOM\$RANDOM\" >> \$f; git -c user.name=bench -c user.email=bench@example.cn commit -qam bench'"
n=$(cd "$work/new" && hyperfine -i -r "$runs" --prepare "$prep" --export-json "$work/h.json" "$new audit verify ." >/dev/null 2>&1 &&
	python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$work/h.json")
row "audit verify, one new commit" "$b" "$n" "" ""
