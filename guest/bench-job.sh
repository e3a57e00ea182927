# shellcheck shell=sh
# Job run inside the VM by `make bench`: tools/hmm-bench.c against the
# series' test_hmm and upstream 6.12's unmodified test_hmm_upstream, in
# turns, BENCH_ROUNDS rounds each; the driver that goes first alternates
# from round to round, so that a drift of the VM over the boot hits both.
# scripts/bench-report.py reads the BENCH lines.
# shellcheck source=functions.sh
. /etc/functions.sh
rounds=3 sizes=2,8,32,128,256
read -r cmdline < /proc/cmdline
for w in $cmdline; do
	case $w in
	hmm_bench_rounds=*) rounds=${w#*=} ;;
	hmm_bench_sizes=*) sizes=${w#*=} ;;
	esac
done
thp_mode madvise || exit 1
# CONFIG_HMM_MIRROR_DEBUG asks the series' driver about every entry that
# leaves a mirror table; upstream's driver has no mirror to check. The
# host turns the checks off (hmm_mirror.debug_checks=0) for a fair race.
checks=/sys/module/hmm_mirror/parameters/debug_checks
if [ -f $checks ] && [ "$(cat $checks)" != N ]; then
	job_fail "the mirror's debug checks are on ($checks: $(cat $checks))"
	exit 1
fi
echo "BENCH-CONFIG rounds $rounds sizes $sizes"
r=1
while [ "$r" -le "$rounds" ]; do
	if [ $((r % 2)) = 1 ]; then order="series upstream"; else order="upstream series"; fi
	for d in $order; do
		use_driver "$d" || { job_fail "cannot load the $d driver"; exit 1; }
		echo 3 > /proc/sys/vm/drop_caches
		hmm-bench --driver "$d" --round "$r" --sizes "$sizes" ||
			{ job_fail "hmm-bench, $d driver, round $r"; exit 1; }
	done
	r=$((r + 1))
done
