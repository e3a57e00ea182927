#!/bin/bash
# Check that every patch of the series builds on its own (bisectability):
# one result per commit of base..HEAD~1 (the last one is what `make check`
# builds anyway). Each is built in a separate worktree, out/bisect/linux,
# with its own build directory, so the developer's tree and build are not
# touched. A commit whose tree already built with the same configuration
# fragment is remembered (out/bisect/passed) and not built again.
# shellcheck source=common.sh
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
frag=$(sha256sum < "$TOP/config/hmm.config" | cut -c1-16)
n=$(echo "$commits" | wc -l) i=0 bad=0
for c in $commits; do
	i=$((i + 1))
	subj=$(git -C "$MAIN" log -1 --format=%s "$c")
	key="$(git -C "$MAIN" rev-parse "$c^{tree}")-$frag"
	if grep -qxF "$key" "$PASSED"; then
		phase "bisect build $i/$n: $subj (built before)"
		result pass "patch $i builds on its own: $subj"
		continue
	fi
	phase "bisect build $i/$n: $subj"
	git -C "$WT" checkout -q --detach "$c"
	# Earlier commits lack options that later ones add: no config check.
	if "$TOP/scripts/config.sh" --no-check >/dev/null 2>&1 &&
	   run_logged "$LOGS/bisect-$i.log" kernel_make bzImage modules; then
		echo "$key" >> "$PASSED"
		result pass "patch $i builds on its own: $subj"
	else
		result fail "patch $i builds on its own: $subj (log: out/logs/bisect-$i.log)"
		bad=1
	fi
done
exit $bad
