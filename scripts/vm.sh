#!/bin/bash
# Boot the test kernel in QEMU with an initramfs and run a job in it.
#
#   scripts/vm.sh [-n NAME] [-t TIMEOUT] [-f "FILES"] [-a "KERNEL ARGS"] [-s JOBFILE | -- CMD...]
#
# The initramfs holds busybox, the static test programs (in /tests), the
# modules (in /lib/modules), guest/functions.sh, guest/suites, any FILES
# (staged in /files, copied to /tmp at boot) and the job: JOBFILE, or CMD
# run by sh after loading test_hmm.
#
# Output, all under out/logs/<flavor>/ and all removed before the boot, so
# nothing from an earlier run can be read as this one's:
#   vm-NAME.log     the console (kernel messages; KUnit)
#   vm-NAME.out     the job's own output (second serial port)
#   vm-NAME.status  one line: "ok", or what went wrong
# Every boot carries a fresh run id (HMM_RUN_ID, or a random one) on the
# kernel command line; the guest prints it first thing on both outputs.
#
# Exit status: 0 only if the guest printed this run's id, the job exited 0
# and the console shows no kernel failure (scripts/verdict.py scan);
# otherwise non-zero, with the reason in vm-NAME.status and on stderr.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

name=adhoc timeout=${VM_TIMEOUT:-600} files="" append="" jobfile=""
while getopts "n:t:f:a:s:" o; do
	case $o in
	n) name=$OPTARG ;; t) timeout=$OPTARG ;; f) files=$OPTARG ;;
	a) append=$OPTARG ;; s) jobfile=$OPTARG ;; *) die "bad option" ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift

LOG=$LOGS/$FLAVOR/vm-$name.log
JOBOUT=$LOGS/$FLAVOR/vm-$name.out
STATUS=$LOGS/$FLAVOR/vm-$name.status
mkdir -p "$LOGS/$FLAVOR"
rm -f "$LOG" "$JOBOUT" "$STATUS"
run_id=${HMM_RUN_ID:-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')}

# finish STATUS-LINE EXIT: record why this boot ended and stop.
finish() {
	echo "$1" > "$STATUS"
	[ "$2" = 0 ] || echo "ERROR: VM '$name': $1" >&2
	exit "$2"
}
trap '[ -f "$STATUS" ] || echo "vm.sh stopped before the boot finished" > "$STATUS"' EXIT

KIMG=$BUILD/arch/x86/boot/bzImage
[ -f "$KIMG" ] || finish "no kernel at ${KIMG#"$TOP"/} (make build first)" 2
VMDIR=$BUILD/vm-$name
rm -rf "$VMDIR"; mkdir -p "$VMDIR"

# --- the job
if [ -n "$jobfile" ]; then
	cp "$jobfile" "$VMDIR/job"
else
	[ $# -gt 0 ] || finish "no job: give -s JOBFILE or -- CMD" 2
	{ echo '. /etc/functions.sh'; echo "load_test_hmm || exit 1"; printf '%s\n' "$*"; } > "$VMDIR/job"
fi

for f in $files; do
	[ -f "$f" ] || finish "no such file: $f (FILES)" 2
done

# --- the initramfs, described for the kernel's gen_init_cpio (no root needed)
list=$VMDIR/initramfs.list
{
	for d in /dev /proc /sys /tmp /files /etc /bin /sbin /usr /usr/bin /usr/sbin /tests /lib /lib/modules /root; do
		echo "dir $d 0755 0 0"
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "file /bin/busybox /bin/busybox 0755 0 0"
	for a in $(/bin/busybox --list-full); do
		[ "/$a" = /bin/busybox ] && continue
		echo "slink /$a /bin/busybox 0777 0 0"
	done
	echo "file /init $TOP/guest/init 0755 0 0"
	echo "file /etc/functions.sh $TOP/guest/functions.sh 0644 0 0"
	echo "file /etc/hmm-suites $TOP/guest/suites 0644 0 0"
	echo "file /etc/hmm-job $VMDIR/job 0644 0 0"
	if [ -f "$BUILD/bin/MANIFEST" ]; then
		while read -r b; do
			echo "file /tests/$b $BUILD/bin/$b 0755 0 0"
		done < "$BUILD/bin/MANIFEST"
	fi
	if [ -d "$BUILD/modroot" ]; then
		find "$BUILD/modroot" -name '*.ko' | while read -r m; do
			echo "file /lib/modules/$(basename "$m") $m 0644 0 0"
		done
	fi
	for f in $files; do
		mode=0644; [ -x "$f" ] && mode=0755
		echo "file /files/$(basename "$f") $(readlink -f "$f") $mode 0 0"
	done
} > "$list" || finish "cannot write the initramfs list" 2
"$BUILD/usr/gen_init_cpio" "$list" > "$VMDIR/initramfs.cpio" 2> "$VMDIR/gen_init_cpio.err" ||
	finish "gen_init_cpio failed: $(head -n 3 "$VMDIR/gen_init_cpio.err")" 2

# --- accelerator: KVM only if a KVM guest really boots here (bounded probe)
accel=${ACCEL:-}
if [ -z "$accel" ]; then
	cache=$OUT/accel
	if [ -f "$cache" ]; then
		accel=$(cat "$cache")
	else
		accel=tcg
		if [ -w /dev/kvm ]; then
			echo 'true' > "$VMDIR/probe"
			sed "s#$VMDIR/job#$VMDIR/probe#" "$list" > "$VMDIR/probe.list"
			if "$BUILD/usr/gen_init_cpio" "$VMDIR/probe.list" > "$VMDIR/probe.cpio" &&
			   timeout 25 qemu-system-x86_64 -accel kvm -cpu host -m 512M -display none \
				-monitor none -serial stdio -serial null -no-reboot \
				-kernel "$KIMG" -initrd "$VMDIR/probe.cpio" \
				-append "console=ttyS0 panic=-1" </dev/null 2>&1 | grep -q 'HMM-GUEST-EXIT: 0'; then
				accel=kvm
			fi
		fi
		echo "$accel" > "$cache"
		phase "accelerator probe: using $accel (KVM is used only if a KVM guest boots within 25 s)"
	fi
fi
case $accel in
kvm) accel_args=(-accel kvm -cpu host) ;;
*) accel_args=(-accel "tcg,thread=multi" -cpu max) ;;
esac

