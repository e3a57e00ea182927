#!/usr/bin/env bats
# Self-tests of the Makefile's flavor selection and of the user-space
# program build (scripts/userprogs.sh).

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

flavor() {
	# shellcheck disable=SC2016 # make expands it, not the shell
	make -s -C "$REPO" --no-print-directory "$@" --eval 'print-flavor: ; @echo $$HMM_FLAVOR' print-flavor
}

@test "DEBUG in the environment does not change the flavor" {
	[ "$(DEBUG=1 flavor)" = default ]
	[ "$(flavor)" = default ]
}

@test "DEBUG=1 on the command line selects the debug kernel" {
	[ "$(flavor DEBUG=1)" = debug ]
	[ "$(DEBUG=1 flavor DEBUG=0)" = default ]
}

@test "a DEBUG value other than 0 or 1 is an error" {
	run flavor DEBUG=yes
	[ "$status" -ne 0 ]
	echo "$output" | grep -q 'DEBUG must be 0 or 1'
}

# Build a program the way scripts/build.sh does, in a scratch directory.
build() {
	(
		TOP=$REPO UBIN=$BATS_TEST_TMPDIR/bin ulog=$BATS_TEST_TMPDIR/user.log
		CFLAGS_U=(-O0 -I "$BATS_TEST_TMPDIR/inc")
		built=()
		die() { echo "$*" >&2; exit 1; }
		mkdir -p "$UBIN"
		# shellcheck source=../../scripts/userprogs.sh
		. "$REPO/scripts/userprogs.sh"
		for p in "$@"; do build_prog "$p" "$BATS_TEST_TMPDIR/$p.c"; done
		finish_progs
	)
}

setup() {
	mkdir -p "$BATS_TEST_TMPDIR/inc"
	echo '#define VALUE 1' > "$BATS_TEST_TMPDIR/inc/uapi.h"
	printf '#include <stdio.h>\n#include "uapi.h"\nint main(void) { printf("%%d\\n", VALUE); return 0; }\n' > "$BATS_TEST_TMPDIR/prog.c"
	cp "$BATS_TEST_TMPDIR/prog.c" "$BATS_TEST_TMPDIR/other.c"
}

@test "a test program is rebuilt when a header it includes changes" {
	build prog
	[ "$("$BATS_TEST_TMPDIR/bin/prog")" = 1 ]
	sleep 1.1
	echo '#define VALUE 2' > "$BATS_TEST_TMPDIR/inc/uapi.h"
	build prog
	[ "$("$BATS_TEST_TMPDIR/bin/prog")" = 2 ]
}

@test "an unchanged test program is not rebuilt" {
	build prog
	before=$(stat -c %Y.%N "$BATS_TEST_TMPDIR/bin/prog")
	sleep 1.1
	build prog
	[ "$(stat -c %Y.%N "$BATS_TEST_TMPDIR/bin/prog")" = "$before" ]
}

@test "a program no longer built leaves the VM's program list and the build" {
	build prog other
	[ -x "$BATS_TEST_TMPDIR/bin/other" ]
	build prog
	[ "$(cat "$BATS_TEST_TMPDIR/bin/MANIFEST")" = prog ]
	[ ! -e "$BATS_TEST_TMPDIR/bin/other" ]
}
