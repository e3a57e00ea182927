# Job run inside the VM by `make check` (sourced by guest/init via sh).
. /etc/functions.sh
fail=0
load_test_hmm || { echo "cannot load test_hmm"; exit 1; }

# Upstream's hmm-tests, unmodified. THP "madvise": in 6.12,
# make_device_exclusive_range() refuses tail pages of large folios, so the
# three exclusive* tests fail under THP "always" (see README).
thp_mode madvise
run_suite hmm-tests hmm-tests || fail=1

# The series' own selftests (tools/testing/selftests/mm/hmm-*.c beside
# hmm-tests.c), under both THP modes.
for t in /tests/hmm-mirror-* /tests/hmm-migrate-*; do
	[ -x "$t" ] || continue
	thp_mode madvise
	run_suite "$(basename "$t")" "$t" || fail=1
	thp_mode always
	run_suite "$(basename "$t")@thp-always" "$t" || fail=1
done
thp_mode madvise

unload_test_hmm || { echo "rmmod test_hmm failed"; fail=1; }

# kmemleak (debug build): two scans, then print whatever it suspects; the
# host fails the run on any "unreferenced object" line.
if [ -e /sys/kernel/debug/kmemleak ]; then
	echo "HMM-GUEST: kmemleak scan"
	echo scan > /sys/kernel/debug/kmemleak
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak
fi
exit $fail