# 3 GiB guest, of which the kernel uses 2560 MiB: the rest stands in for the
# special-purpose memory of test_hmm's device-coherent devices. A hang
# panics the guest with a stack: hung tasks and soft lockups (Kconfig),
# RCU stalls (here).
cmdline="console=ttyS0 mem=2560M hugepages=16 oops=panic panic=-1 loglevel=7"
# The debug kernel boots with 4-level paging, the default kernel with the
# 5-level paging of -cpu max: both layouts run the suites. On KASAN
# kernels 6.12 has a boot-time race that is not the series': identify_cpu()
# clears boot_cpu_data's capabilities for a moment, pgtable_l5_enabled()
# reads false there, KASAN's addr_has_metadata() takes the 5-level direct
# map for a wild address, and an interrupt that takes a spinlock then
# reports "wild-memory-access in do_raw_spin_lock" (RIP cpu_detect). It
# failed about one debug boot in 15.
[ "$FLAVOR" != debug ] || cmdline="$cmdline no5lvl"
cmdline="$cmdline sysctl.kernel.panic_on_rcu_stall=1 hmm_run=$run_id hmm_flavor=$FLAVOR $append"
phase "booting VM '$name' ($accel, timeout ${timeout}s; log: ${LOG#"$TOP"/})"
set +e
timeout --foreground -k 5 "$timeout" qemu-system-x86_64 "${accel_args[@]}" -smp 2 -m 3G \
	-display none -monitor none -serial stdio -serial "file:$JOBOUT.raw" -no-reboot \
	-kernel "$KIMG" -initrd "$VMDIR/initramfs.cpio" \
	-append "$cmdline" </dev/null 2>&1 | tr -d '\r' | tee "$LOG" |
	if [ "${VERBOSE:-0}" = 1 ]; then cat; else cat >/dev/null; fi
qrc=${PIPESTATUS[0]}
set -e
tr -d '\r' < "$JOBOUT.raw" > "$JOBOUT" 2>/dev/null || : > "$JOBOUT"
rm -f "$JOBOUT.raw"

# The guest's own lines, with kernel messages that cut them lifted out.
lines=$(python3 "$TOP/scripts/verdict.py" untangle "$LOG") || lines=""
grep -q "HMM-GUEST: run $run_id\$" <<<"$lines" ||
	finish "the guest never printed this run's id (it did not boot; qemu exit $qrc; log: ${LOG#"$TOP"/})" 3
rc=$(sed -n 's/^.*HMM-GUEST-EXIT: \([0-9]*\).*$/\1/p' <<<"$lines" | tail -n 1)
if [ -z "$rc" ]; then
	[ "$qrc" != 124 ] || finish "the VM did not finish within ${timeout}s (log: ${LOG#"$TOP"/})" 124
	finish "the VM stopped before the job finished (qemu exit $qrc; log: ${LOG#"$TOP"/})" 4
fi
if ! scan=$(python3 "$TOP/scripts/verdict.py" scan --warnings "$TOP/guest/expected-warnings" "$LOG"); then
	echo "$scan" >&2
	finish "kernel failure in the console log: $(echo "$scan" | head -n 1)" 5
fi
[ "$rc" = 0 ] || finish "the job exited with status $rc" "$rc"
finish ok 0
