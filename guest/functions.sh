# shellcheck shell=sh
# Helpers for job scripts run inside the test VM (sourced by /etc/hmm-job).
# The job's output goes to the host as its own file (see guest/init).

HMM_JOB_FAILS=0

# mark TEXT: a line in the job output and in the kernel log, so the host
# can line up the two (scripts/verdict.py closes expected-warning brackets
# at HMM-SUITE-END).
mark() {
	echo "$*"
	echo "$*" > /dev/kmsg
}

# job_fail WHAT: a job-level failure; the host names each one.
job_fail() {
	echo "HMM-JOB-FAIL: $*"
	HMM_JOB_FAILS=$((HMM_JOB_FAILS + 1))
}

# load_dmirror MODULE: insert a dummy driver (test_hmm, or upstream 6.12's
# unmodified one built as test_hmm_upstream) with two device-private and two
# device-coherent devices (the coherent ones on the 512 MiB of RAM above
# mem=2560M, which the kernel does not use). Both make /dev/hmm_dmirror0-3,
# so only one can be loaded.
load_dmirror() {
	grep -q "^$1 " /proc/modules && return 0
	insmod "/lib/modules/$1.ko" spm_addr_dev0=0xA0000000 spm_addr_dev1=0xB0000000 || return 1
	for i in 0 1 2 3; do
		[ -c /dev/hmm_dmirror$i ] || { echo "no /dev/hmm_dmirror$i"; return 1; }
	done
}

unload_dmirror() {
	grep -q "^$1 " /proc/modules || return 0
	rmmod "$1"
}

load_test_hmm() { load_dmirror test_hmm; }
unload_test_hmm() { unload_dmirror test_hmm; }

# use_driver series|upstream: make that dummy driver the loaded one.
# Upstream 6.12's driver leaks its devices when it is unloaded (the
# series' first patch fixes that in test_hmm), which kmemleak reports on
# the debug kernel: guest/suites runs its suites last, and nothing unloads
# it after them.
use_driver() {
	case $1 in
	series) unload_dmirror test_hmm_upstream && load_dmirror test_hmm ;;
	upstream) unload_dmirror test_hmm && load_dmirror test_hmm_upstream ;;
	*) echo "unknown driver $1"; return 1 ;;
	esac
}

# thp_mode always|madvise|never: set it and check that it took.
thp_mode() {
	f=/sys/kernel/mm/transparent_hugepage/enabled
	echo "$1" > $f 2>/dev/null
	grep -q "\[$1\]" $f || { echo "THP mode $1 did not take: $(cat $f)"; return 1; }
}

# Seconds a suite may run: the declared limit, x4 on the debug kernel.
time_limit() {
	if [ "${HMM_FLAVOR:-default}" = debug ]; then echo $(($1 * 4)); else echo "$1"; fi
}

# run_suite NAME LIMIT CMD...: run a test program in its own session, its
# output bracketed so the host can find and count it. After LIMIT seconds
# the guest dumps the stacks of the CPUs and of blocked tasks into the
# kernel log, kills the program and moves on (without waiting for a
# program that cannot be killed).
run_suite() {
	name=$1 limit=$2
	shift 2
	mark "HMM-SUITE-BEGIN: $name"
	setsid "$@" &
	pid=$!
	waited=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$waited" -ge "$limit" ]; then
			mark "HMM-SUITE-TIMEOUT: $name did not finish in ${limit}s"
			echo l > /proc/sysrq-trigger
			echo w > /proc/sysrq-trigger
			kill -9 -- "-$pid" 2>/dev/null
			n=0
			while kill -0 "$pid" 2>/dev/null && [ $n -lt 10 ]; do
				sleep 1
				n=$((n + 1))
			done
			if kill -0 "$pid" 2>/dev/null; then
				mark "HMM-SUITE-END: $name rc=unkillable"
				return 1
			fi
			break
		fi
		sleep 1
		waited=$((waited + 1))
	done
	wait "$pid"
	rc=$?
	mark "HMM-SUITE-END: $name rc=$rc"
	return $rc
}

# khugepaged_pause / khugepaged_resume: khugepaged sleeps for a day
# between scans, then its own setting again. Writing the setting wakes it
# for one pass, which the second's wait lets finish first.
KHP=/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs
khugepaged_pause() {
	read -r khp_saved < $KHP || return 1
	echo 86400000 > $KHP || return 1
	sleep 1
}
khugepaged_resume() {
	echo "$khp_saved" > $KHP
}

# run_declared_suites FILE: every "selftest" line of guest/suites, in order.
run_declared_suites() {
	while read -r kind name prog thp limit driver flags rest; do
		[ "$kind" = selftest ] || continue
		case $driver in '#'*|'') driver=series ;; esac
		case $flags in '#'*) flags= ;; esac
		if ! thp_mode "$thp"; then
			job_fail "$name: cannot set THP mode $thp"
			continue
		fi
		if ! use_driver "$driver"; then
			job_fail "$name: cannot load the $driver driver"
			continue
		fi
		if ! command -v "$prog" >/dev/null; then
			mark "HMM-SUITE-BEGIN: $name"
			echo "no program $prog in /tests"
			mark "HMM-SUITE-END: $name rc=127"
			continue
		fi
		if [ "$flags" = no-khugepaged ] && ! khugepaged_pause; then
			job_fail "$name: cannot pause khugepaged"
			continue
		fi
		run_suite "$name" "$(time_limit "$limit")" "$prog"
		[ "$flags" != no-khugepaged ] || khugepaged_resume
	done < "$1"
}

# kmemleak (debug kernel): two scans, then any suspect is a job failure.
kmemleak_check() {
	[ -e /sys/kernel/debug/kmemleak ] || return 0
	echo "HMM-GUEST: kmemleak scan"
	echo scan > /sys/kernel/debug/kmemleak
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	n=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
	if [ "$n" != 0 ]; then
		cat /sys/kernel/debug/kmemleak
		job_fail "kmemleak: $n unreferenced objects"
	fi
}
