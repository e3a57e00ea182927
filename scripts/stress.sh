#!/bin/bash
# make stress [SECONDS=N] [SEED=S] [DEBUG=1]: build, boot one VM, run
# tools/hmm-stress.c (randomized multi-threaded, multi-process workload
# with every byte checked, fault injection, ioctl fuzzing, module unload,
# leak accounting) and judge it like make check does (scripts/verdict.py:
# this run's id, the suite's TAP counts, the kernel log). Ends with
# "N passed, N failed". The Makefile passes SECONDS and SEED as
# HMM_STRESS_SECONDS and HMM_STRESS_SEED (SECONDS is a bash builtin).
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

seconds=${HMM_STRESS_SECONDS:-}
seed=${HMM_STRESS_SEED:-}
[[ -z $seconds || $seconds =~ ^[0-9]+$ ]] || die "SECONDS must be a number of seconds, not '$seconds'"
[[ -z $seed || $seed =~ ^[0-9]+$ ]] || die "SEED must be a number, not '$seed'"

R=$LOGS/$FLAVOR
mkdir -p "$R"
export HMM_RESULTS=$R/stress-results
rm -f "$HMM_RESULTS" "$R"/vm-stress.*
: > "$HMM_RESULTS"

summary() {
	local p f
	p=$(grep -c '^pass ' "$HMM_RESULTS" || true)
	f=$(grep -c '^fail ' "$HMM_RESULTS" || true)
	sed -n 's/^fail /failed: /p' "$HMM_RESULTS" | head -n 40
	HMM_REPORTED=1
	echo "$p passed, $f failed"
	[ "$f" -eq 0 ]
}
aborted() {
	local rc=$1
	[ "$rc" != 0 ] && [ -z "${HMM_REPORTED:-}" ] || return 0
	result fail "make stress stopped during \"$(cat "$OUT/.phase" 2>/dev/null)\" (exit $rc; see the ERROR lines above)"
	summary || true
}
trap 'rc=$?; aborted $rc; ! declare -F on_exit >/dev/null || on_exit $rc' EXIT

"$TOP/scripts/deps.sh"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build.sh"

# The suite as verdict.py sees it: one declared selftest, no KUnit.
limit=$(( ${seconds:-0} * 2 + 300 ))
suites=$R/stress-suites
echo "selftest hmm-stress hmm-stress madvise $limit" > "$suites"
append=""
[ -z "$seconds" ] || append="hmm_stress_seconds=$seconds"
[ -z "$seed" ] || append="$append hmm_stress_seed=$seed"
timeout=$(( 600 + 3 * ${seconds:-0} ))
[ "$FLAVOR" != debug ] || timeout=$((timeout * 4))
run_id=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')

# Long runs print a progress line per second: show those as they come.
raw=$R/vm-stress.out.raw
tail -n +1 -F "$raw" 2>/dev/null > >(grep --line-buffered '^# \[' | sed -u 's/^# /  /') &
follower=$!
HMM_RUN_ID=$run_id "$TOP/scripts/vm.sh" -n stress -t "$timeout" -a "$append" \
	-s "$TOP/guest/stress-job.sh" || true
kill "$follower" 2>/dev/null || true
wait "$follower" 2>/dev/null || true

phase "results (console: out/logs/$FLAVOR/vm-stress.log, job output: out/logs/$FLAVOR/vm-stress.out)"
# What the tool did: operations, bytes verified, failures, its own summary.
grep -E '^# (all cases:|FAIL|MISMATCH|  |run took|[0-9]+ passed)|^(not )?ok ' "$R/vm-stress.out" 2>/dev/null |
	grep -v '^# \[' | head -n 80 | sed 's/^/  /' || true
python3 "$TOP/scripts/verdict.py" check --run-id "$run_id" \
	--console "$R/vm-stress.log" --output "$R/vm-stress.out" \
	--status "$R/vm-stress.status" --suites "$suites" \
	--warnings "$TOP/guest/expected-warnings" \
	--kunit-py "$TREE/tools/testing/kunit/kunit.py" \
	--results "$HMM_RESULTS" || true
phase "done"
summary
