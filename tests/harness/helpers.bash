# Shared setup for the harness self-tests: a copy of the project's
# scripts and guest files in a sandbox, with the slow steps (packages,
# kernel tree, kernel build, static checks, bisect, matrix) replaced by
# stubs, a fake kernel tree that carries the real kunit.py, and QEMU
# replaced by stubs/qemu-system-x86_64, which plays back a console log and
# a job output (fixtures/good.*, which each test may change first).
# shellcheck shell=bash
# bats sets $status and $output.
# shellcheck disable=SC2154

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
REAL_TREE=${HMM_REAL_TREE:-$REPO/out/linux}

sandbox() {
	unset HMM_TOPLEVEL HMM_T0 HMM_RESULTS HMM_REPORTED HMM_FLAVOR HMM_RUN_ID \
		HMM_TREE HMM_BUILD DEBUG ACCEL VM_TIMEOUT
	[ -f "$REAL_TREE/tools/testing/kunit/kunit.py" ] ||
		{ echo "needs the kernel tree's kunit.py in $REAL_TREE (make tree)" >&2; return 1; }
	S=$BATS_TEST_TMPDIR/top
	mkdir -p "$S"
	cp -r "$REPO/scripts" "$REPO/guest" "$REPO/config" "$REPO/kernel.version" "$REPO/Makefile" "$S/"
	cp "$BATS_TEST_DIRNAME/fixtures/suites" "$S/guest/suites"
	mkdir -p "$S/patches"
	: > "$S/patches/series"
	printf '#!/bin/bash\nexit 0\n' > "$S/scripts/deps.sh"
	printf '#!/bin/bash\nexit 0\n' > "$S/scripts/tree.sh"
	for s in static bisect matrix; do
		cat > "$S/scripts/$s.sh" <<-STUB
		#!/bin/bash
		. "\$(dirname "\$0")/common.sh"
		result pass "stub $s"
		STUB
	done
	cat > "$S/scripts/build.sh" <<-'STUB'
	#!/bin/bash
	. "$(dirname "$0")/common.sh"
	[ -z "${STUB_BUILD_FAIL:-}" ] || die "stub build failure"
	mkdir -p "$BUILD/arch/x86/boot" "$BUILD/usr" "$BUILD/bin"
	echo kernel > "$BUILD/arch/x86/boot/bzImage"
	cp "$STUBS/gen_init_cpio" "$BUILD/usr/gen_init_cpio"
	: > "$BUILD/bin/MANIFEST"
	STUB
	chmod +x "$S"/scripts/*.sh
	# A kernel tree that has just what check.sh asks of it.
	T=$BATS_TEST_TMPDIR/tree
	mkdir -p "$T/tools/testing"
	printf 'kernelversion:\n\t@echo 6.12.117\n' > "$T/Makefile"
	ln -s "$REAL_TREE/tools/testing/kunit" "$T/tools/testing/kunit"
	git -C "$T" init -q
	git -C "$T" -c user.name=t -c user.email=t@t add -A
	git -C "$T" -c user.name=t -c user.email=t@t commit -qm base
	git -C "$T" tag base
	git -C "$T" -c user.name=t -c user.email=t@t commit -q --allow-empty -m "a patch"
	echo "6.12.117-1~deb12u1" > "$T/.git/hmm-base-version"
	STUBS=$BATS_TEST_DIRNAME/stubs
	export STUBS HMM_TREE=$T HMM_BUILD=$BATS_TEST_TMPDIR/build ACCEL=tcg
	export PATH=$STUBS:$PATH
	export STUB_CONSOLE=$BATS_TEST_TMPDIR/console STUB_OUTPUT=$BATS_TEST_TMPDIR/output
	cp "$BATS_TEST_DIRNAME/fixtures/good.console" "$STUB_CONSOLE"
	cp "$BATS_TEST_DIRNAME/fixtures/good.out" "$STUB_OUTPUT"
}

# run_check: `make check` in the sandbox; sets $status and $output.
run_check() {
	run bash "$S/scripts/check.sh"
	echo "$output" >&3
}

# The last line must say N passed, M failed with M > 0, and a "failed:"
# line must name the failure (a regex).
assert_failed_with() {
	[ "$status" -ne 0 ] || { echo "check.sh passed"; return 1; }
	echo "$output" | tail -n 1 | grep -Eq '^[0-9]+ passed, [1-9][0-9]* failed' ||
		{ echo "last line: $(echo "$output" | tail -n 1)"; return 1; }
	echo "$output" | grep -E '^failed: ' | grep -Eq -- "$1" ||
		{ echo "no 'failed:' line matches: $1"; return 1; }
}

# edit FILE SED-SCRIPT: change a fixture in place.
edit() {
	sed -i "$2" "$1"
}
