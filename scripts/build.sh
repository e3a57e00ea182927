#!/bin/bash
# Build the kernel (bzImage + modules), install the modules and UAPI headers
# into out/build/<flavor>/, and build the static user-space test programs.
. "$(dirname "$0")/common.sh"

"$TOP/scripts/config.sh"
log=$LOGS/$FLAVOR/build.log
phase "building kernel ($FLAVOR, $JOBS jobs; log: ${log#$TOP/})"
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
build_prog() {	# build_prog OUTPUT SOURCE...
	local out=$1; shift
	local newest src
	newest=$(ls -t "$@" "$BUILD/uapi/include/linux/version.h" | head -n1)
	[ -x "$out" ] && [ "$out" -nt "$newest" ] && return 0
	echo "CC $out" >> "$ulog"
	gcc "${CFLAGS_U[@]}" -o "$out" "$@" -lpthread -lrt -lm >> "$ulog" 2>&1 ||
		{ cat "$ulog" >&2; die "building $out failed"; }
}
# Upstream's selftest, unmodified, straight from the tree.
build_prog "$UBIN/hmm-tests" "$TREE/tools/testing/selftests/mm/hmm-tests.c"
for src in "$TOP"/tools/*.c; do
	[ -e "$src" ] || continue
	build_prog "$UBIN/$(basename "$src" .c)" "$src"
done
# New selftests that the series adds beside hmm-tests.c.
for src in "$TREE"/tools/testing/selftests/mm/hmm-*.c; do
	[ -e "$src" ] || continue
	[ "$(basename "$src")" != hmm-tests.c ] || continue
	build_prog "$UBIN/$(basename "$src" .c)" "$src"
done
phase "build done: $(cd "$BUILD" && du -h arch/x86/boot/bzImage | cut -f1) bzImage"
