#!/usr/bin/env bash
# Baseline timings of the git CLI on a release repository, for comparing
# relgate's own reading and history code against (see shared/GIT-NOTES.md).
#
#   bench/baseline.sh DIR
#
# DIR is a repository made by relgate-gen, best packed first:
#   go run ./controller/cmd/relgate-gen -releases 10000 -commits 20000 -seed 1 DIR
#   git -C DIR repack -adq
#
# It writes a commit-graph with changed-path Bloom filters into DIR (the second
# log timing needs it); delete DIR/.git/objects/info/commit-graph* to undo.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
git -C "$dir" rev-parse --verify -q HEAD >/dev/null || { echo "$dir: not a git repository with commits" >&2; exit 1; }

# The machine's git configuration must not change the results. Times are
# wall clock, printed to standard output.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
TIMEFORMAT='%R s'

# A release from the middle of the history.
count=$(git -C "$dir" ls-tree --name-only HEAD releases/ | wc -l)
rel=$(git -C "$dir" ls-tree --name-only HEAD releases/ | sed -n "$((count / 2 + 1))p")

echo "repository: $dir"
echo "  commits:  $(git -C "$dir" rev-list --count HEAD)"
echo "  files:    $(git -C "$dir" ls-tree -r --name-only HEAD | wc -l)"
echo "  releases: $count"
echo "  packs:    $(git -C "$dir" count-objects -v | sed -n 's/^packs: //p'), loose objects: $(git -C "$dir" count-objects -v | sed -n 's/^count: //p')"
echo

echo "read every blob at HEAD (ls-tree | cat-file --batch), the reading limit:"
{ time (git -C "$dir" ls-tree -r --object-only HEAD | git -C "$dir" cat-file --batch >/dev/null); } 2>&1

echo
echo "git log --oneline -- $rel, without a commit-graph:"
{ time (git -C "$dir" -c core.commitGraph=false log --oneline -- "$rel" >/dev/null); } 2>&1
echo "  ($(git -C "$dir" -c core.commitGraph=false log --oneline -- "$rel" | wc -l) commits)"

echo
echo "git commit-graph write --reachable --changed-paths:"
{ time git -C "$dir" commit-graph write --reachable --changed-paths --no-progress; } 2>&1

echo
echo "git log --oneline -- $rel, with the commit-graph:"
{ time (git -C "$dir" log --oneline -- "$rel" >/dev/null); } 2>&1
