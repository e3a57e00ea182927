#!/bin/bash
# Boot the test kernel in QEMU with an initramfs and run a job in it.
#
#   scripts/vm.sh [-n NAME] [-t TIMEOUT] [-f "FILES"] [-a "KERNEL ARGS"] [-s JOBFILE | -- CMD...]
#
# The initramfs holds busybox, the static test programs (in /tests), the
# modules (in /lib/modules), guest/functions.sh, any FILES (copied to /tmp;
# executables are runnable from there) and the job: JOBFILE, or CMD run by sh.
# The console log goes to out/logs/<flavor>/vm-NAME.log and is scanned for
# kernel failures (scripts/scan-log.sh). Exit status: the job's, or 1 if
# the log shows a failure, or 124 if the VM did not finish in TIMEOUT s.
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

KIMG=$BUILD/arch/x86/boot/bzImage
[ -f "$KIMG" ] || die "no kernel at $KIMG (make build first)"
VMDIR=$BUILD/vm-$name
rm -rf "$VMDIR"; mkdir -p "$VMDIR"
LOG=$LOGS/$FLAVOR/vm-$name.log

# --- the job
if [ -n "$jobfile" ]; then
	cp "$jobfile" "$VMDIR/job"
else
	[ $# -gt 0 ] || die "no job: give -s JOBFILE or -- CMD"
	{ echo '. /etc/functions.sh'; echo "load_test_hmm || exit 1"; printf '%s\n' "$*"; } > "$VMDIR/job"
fi

# --- the initramfs, described for the kernel's gen_init_cpio (no root needed)
list=$VMDIR/initramfs.list
{
	for d in /dev /proc /sys /tmp /etc /bin /sbin /usr /usr/bin /usr/sbin /tests /lib /lib/modules /root; do
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
	echo "file /etc/hmm-job $VMDIR/job 0644 0 0"
	for f in "$BUILD"/bin/*; do
		[ -x "$f" ] && echo "file /tests/$(basename "$f") $f 0755 0 0"
	done
	find "$BUILD/modroot" -name '*.ko' 2>/dev/null | while read -r m; do
		echo "file /lib/modules/$(basename "$m") $m 0644 0 0"
	done
	for f in $files; do
		[ -f "$f" ] || die "no such file: $f"
		mode=0644; [ -x "$f" ] && mode=0755
		echo "file /tmp/$(basename "$f") $(readlink -f "$f") $mode 0 0"
	done
} > "$list"
"$BUILD/usr/gen_init_cpio" "$list" > "$VMDIR/initramfs.cpio" ||
	die "gen_init_cpio failed"

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
			"$BUILD/usr/gen_init_cpio" "$VMDIR/probe.list" > "$VMDIR/probe.cpio"
			if timeout 25 qemu-system-x86_64 -accel kvm -cpu host -m 512M -nographic -no-reboot \
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
*) accel_args=(-accel tcg,thread=multi -cpu max) ;;
esac

# 3 GiB guest, of which the kernel uses 2560 MiB: the rest stands in for the
# special-purpose memory of test_hmm's device-coherent devices.
cmdline="console=ttyS0 mem=2560M hugepages=16 oops=panic panic=-1 loglevel=7 $append"
phase "booting VM '$name' ($accel, timeout ${timeout}s; log: ${LOG#$TOP/})"
mkdir -p "$(dirname "$LOG")"
set +e
timeout --foreground -k 5 "$timeout" qemu-system-x86_64 "${accel_args[@]}" -smp 2 -m 3G \
	-nographic -no-reboot -kernel "$KIMG" -initrd "$VMDIR/initramfs.cpio" \
	-append "$cmdline" </dev/null 2>&1 | tr -d '\r' | tee "$LOG" |
	if [ "${VERBOSE:-0}" = 1 ]; then cat; else cat >/dev/null; fi
qrc=${PIPESTATUS[0]}
set -e

rc=$(sed -n 's/^.*HMM-GUEST-EXIT: \([0-9]*\).*$/\1/p' "$LOG" | tail -n 1)
scan_rc=0
"$TOP/scripts/scan-log.sh" "$LOG" || scan_rc=1
if [ -z "$rc" ]; then
	if [ "$qrc" = 124 ]; then
		echo "ERROR: the VM did not finish within ${timeout}s (log: $LOG)" >&2
		exit 124
	fi
	echo "ERROR: the VM stopped before the job finished (qemu exit $qrc; log: $LOG)" >&2
	exit 1
fi
[ $scan_rc = 0 ] || exit 1
exit "$rc"
