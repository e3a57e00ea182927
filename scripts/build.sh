#!/bin/bash
# Build the kernel (bzImage + modules), install the modules and UAPI headers
# into out/build/<flavor>/, and build the static user-space test programs
# into out/build/<flavor>/bin (listed in bin/MANIFEST, which is what the VM
# gets: a program no longer built is removed, not run from an old binary).
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

"$TOP/scripts/config.sh"
log=$LOGS/$FLAVOR/build.log
phase "building kernel ($FLAVOR, $JOBS jobs; log: ${log#"$TOP"/})"
run_logged "$log" kernel_make bzImage modules
rm -rf "$BUILD/modroot"
run_logged "$LOGS/$FLAVOR/modules_install.log" \
	kernel_make INSTALL_MOD_PATH="$BUILD/modroot" DEPMOD=true modules_install
run_logged "$LOGS/$FLAVOR/headers.log" kernel_make INSTALL_HDR_PATH="$BUILD/uapi" headers_install

# User-space programs: linked statically so the initramfs needs no libc.
phase "building user-space tests"
UBIN=$BUILD/bin
mkdir -p "$UBIN"
CFLAGS_U=(-static -O2 -Wall -I "$TREE" -isystem "$BUILD/uapi/include" -isystem "$TREE/tools/include/uapi")
ulog=$LOGS/$FLAVOR/user.log
: > "$ulog"
built=()
# shellcheck source=userprogs.sh
. "$TOP/scripts/userprogs.sh"
# Upstream's selftest, unmodified, straight from the tree.
build_prog hmm-tests "$TREE/tools/testing/selftests/mm/hmm-tests.c"
for src in "$TOP"/tools/*.c; do
	[ -e "$src" ] || continue
	build_prog "$(basename "$src" .c)" "$src"
done
# New selftests that the series adds beside hmm-tests.c.
for src in "$TREE"/tools/testing/selftests/mm/hmm-*.c; do
	[ -e "$src" ] || continue
	[ "$(basename "$src")" != hmm-tests.c ] || continue
	build_prog "$(basename "$src" .c)" "$src"
done
finish_progs
phase "build done: $(cd "$BUILD" && du -h arch/x86/boot/bzImage | cut -f1) bzImage"
