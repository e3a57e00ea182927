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

# Upstream 6.12's own dummy driver, unmodified (lib/test_hmm.c of the base
# commit), as a second module, test_hmm_upstream.ko: guest/suites runs
# upstream's hmm-tests against it too, the regression test of the series'
# mm core changes for an existing driver. Its sources are rewritten only
# when they change, so an unchanged module is not rebuilt.
UPS=$BUILD/upstream-test-hmm
phase "building upstream's test_hmm as test_hmm_upstream.ko"
mkdir -p "$UPS"
for f in test_hmm.c test_hmm_uapi.h; do
	git -C "$TREE" show "base:lib/$f" > "$UPS/$f.new" || die "no lib/$f in the base commit"
	if cmp -s "$UPS/$f.new" "$UPS/$f"; then rm -f "$UPS/$f.new"; else mv "$UPS/$f.new" "$UPS/$f"; fi
done
printf 'obj-m := test_hmm_upstream.o\ntest_hmm_upstream-y := test_hmm.o\n' > "$UPS/Kbuild"
run_logged "$LOGS/$FLAVOR/upstream-test-hmm.log" kernel_make M="$UPS" modules
mkdir -p "$BUILD/modroot/extra"
cp "$UPS/test_hmm_upstream.ko" "$BUILD/modroot/extra/"

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
