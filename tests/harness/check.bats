#!/usr/bin/env bats
# Self-tests of `make check`'s verdict: every way a run can go wrong must
# end in a named failure, never in "N passed, 0 failed". Each test feeds
# a stubbed VM boot (see helpers.bash) one fault.

load helpers

setup() {
	sandbox
}

@test "a good run passes (the stubs can pass at all)" {
	run_check
	[ "$status" -eq 0 ]
	echo "$output" | tail -n 1 | grep -Eq '^[0-9]+ passed, 0 failed, 1 skipped$'
	echo "$output" | grep -q 'suite-a: 2 passed, 0 failed, 1 skipped'
	echo "$output" | grep -q '1 expected warning seen as declared'
}

@test "a stale console log from an earlier run is not read" {
	run_check
	[ "$status" -eq 0 ]
	STUB_CPIO_FAIL=1 run_check
	assert_failed_with 'VM: gen_init_cpio failed'
	assert_failed_with 'no console log from this run'
}

@test "a VM that never boots is a failure" {
	: > "$STUB_CONSOLE"
	: > "$STUB_OUTPUT"
	run_check
	assert_failed_with "VM: the guest never printed this run's id"
}

@test "a declared suite that never ran is a failure" {
	edit "$STUB_OUTPUT" '/^HMM-SUITE-BEGIN: suite-b/,/^HMM-SUITE-END: suite-b/d'
	run_check
	assert_failed_with 'suite-b: did not start'
}

@test "a selftest program that no suite runs is a failure" {
	mkdir -p "$HMM_TREE/tools/testing/selftests/mm"
	: > "$HMM_TREE/tools/testing/selftests/mm/hmm-extra-tests.c"
	run_check
	assert_failed_with 'selftest program hmm-extra-tests is not declared in guest/suites'
}

@test "an undeclared suite is a failure" {
	edit "$STUB_OUTPUT" 's/suite-b/suite-x/g'
	run_check
	assert_failed_with 'suite-x: undeclared suite'
}

@test "garbled totals are a failure" {
	edit "$STUB_OUTPUT" 's/^# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:1 error:0$/# Totals: pass:2 fa/'
	run_check
	assert_failed_with 'suite-a: totals missing or unparsable'
}

@test "totals that disagree with the result lines are a failure" {
	edit "$STUB_OUTPUT" 's/^ok 2 b.bogus_code$/not ok 2 b.bogus_code/'
	run_check
	assert_failed_with 'suite-b: b.bogus_code'
	assert_failed_with 'suite-b: totals .* disagree'
}

@test "fewer result lines than the plan are a failure" {
	edit "$STUB_OUTPUT" '/^ok 2 a.two$/d; s/pass:2 fail:0 xfail:0 xpass:0 skip:1/pass:1 fail:0 xfail:0 xpass:0 skip:1/'
	run_check
	assert_failed_with 'suite-a: 2 result lines for a plan of 3'
}

@test "a suite that crashes after printing good totals is a failure" {
	edit "$STUB_OUTPUT" 's/^HMM-SUITE-END: suite-b rc=0$/HMM-SUITE-END: suite-b rc=139/'
	run_check
	assert_failed_with 'suite-b: exit status 139'
}

@test "a suite stopped by the guest watchdog is a failure" {
	edit "$STUB_OUTPUT" 's/^HMM-SUITE-END: suite-b rc=0$/HMM-SUITE-TIMEOUT: suite-b did not finish in 300s\nHMM-SUITE-END: suite-b rc=unkillable/'
	run_check
	assert_failed_with 'suite-b: did not finish in time'
	assert_failed_with 'suite-b: exit status unkillable'
}

@test "a job that fails after the suites is a failure" {
	edit "$STUB_OUTPUT" 's/^HMM-GUEST: job exit 0$/HMM-JOB-FAIL: rmmod test_hmm failed\nHMM-GUEST: job exit 1/'
	edit "$STUB_CONSOLE" 's/^HMM-GUEST-EXIT: 0$/HMM-GUEST-EXIT: 1/'
	run_check
	assert_failed_with 'job: rmmod test_hmm failed'
	assert_failed_with 'VM: the job exited with status 1'
}

@test "a VM that stops before the job ends is a failure" {
	edit "$STUB_CONSOLE" '/^HMM-GUEST-EXIT: 0$/d'
	run_check
	assert_failed_with 'VM: the VM stopped before the job finished'
}

@test "a VM that times out is a failure" {
	edit "$STUB_CONSOLE" '/^HMM-GUEST-EXIT: 0$/d'
	STUB_QEMU_RC=124 run_check
	assert_failed_with 'VM: the VM did not finish within'
}

@test "a KUnit parser error is a failure" {
	edit "$STUB_CONSOLE" '/ok 2 hmm_pt_walk_test/d'
	run_check
	assert_failed_with 'KUnit: 1 parser errors'
}

@test "a kernel message between KUnit lines is not a KUnit failure" {
	edit "$STUB_CONSOLE" '0,/^\(\[[ 0-9.]*\]\)     KTAP version 1$/s//&\n\1 input: AT Translated Set 2 keyboard as \/devices\/platform\/i8042\/serio0\/input\/input0/'
	grep -q 'input: AT Translated' "$STUB_CONSOLE"
	run_check
	[ "$status" -eq 0 ]
	echo "$output" | grep -q 'KUnit: Ran 3 tests: passed: 3'
}

