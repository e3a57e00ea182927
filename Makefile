# HMM mirror: a Linux 6.12 patch series and its test harness.
# See README.md. Everything generated lives in out/ (never committed).
#
#   make run            build everything, boot QEMU, run the dummy-device demo
#   make check          every test; last line "N passed, N failed[, N skipped]"
#   make check DEBUG=1  the same on a KASAN/lockdep/DEBUG_VM/kmemleak kernel
#   make bench          the series' dummy driver against upstream's, side by
#                       side, in one VM boot (ROUNDS=N SIZES=2,8,... DEBUG=1)
#   make stress         randomized stress, fault injection and ioctl fuzzing of
#                       the dummy device, one VM boot (SECONDS=N SEED=S DEBUG=1)
#   make vm CMD=...     boot the test kernel and run one command in it
#   make fresh-test     the two commands above on a new Debian 12 root (slow)
#   make selftest       the harness's own self-tests (bats, a minute or two)

# Only DEBUG given on the make command line selects the flavor: a DEBUG
# variable in the environment is ignored, so `make check` always means the
# default kernel.
ifeq ($(origin DEBUG),command line)
ifeq ($(DEBUG),1)
HMM_FLAVOR := debug
else ifeq ($(DEBUG),0)
HMM_FLAVOR := default
else
$(error DEBUG must be 0 or 1, not '$(DEBUG)')
endif
else
HMM_FLAVOR := default
endif
export HMM_FLAVOR
unexport DEBUG
# make stress SECONDS=... SEED=...: passed on under names of their own;
# SECONDS must never reach bash (a builtin that counts up).
unexport SECONDS SEED ROUNDS SIZES

.PHONY: run check bench stress deps tree export build vm bisect matrix checkpatch selftest fresh-test clean help

run:
	@scripts/run.sh

bench:
	@HMM_BENCH_ROUNDS='$(ROUNDS)' HMM_BENCH_SIZES='$(SIZES)' scripts/bench.sh

stress:
	@HMM_STRESS_SECONDS='$(SECONDS)' HMM_STRESS_SEED='$(SEED)' scripts/stress.sh

check:
	@scripts/check.sh

deps:
	@scripts/deps.sh

tree: deps
	@scripts/tree.sh

export:
	@scripts/export.sh

build: tree
	@scripts/build.sh

vm:
	@scripts/vm-adhoc.sh

bisect: tree
	@scripts/bisect.sh

matrix: tree
	@scripts/matrix.sh

checkpatch:
	@cd out/linux && for p in $$(grep -v '^#' ../../patches/series); do \
		PATH=/usr/bin:$$PATH ./scripts/checkpatch.pl --strict --terse --ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID ../../patches/$$p || exit 1; done

selftest:
	@bats tests/harness

fresh-test:
	@scripts/fresh-test.sh

clean:
	rm -rf out/build out/logs out/accel

help:
	@sed -n '1,/^$$/p' Makefile
