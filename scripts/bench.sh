#!/bin/bash
# make bench [ROUNDS=N] [SIZES=2,8,...]: build, boot one VM, and run
# tools/hmm-bench.c against the series' test_hmm and upstream 6.12's
# unmodified test_hmm (test_hmm_upstream.ko) in turns (guest/bench-job.sh);
# scripts/bench-report.py prints them side by side (median, spread, ratio,
# a memcpy control) and plots throughput against size with gnuplot into
# out/bench/. The Makefile passes ROUNDS and SIZES as HMM_BENCH_ROUNDS and
# HMM_BENCH_SIZES.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

rounds=${HMM_BENCH_ROUNDS:-3}
sizes=${HMM_BENCH_SIZES:-2,8,32,128,256}
[[ $rounds =~ ^[1-9][0-9]?$ ]] || die "ROUNDS must be a number from 1 to 99, not '$rounds'"
[[ $sizes =~ ^[0-9]+(,[0-9]+){0,7}$ ]] || die "SIZES must be up to 8 sizes in MiB, comma-separated, not '$sizes'"
for s in ${sizes//,/ }; do
	if [ $((s % 2)) != 0 ] || [ "$s" -lt 2 ] || [ "$s" -gt 512 ]; then
		die "SIZES: $s MiB is not an even size from 2 to 512 MiB"
	fi
done

"$TOP/scripts/deps.sh"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build.sh"
R=$LOGS/$FLAVOR
mkdir -p "$R"
rm -f "$R"/vm-bench.*
timeout=$((900 * rounds))
[ "$FLAVOR" != debug ] || timeout=$((timeout * 4))
rc=0
"$TOP/scripts/vm.sh" -n bench -t "$timeout" -a "hmm_bench_rounds=$rounds hmm_bench_sizes=$sizes hmm_mirror.debug_checks=0" \
	-s "$TOP/guest/bench-job.sh" || rc=$?
HMM_REPORTED=1
if [ "$rc" != 0 ]; then
	grep -E '^(hmm-bench|HMM-JOB-FAIL)' "$R/vm-bench.out" 2>/dev/null | head -n 20 || true
	echo "FAILURE: $(cat "$R/vm-bench.status" 2>/dev/null || echo "the VM did not run"); see out/logs/$FLAVOR/vm-bench.log"
	exit "$rc"
fi
phase "results (job output: out/logs/$FLAVOR/vm-bench.out)"
python3 "$TOP/scripts/bench-report.py" --rounds "$rounds" --plots "$OUT/bench" "$R/vm-bench.out" ||
	{ echo "FAILURE: the benchmark's output is incomplete or unreadable (out/logs/$FLAVOR/vm-bench.out)"; exit 1; }
echo "(Linux $(make -s -C "$TREE" kernelversion), $(git -C "$TREE" rev-list --count base..HEAD) patches, $(cat "$OUT/accel") accelerator, $FLAVOR kernel, one boot; console log: out/logs/$FLAVOR/vm-bench.log)"
