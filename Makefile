# HMM mirror: a Linux 6.12 patch series and its test harness.
# See README.md. Everything generated lives in out/ (never committed).
#
#   make run            build everything, boot QEMU, run the dummy-device demo
#   make check          every test; last line "N passed, N failed[, N skipped]"
#   make check DEBUG=1  the same on a KASAN/lockdep/DEBUG_VM/kmemleak kernel

DEBUG ?= 0
export DEBUG

.PHONY: run check bench deps tree export build vm bisect checkpatch clean help

run:
	@scripts/run.sh

bench:
	@scripts/bench.sh

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

checkpatch:
	@cd out/linux && for p in $$(grep -v '^#' ../../patches/series); do \
		PATH=/usr/bin:$$PATH ./scripts/checkpatch.pl --strict --terse --ignore FILE_PATH_CHANGES ../../patches/$$p || exit 1; done

clean:
	rm -rf out/build out/logs

help:
	@sed -n '1,/^$$/p' Makefile
