#!/bin/bash
# make check: every test, ending with "N passed, N failed[, N skipped]".
#   static:    checkpatch --strict on every patch; every patch builds on its own
#   KUnit:     suites built into the kernel, parsed by tools/testing/kunit/kunit.py
#   selftests: upstream hmm-tests (unmodified) and the series' own, in QEMU
#   kernel log: no oops/BUG/WARNING/KASAN/lockdep/kmemleak report
. "$(dirname "$0")/common.sh"

pass=0 failn=0 skip=0
declare -a failed_names=()
result() {	# result pass|fail|skip NAME
	case $1 in
	pass) pass=$((pass + 1)) ;;
	fail) failn=$((failn + 1)); failed_names+=("$2") ;;
	skip) skip=$((skip + 1)) ;;
	esac
}

"$TOP/scripts/deps.sh"
"$TOP/scripts/tree.sh"
ver=$(cat "$TREE/.git/hmm-base-version")
npatch=$(git -C "$TREE" rev-list --count base..HEAD)
phase "base: Linux $(make -s -C "$TREE" kernelversion) from Debian $LINUX_SOURCE_PACKAGE $ver; series: $npatch patches; build: $FLAVOR"

# --- static checks on the series (default flavor only: they do not depend on it)
if [ "$FLAVOR" = default ] && [ "$npatch" -gt 0 ]; then
	phase "checkpatch --strict on $npatch patches"
	# checkpatch's SPDX check runs "python3" from PATH: use Debian's, which
	# has python3-ply and python3-git. FILE_PATH_CHANGES ("does MAINTAINERS
	# need updating?") fires for every new file; instead, the check below
	# requires that MAINTAINERS covers every file the series adds.
	for p in $(grep -v '^#' "$PATCHES/series"); do
		if out=$(cd "$TREE" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --terse --no-summary \
				--show-types --ignore FILE_PATH_CHANGES "$PATCHES/$p" 2>&1); then
			result pass "checkpatch $p"
		else
			echo "$out" | head -n 20
			result fail "checkpatch $p"
		fi
	done
	orphans=""
	for f in $(git -C "$TREE" diff --name-only --diff-filter=A base..HEAD); do
		m=$(cd "$TREE" && ./scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats \
			--no-l --no-r -f "$f" 2>/dev/null | grep -v 'torvalds@' || true)
		[ -n "$m" ] || orphans="$orphans $f"
	done
	if [ -z "$orphans" ]; then
		result pass "MAINTAINERS covers the new files"
	else
		echo "  files the series adds that MAINTAINERS does not cover:$orphans"
		result fail "MAINTAINERS covers the new files"
	fi
	docfiles=$(git -C "$TREE" diff --name-only --diff-filter=A base..HEAD -- '*.c' '*.h' | grep -v '^tools/' || true)
	kdoc=$(cd "$TREE" && scripts/kernel-doc -none -Wall include/linux/hmm.h $docfiles 2>&1 || true)
	if [ -z "$kdoc" ]; then
		result pass "kernel-doc"
	else
		echo "$kdoc" | head -n 20 | sed 's/^/  /'
		result fail "kernel-doc"
	fi
	if [ "${BISECT:-1}" = 1 ]; then
		"$TOP/scripts/bisect.sh" && result pass "every patch builds" || result fail "every patch builds"
	fi
fi

"$TOP/scripts/build.sh"

# --- one VM boot: KUnit (built in, runs at boot), then the selftests
vmrc=0
VM_TIMEOUT=$([ "$FLAVOR" = debug ] && echo 2400 || echo 900) \
	"$TOP/scripts/vm.sh" -n check -s "$TOP/guest/check-job.sh" || vmrc=$?
LOG=$LOGS/$FLAVOR/vm-check.log
[ -f "$LOG" ] || die "no console log"

phase "results (console log: ${LOG#$TOP/})"
# KUnit, through the in-tree parser.
kout=$LOGS/$FLAVOR/kunit.txt
python3 "$TREE/tools/testing/kunit/kunit.py" parse "$LOG" > "$kout" 2>&1 || true
sed -n 's/^.*\(Testing complete\.\)/  KUnit: \1/p' "$kout"
kline=$(grep 'Testing complete' "$kout" | tail -n 1 || true)
if [ -z "$kline" ]; then
	echo "  KUnit: no KTAP output found (see $kout)"
	result fail "KUnit output"
