#!/bin/bash
# Check that every patch of the series builds on its own (bisectability).
# Walks base..HEAD~1 in out/linux, building each commit incrementally in the
# normal build directory (the last commit is the one `make check` builds
# anyway), then returns the tree to its branch. Only files a patch touches
# and their dependents are rebuilt, so this costs little once a build exists.
. "$(dirname "$0")/common.sh"

[ -z "$(git -C "$TREE" status --porcelain)" ] || die "out/linux is not clean"
branch=$(git -C "$TREE" symbolic-ref -q --short HEAD) || die "out/linux is not on a branch"
commits=$(git -C "$TREE" rev-list --reverse base..HEAD~1 2>/dev/null || true)
[ -n "$commits" ] || exit 0
restore() { git -C "$TREE" checkout -q "$branch"; }
trap restore EXIT
n=$(echo "$commits" | wc -l) i=0 bad=0
for c in $commits; do
	i=$((i + 1))
	subj=$(git -C "$TREE" log -1 --format=%s "$c")
	phase "bisect build $i/$n: $subj"
	git -C "$TREE" checkout -q "$c"
	if ! "$TOP/scripts/config.sh" >/dev/null ||
	   ! run_logged "$LOGS/$FLAVOR/bisect-$i.log" kernel_make bzImage modules; then
		echo "  patch $i ($subj) does not build on its own (log: $LOGS/$FLAVOR/bisect-$i.log)"
		bad=1
	fi
done
exit $bad
