#!/bin/bash
# Static checks of `make check` (default flavor), each one result:
#   checkpatch --strict on every patch; MAINTAINERS covers every file the
#   series adds; kernel-doc is silent on them; shellcheck is silent on the
#   harness; the harness's self-tests (tests/harness/*.bats) pass.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

bad=0
fail() { result fail "$1"; bad=1; }

n=$(grep -vc '^#' "$PATCHES/series" || true)
phase "checkpatch --strict on $n patches"
# checkpatch's SPDX check runs "python3" from PATH: use Debian's, which
# has python3-ply and python3-git. FILE_PATH_CHANGES ("does MAINTAINERS
# need updating?") fires for every new file; instead, the check below
# requires that MAINTAINERS covers every file the series adds.
# UNKNOWN_COMMIT_ID: the tree is the Debian source as one commit, without
# upstream's history, so the commit a Fixes: tag names cannot be looked up.
while read -r p <&3; do
	[ -n "$p" ] || continue
	if out=$(cd "$TREE" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --terse --no-summary \
			--show-types --ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID "$PATCHES/$p" 2>&1); then
		result pass "checkpatch $p"
	else
		echo "$out" | head -n 20
		fail "checkpatch $p"
	fi
done 3< <(grep -v '^#' "$PATCHES/series")

phase "MAINTAINERS and kernel-doc on the files the series adds"
orphans=""
for f in $(git -C "$TREE" diff --name-only --diff-filter=A base..HEAD); do # paths without spaces
	m=$(cd "$TREE" || exit 1
		./scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats \
			--no-l --no-r -f "$f" 2>/dev/null | grep -v 'torvalds@' || :)
	if [ -z "$m" ]; then orphans="$orphans $f"; fi
done
if [ -z "$orphans" ]; then
	result pass "MAINTAINERS covers the new files"
else
	echo "  files the series adds that MAINTAINERS does not cover:$orphans"
	fail "MAINTAINERS covers the new files"
fi
docfiles=$(git -C "$TREE" diff --name-only --diff-filter=A base..HEAD -- '*.c' '*.h' | grep -v '^tools/' || true)
# shellcheck disable=SC2086 # a list of paths without spaces
if kdoc=$(cd "$TREE" && scripts/kernel-doc -none -Wall include/linux/hmm.h $docfiles 2>&1) && [ -z "$kdoc" ]; then
	result pass "kernel-doc"
else
	echo "$kdoc" | head -n 20 | sed 's/^/  /'
	fail "kernel-doc"
fi

phase "shellcheck and the harness self-tests"
shfiles=$(cd "$TOP" && echo scripts/*.sh .ci/run guest/init guest/*.sh tests/harness/*.bash tests/harness/*.bats tests/harness/stubs/*)
# shellcheck disable=SC2086
if out=$(cd "$TOP" && shellcheck -x $shfiles 2>&1); then
	result pass "shellcheck"
else
	echo "$out" | head -n 30 | sed 's/^/  /'
	fail "shellcheck"
fi
log=$LOGS/selftest.log
if (cd "$TOP" && bats --tap tests/harness) > "$log" 2>&1; then
	result pass "harness self-tests ($(grep -c '^ok ' "$log") cases)"
else
	grep -E '^not ok|^#' "$log" | head -n 30 | sed 's/^/  /'
	fail "harness self-tests (log: out/logs/selftest.log)"
fi
exit $bad
