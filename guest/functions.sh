# Helpers for job scripts run inside the test VM (sourced by /etc/hmm-job).

# load_test_hmm: insert the dummy driver with two device-private and two
# device-coherent devices (the coherent ones on the 512 MiB of RAM above
# mem=2560M, which the kernel does not use).
load_test_hmm() {
	grep -q '^test_hmm ' /proc/modules && return 0
	insmod /lib/modules/test_hmm.ko spm_addr_dev0=0xA0000000 spm_addr_dev1=0xB0000000 || return 1
	for i in 0 1 2 3; do
		[ -c /dev/hmm_dmirror$i ] || { echo "no /dev/hmm_dmirror$i"; return 1; }
	done
}

unload_test_hmm() {
	grep -q '^test_hmm ' /proc/modules || return 0
	rmmod test_hmm
}

# thp_mode always|madvise|never
thp_mode() {
	echo "$1" > /sys/kernel/mm/transparent_hugepage/enabled
}

# Mark a region of the console log where a WARNING matching $1 is expected
# (scripts/scan-log.sh accepts those, and only those, inside the region).
expect_warn_begin() { echo "HMM-EXPECT-WARN-BEGIN: $1" > /dev/kmsg; }
expect_warn_end() { echo "HMM-EXPECT-WARN-END" > /dev/kmsg; }

# Bracket a test program's output so the host can find and count it.
run_suite() {	# run_suite NAME CMD...
	local name=$1 rc
	shift
	echo "HMM-SUITE-BEGIN: $name"
	"$@"
	rc=$?
	echo "HMM-SUITE-END: $name rc=$rc"
	return $rc
}
