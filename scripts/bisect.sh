#!/bin/bash
# Check that every patch of the series builds on its own (bisectability).
# Builds each commit of base..HEAD~1 (the last one is what `make check`
# builds anyway) in a separate worktree, out/bisect/linux, with its own
# build directory, so the developer's tree and build are not touched. A
# commit whose tree already built is remembered (out/bisect/passed) and not
# built again; the layout mirrors out/linux + out/build/default so ccache
# serves most of the first build.
. "$(dirname "$0")/common.sh"

MAIN=$OUT/linux
WT=$OUT/bisect/linux
export HMM_TREE=$WT HMM_BUILD=$OUT/bisect/build/default
TREE=$HMM_TREE BUILD=$HMM_BUILD
PASSED=$OUT/bisect/passed
commits=$(git -C "$MAIN" rev-list --reverse base..HEAD~1 2>/dev/null || true)
[ -n "$commits" ] || exit 0
mkdir -p "$OUT/bisect"
touch "$PASSED"
# A worktree left over from an earlier out/linux is useless: start over.
if [ -e "$WT" ] && ! git -C "$WT" rev-parse -q --verify "$(git -C "$MAIN" rev-parse base)^{commit}" >/dev/null 2>&1; then
	rm -rf "$WT"
fi
if [ ! -e "$WT/.git" ]; then
	git -C "$MAIN" worktree prune
	git -C "$MAIN" worktree add -q --detach "$WT" base
fi
frag=$(cat "$TOP"/config/hmm.config | sha256sum | cut -c1-16)
n=$(echo "$commits" | wc -l) i=0 bad=0
for c in $commits; do
	i=$((i + 1))
	subj=$(git -C "$MAIN" log -1 --format=%s "$c")
	key="$(git -C "$MAIN" rev-parse "$c^{tree}")-$frag"
	if grep -qxF "$key" "$PASSED"; then
		phase "bisect build $i/$n: $subj (built before)"
		continue
	fi
	phase "bisect build $i/$n: $subj"
	git -C "$WT" checkout -q --detach "$c"
	if CONFIG_CHECK=0 "$TOP/scripts/config.sh" >/dev/null 2>&1 &&
	   run_logged "$LOGS/bisect-$i.log" kernel_make bzImage modules; then
		echo "$key" >> "$PASSED"
	else
		echo "  patch $i ($subj) does not build on its own (log: $LOGS/bisect-$i.log)"
		bad=1
	fi
done
exit $bad
