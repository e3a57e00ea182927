# shellcheck shell=sh
# Job run inside the VM by `make stress`: tools/hmm-stress.c as one suite
# (its output is kselftest TAP, judged like the suites of make check), then
# module unload and, on the debug kernel, a kmemleak scan. The length and
# seed come on the kernel command line (hmm_stress_seconds=, hmm_stress_seed=,
# written by scripts/stress.sh); without them it is the bounded CI run.
# shellcheck source=functions.sh
. /etc/functions.sh
load_test_hmm || job_fail "cannot load test_hmm"
thp_mode madvise || job_fail "cannot set THP mode madvise"
set --
limit=300
read -r cmdline < /proc/cmdline
for w in $cmdline; do
	case $w in
	hmm_stress_seconds=*)
		set -- "$@" --seconds "${w#*=}"
		limit=$((${w#*=} * 2 + 300))
		;;
	hmm_stress_seed=*) set -- "$@" --seed "${w#*=}" ;;
	esac
done
run_suite hmm-stress "$(time_limit "$limit")" hmm-stress "$@"
thp_mode madvise || job_fail "cannot set THP mode madvise"
unload_test_hmm || job_fail "rmmod test_hmm failed"
kmemleak_check
exit "$HMM_JOB_FAILS"