@test "a kernel message inside the guest's own lines is not a failure" {
	edit "$STUB_CONSOLE" 's/^HMM-GUEST: run @RUN@$/HMM-GUEST: run [    1.553901] input: ImExPS\/2 Generic Explorer Mouse as \/devices\/platform\/i8042\/serio1\/input\/input2\n@RUN@/'
	edit "$STUB_CONSOLE" 's/^HMM-GUEST-EXIT: 0$/HMM-GUEST-EX[   41.000001] random: crng reseeded\nIT: 0/'
	grep -q '^HMM-GUEST: run \[' "$STUB_CONSOLE"
	grep -q '^IT: 0$' "$STUB_CONSOLE"
	run_check
	[ "$status" -eq 0 ]
	echo "$output" | tail -n 1 | grep -Eq '^[0-9]+ passed, 0 failed, 1 skipped$'
}

@test "a failing KUnit case is a failure" {
	edit "$STUB_CONSOLE" 's/    ok 1 hmm_etype_table_test/    not ok 1 hmm_etype_table_test/'
	run_check
	assert_failed_with 'KUnit: hmm_mirror_events.hmm_etype_table_test'
}

@test "a declared KUnit suite that did not run is a failure" {
	edit "$STUB_CONSOLE" 's/hmm_mirror_events/other_suite/g'
	run_check
	assert_failed_with 'KUnit: suite hmm_mirror_events did not run'
	assert_failed_with 'KUnit: undeclared suite other_suite'
}

@test "an expected warning that never comes is a failure" {
	edit "$STUB_CONSOLE" '/cut here/,/end trace/d'
	run_check
	assert_failed_with 'wanted exactly 1, saw 0'
}

@test "an expected warning that comes twice is a failure" {
	edit "$STUB_CONSOLE" '/HMM-EXPECT-WARN-END/{h;s/.*/[    3.350000] ------------[ cut here ]------------\n[    3.350000] hmm: copy_to_device() returned -22, not 0, -ENOMEM or -EIO\n[    3.350000] WARNING: CPU: 0 PID: 321 at mm\/hmm_migrate.c:262 hmm_copy_result+0x3c\/0x50\n[    3.350000] ---[ end trace 0000000000000000 ]---/;G}'
	run_check
	assert_failed_with 'wanted exactly 1, saw 2'
}

@test "an unclosed bracket is a failure" {
	edit "$STUB_CONSOLE" '/HMM-EXPECT-WARN-END/d'
	run_check
	assert_failed_with 'was still open when the suite ended'
}

@test "a different warning inside the bracket is a failure" {
	edit "$STUB_CONSOLE" 's/hmm: copy_to_device() returned -22/hmm: device pfn 0x42 is in use/'
	run_check
	assert_failed_with 'kernel log: .*WARNING: CPU: 1 PID: 321'
}

@test "the expected text warned from another file is a failure" {
	edit "$STUB_CONSOLE" 's/at mm\/hmm_migrate.c:262/at mm\/hmm_mirror.c:262/'
	run_check
	assert_failed_with 'kernel log: .*WARNING: CPU: 1 PID: 321 at mm/hmm_mirror.c'
}

@test "a BUG inside an accepted warning's trace is a failure" {
	edit "$STUB_CONSOLE" 's/^\[    3.300000\]  <TASK>$/[    3.300000] BUG: KASAN: slab-use-after-free in hmm_devmem_page_free+0x20\/0x90/'
	run_check
	assert_failed_with 'kernel log: .*BUG: KASAN'
}

@test "an undeclared expected-warning bracket is a failure" {
	edit "$STUB_CONSOLE" 's/hmm-copy-to-device-bogus/anything/g'
	run_check
	assert_failed_with 'undeclared expected warning "anything"'
}

@test "a kernel report outside any bracket is a failure" {
	edit "$STUB_CONSOLE" 's/^\[    3.000000\] HMM-SUITE-END: suite-a rc=0$/[    2.900000] rcu: INFO: rcu_preempt self-detected stall on CPU\n&/'
	run_check
	assert_failed_with 'kernel log: .*self-detected stall'
}

@test "a hung task is a failure" {
	edit "$STUB_CONSOLE" 's/^\[    3.000000\] HMM-SUITE-END: suite-a rc=0$/[    2.900000] INFO: task hmm-tests:99 blocked for more than 60 seconds.\n&/'
	run_check
	assert_failed_with 'kernel log: .*blocked for more than'
}

@test "a kmemleak report in the job output is a failure" {
	edit "$STUB_OUTPUT" 's/^HMM-GUEST: job exit 0$/unreferenced object 0xffff888003 (size 64):\n&/'
	run_check
	assert_failed_with 'kmemleak'
}

@test "a step that stops without recording a result is a failure" {
	printf '#!/bin/bash\nexit 3\n' > "$S/scripts/bisect.sh"
	run_check
	assert_failed_with 'bisect stopped with exit status 3 and recorded no result'
}

@test "a build failure is a named failure and the summary is still the last line" {
	STUB_BUILD_FAIL=1 run_check
	assert_failed_with 'kernel or test build'
}

@test "a failure before any test ran is a named failure" {
	printf '#!/bin/bash\necho "ERROR: no packages" >&2\nexit 1\n' > "$S/scripts/deps.sh"
	run_check
	assert_failed_with 'make check stopped during'
	[ "$(echo "$output" | tail -n 1)" = "0 passed, 1 failed" ]
}
