. /etc/functions.sh
load_test_hmm || exit 1
thp_mode madvise
P=/sys/module/hmm_migrate/parameters/huge_device
echo "huge_device=$(cat $P)"
rc=0
for dev in /dev/hmm_dmirror0 /dev/hmm_dmirror2; do
	[ -e $dev ] || continue
	echo "== $dev fault back"; /tmp/thpdev 8 $dev 0 || rc=1
	echo "== $dev migrate back"; /tmp/thpdev 8 $dev 1 || rc=1
done
echo 0 > $P
echo "== huge_device=0 fault back"; /tmp/thpdev 8 /dev/hmm_dmirror0 0 || rc=1
echo "== huge_device=0 migrate back"; /tmp/thpdev 8 /dev/hmm_dmirror0 1 || rc=1
echo 1 > $P
echo "== huge_device=1 64 MiB"; /tmp/thpdev 64 /dev/hmm_dmirror0 1 || rc=1
echo 0 > $P
echo "== huge_device=0 64 MiB"; /tmp/thpdev 64 /dev/hmm_dmirror0 1 || rc=1
echo 1 > $P
cat /sys/kernel/debug/hmm/stats 2>/dev/null | head -5
exit $rc