else
	kp=$(echo "$kline" | sed -n 's/.*passed: \([0-9]*\).*/\1/p'); kp=${kp:-0}
	kf=$(echo "$kline" | sed -n 's/.*failed: \([0-9]*\).*/\1/p'); kf=${kf:-0}
	ks=$(echo "$kline" | sed -n 's/.*skipped: \([0-9]*\).*/\1/p'); ks=${ks:-0}
	kc=$(echo "$kline" | sed -n 's/.*crashed: \([0-9]*\).*/\1/p'); kc=${kc:-0}
	kt=$(echo "$kline" | sed -n 's/.*Ran \([0-9]*\) tests.*/\1/p'); kt=${kt:-0}
	pass=$((pass + kp)); skip=$((skip + ks))
	[ $((kf + kc)) -eq 0 ] || { failn=$((failn + kf + kc)); failed_names+=("KUnit: $kf failed, $kc crashed"); grep -E '\[FAILED\]|\[CRASHED\]' "$kout" | head || true; }
	[ "$kt" -gt 0 ] || result fail "KUnit ran no tests"
fi

# kselftest-harness suites, bracketed by HMM-SUITE-BEGIN/END in the log.
suites=$(sed -n 's/^.*HMM-SUITE-BEGIN: \([^ ]*\).*$/\1/p' "$LOG")
seen=""
for s in hmm-tests $suites; do
	case " $seen " in *" $s "*) continue ;; esac
	seen="$seen $s"
	body=$(awk -v s="$s" '$0 ~ "HMM-SUITE-BEGIN: " s "$" {on=1; next} $0 ~ "HMM-SUITE-END: " s " " {on=0} on' "$LOG")
	tot=$(echo "$body" | grep '# Totals:' | tail -n 1 || true)
	if [ -z "$tot" ]; then
		echo "  $s: did not finish (no Totals line)"
		result fail "$s did not finish"
		continue
	fi
	tp=$(echo "$tot" | sed -n 's/.*Totals: pass:\([0-9]*\).*/\1/p')
	tf=$(echo "$tot" | sed -n 's/.* fail:\([0-9]*\).*/\1/p')
	ts=$(echo "$tot" | sed -n 's/.* skip:\([0-9]*\).*/\1/p')
	te=$(echo "$tot" | sed -n 's/.* error:\([0-9]*\).*/\1/p')
	echo "  $s: $tp passed, $tf failed, $ts skipped${te:+, $te errors}"
	echo "$body" | grep -E '^(not ok|ok .*# SKIP)' | sed 's/^/      /' | head -n 40 || true
	pass=$((pass + tp)); skip=$((skip + ts))
	[ $((tf + te)) -eq 0 ] || { failn=$((failn + tf + te)); failed_names+=("$s: $tf failed, $te errors"); }
done

# The kernel log as a whole.
if "$TOP/scripts/scan-log.sh" "$LOG" >/dev/null; then
	result pass "kernel log clean"
	echo "  kernel log: no oops, BUG, WARNING, KASAN, lockdep or kmemleak report"
else
	"$TOP/scripts/scan-log.sh" "$LOG" | sed 's/^/  /' || true
	result fail "kernel log"
fi
if [ "$vmrc" != 0 ] && [ "$vmrc" != 1 ]; then
	result fail "VM exit status $vmrc"
fi

phase "done"
{
	echo "base: Linux $(make -s -C "$TREE" kernelversion), Debian $LINUX_SOURCE_PACKAGE $ver"
	echo "series: $npatch patches; build: $FLAVOR; accelerator: $(cat "$OUT/accel" 2>/dev/null)"
	[ ${#failed_names[@]} -eq 0 ] || printf 'failed: %s\n' "${failed_names[@]}"
	line="$pass passed, $failn failed"
	[ "$skip" -eq 0 ] || line="$line, $skip skipped"
	echo "$line"
} | tee "$LOGS/$FLAVOR/report.txt"
[ "$failn" -eq 0 ]
