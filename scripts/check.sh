#!/bin/bash
# make check: every test, ending with "N passed, N failed[, N skipped]".
#   static (default flavor): checkpatch --strict, MAINTAINERS, kernel-doc,
#           shell scripts (shellcheck) and the harness's own self-tests (scripts/static.sh)
#   VM:     one boot; KUnit at boot, then every suite in guest/suites;
#           judged by scripts/verdict.py, which fails closed
#   builds (default flavor): every patch on its own (scripts/bisect.sh)
#           and the configuration matrix (scripts/matrix.sh)
# Every result is one line in out/logs/<flavor>/results; the summary counts
# them. Anything that stops the run early is itself a named failure.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

R=$LOGS/$FLAVOR
mkdir -p "$R"
export HMM_RESULTS=$R/results
rm -f "$HMM_RESULTS" "$R/report.txt" "$R"/vm-check.*
: > "$HMM_RESULTS"

summary() {
	local p f s line
	p=$(grep -c '^pass ' "$HMM_RESULTS" || true)
	f=$(grep -c '^fail ' "$HMM_RESULTS" || true)
	s=$(grep -c '^skip ' "$HMM_RESULTS" || true)
	{
		echo "base: Linux ${kver:-?}, Debian $LINUX_SOURCE_PACKAGE ${ver:-?}"
		echo "series: ${npatch:-?} patches; build: $FLAVOR; accelerator: $(cat "$OUT/accel" 2>/dev/null || echo none)"
		sed -n 's/^fail /failed: /p' "$HMM_RESULTS" | head -n 40
		[ "$f" -le 40 ] || echo "failed: ... and $((f - 40)) more (out/logs/$FLAVOR/results)"
		line="$p passed, $f failed"
		[ "$s" -eq 0 ] || line="$line, $s skipped"
		echo "$line"
	} | tee "$R/report.txt"
	HMM_REPORTED=1
	[ "$f" -eq 0 ]
}
# Stopped early (a package, the tree, a script error): that is a failure
# of its own, counted and named, and the summary is still the last line.
aborted() {
	local rc=$1
	[ "$rc" != 0 ] && [ -z "${HMM_REPORTED:-}" ] || return 0
	result fail "make check stopped during \"$(cat "$OUT/.phase" 2>/dev/null)\" (exit $rc; see the ERROR lines above)"
	summary || true
}
trap 'rc=$?; aborted $rc; ! declare -F on_exit >/dev/null || on_exit $rc' EXIT

# step NAME CMD...: run one step that records its own results; a step that
# fails without recording a failure is a failure of its own.
step() {
	local name=$1 before rc=0
	shift
	before=$(grep -c '^fail ' "$HMM_RESULTS" || true)
	"$@" || rc=$?
	if [ "$rc" != 0 ] && [ "$(grep -c '^fail ' "$HMM_RESULTS" || true)" = "$before" ]; then
		result fail "$name stopped with exit status $rc and recorded no result"
	fi
}

phase "packages"
"$TOP/scripts/deps.sh"
"$TOP/scripts/tree.sh"
ver=$(cat "$TREE/.git/hmm-base-version")
kver=$(make -s -C "$TREE" kernelversion)
npatch=$(git -C "$TREE" rev-list --count base..HEAD)
phase "base: Linux $kver from Debian $LINUX_SOURCE_PACKAGE $ver; series: $npatch patches; build: $FLAVOR"

if [ "$FLAVOR" = default ]; then
	step "static checks" "$TOP/scripts/static.sh"
else
	phase "static checks, bisect and the configuration matrix: run by 'make check' (default flavor), not here"
fi

if "$TOP/scripts/build.sh"; then
	# Every selftest program the series has must be declared, or it would
	# be built and never run.
	for src in "$TREE"/tools/testing/selftests/mm/hmm-*.c; do
		[ -e "$src" ] || continue
		prog=$(basename "$src" .c)
		awk -v p="$prog" '$1 == "selftest" && $3 == p { found = 1 } END { exit !found }' "$TOP/guest/suites" ||
			result fail "selftest program $prog is not declared in guest/suites"
	done
	run_id=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
	HMM_RUN_ID=$run_id VM_TIMEOUT=$([ "$FLAVOR" = debug ] && echo 3600 || echo 1200) \
		"$TOP/scripts/vm.sh" -n check -s "$TOP/guest/check-job.sh" || true
	phase "results (console: out/logs/$FLAVOR/vm-check.log, job output: out/logs/$FLAVOR/vm-check.out)"
	step verdict python3 "$TOP/scripts/verdict.py" check --run-id "$run_id" \
		--console "$R/vm-check.log" --output "$R/vm-check.out" \
		--status "$R/vm-check.status" --suites "$TOP/guest/suites" \
		--warnings "$TOP/guest/expected-warnings" \
		--kunit-py "$TREE/tools/testing/kunit/kunit.py" \
		--results "$HMM_RESULTS"
else
	result fail "kernel or test build (log: out/logs/$FLAVOR/build.log)"
fi

if [ "$FLAVOR" = default ]; then
	step bisect "$TOP/scripts/bisect.sh"
	step "configuration matrix" "$TOP/scripts/matrix.sh"
fi

phase "done"
summary
