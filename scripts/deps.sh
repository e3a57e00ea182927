#!/bin/bash
# Install the Debian packages the project needs (as root), or name the missing ones.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

PKGS="gcc make bc flex bison libelf-dev libssl-dev cpio xz-utils git perl python3 bats shellcheck
      qemu-system-x86 busybox-static ccache kmod libc6-dev python3-ply python3-git rsync gnuplot-nox"

missing=()
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$p")
done

want=$LINUX_SOURCE_VERSION
have=$(installed_source_version)
src_pkg=
if [ "$have" != "$want" ]; then
	src_pkg="$LINUX_SOURCE_PACKAGE=$want"
	# An older or newer 6.12.y is installed and the pinned one is gone from
	# the archive: keep what is there (tree.sh records and prints it).
	if [ -n "$have" ] && ! apt-cache madison "$LINUX_SOURCE_PACKAGE" 2>/dev/null |
			awk '{print $3}' | grep -qxF "$want"; then
		src_pkg=
	fi
fi

if [ ${#missing[@]} -eq 0 ] && [ -z "$src_pkg" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	die "missing Debian packages: ${missing[*]} ${src_pkg} (run as root, or: sudo apt-get install ${missing[*]} ${src_pkg})"
fi

phase "installing packages: ${missing[*]} ${src_pkg}"
export DEBIAN_FRONTEND=noninteractive
log=$LOGS/apt.log
run_logged "$log" apt-get update
if [ -n "$src_pkg" ] && ! apt-cache madison "$LINUX_SOURCE_PACKAGE" | awk '{print $3}' | grep -qxF "$want"; then
	newest=$(apt-cache madison "$LINUX_SOURCE_PACKAGE" | awk '{print $3}' | sort -V | tail -n 1)
	[ -n "$newest" ] || die "apt offers no $LINUX_SOURCE_PACKAGE at all"
	echo "NOTE: pinned $LINUX_SOURCE_PACKAGE $want is no longer in the archive; using the newest, $newest"
	src_pkg="$LINUX_SOURCE_PACKAGE=$newest"
fi
run_logged "$log.install" apt-get install -y -q --no-install-recommends --allow-downgrades ${missing[@]+"${missing[@]}"} ${src_pkg:+"$src_pkg"}
