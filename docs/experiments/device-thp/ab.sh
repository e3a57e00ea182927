. /etc/functions.sh
load_test_hmm || exit 1
thp_mode madvise
P=/sys/module/hmm_migrate/parameters/huge_device
for r in 1 2 3 4 5; do
	for h in 1 0; do
		echo $h > $P
		for m in 1 0; do
			/tmp/thpdev 64 /dev/hmm_dmirror0 $m | sed -n "s/^migrate to dev: .*, \([0-9.]*\) ms, .*AnonHugePages \([0-9]*\) kB/AB huge=$h mode=$m todev_ms=\1 devthp_kb=\2/p; s/^back: \([0-9.]*\) ms.*/AB huge=$h mode=$m back_ms=\1/p; /FAIL/p"
		done
	done
done
