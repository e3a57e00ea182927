#!/bin/bash
# make fresh-test: prove that the README's two commands work on a new
# Debian 12 machine. Builds a minimal Debian 12 root file system with
# mmdebstrap (variant minbase, plus make and git, which a user needs to
# clone the repository and type `make`), clones the committed HEAD of this
# repository into it and runs `make run`, then `make check`, inside it
# with chroot, as root. Nothing from this machine is visible in there: no
# packages, no ccache, no kernel tree. Slow (from-scratch kernel builds,
# about an hour on 2 cores); not part of `make check`.
# Output: the timings of each phase and the last lines of each command;
# full logs in out/fresh/*.log.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || die "make fresh-test needs root (mmdebstrap, chroot, mount)"
FRESH=$OUT/fresh
ROOT=$FRESH/root
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org}
mkdir -p "$FRESH"

unmount_all() {
	awk -v r="$ROOT" '$2 ~ "^" r "/" { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
trap 'unmount_all' EXIT

if ! command -v mmdebstrap >/dev/null; then
	phase "installing mmdebstrap (for this test only)"
	run_logged "$FRESH/apt.log" apt-get install -y -q --no-install-recommends mmdebstrap
fi

unmount_all
rm -rf "$ROOT"
phase "building a minimal Debian 12 root (mmdebstrap minbase + make, git; log: out/fresh/mmdebstrap.log)"
run_logged "$FRESH/mmdebstrap.log" mmdebstrap --variant=minbase --include=make,git,ca-certificates \
	bookworm "$ROOT" \
	"deb $MIRROR/debian bookworm main" \
	"deb $MIRROR/debian bookworm-updates main" \
	"deb $MIRROR/debian-security bookworm-security main"
phase "cloning the committed HEAD ($(git -C "$TOP" rev-parse --short HEAD)) into it"
git clone -q "$TOP" "$ROOT/root/hmm-mirror"
for d in proc sys dev; do
	mkdir -p "$ROOT/$d"
done
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
mount --make-rslave "$ROOT/dev"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true

rc=0
for cmd in "make run" "make check"; do
	log=$FRESH/${cmd#make }.log
	phase "$cmd inside the new root (log: ${log#"$TOP"/})"
	t0=$(date +%s)
	crc=0
	chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd /root/hmm-mirror && $cmd" > "$log" 2>&1 || crc=$?
	t1=$(date +%s)
	echo "  $cmd: exit $crc after $(((t1 - t0) / 60)) min $(((t1 - t0) % 60)) s; its phases:"
	grep -E '^\[ *[0-9]+s\]' "$log" | sed 's/^/    /'
	echo "  last lines:"
	tail -n 6 "$log" | sed 's/^/    /'
	[ "$crc" = 0 ] || rc=1
done
HMM_REPORTED=1
if [ $rc = 0 ]; then
	echo "FRESH MACHINE: PASSED (make run and make check on a new Debian 12 root)"
else
	echo "FRESH MACHINE: FAILED (see the last lines above and out/fresh/*.log)"
fi
exit $rc
