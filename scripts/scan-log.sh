#!/bin/bash
# scan-log.sh LOG: fail (exit 1) if a kernel console log shows an oops, BUG,
# WARNING, KASAN/UBSAN report, lockdep splat, kmemleak report, hung task or
# panic, naming the first such line. A WARNING inside a region opened by
# "HMM-EXPECT-WARN-BEGIN: <regex>" and closed by "HMM-EXPECT-WARN-END" is
# accepted when its line matches <regex> (tests that provoke a warning on
# purpose); anything else there still fails.
log=$1
awk '
BEGIN { bad = 0 }
/HMM-EXPECT-WARN-BEGIN: / { sub(/.*HMM-EXPECT-WARN-BEGIN: /, ""); expect = $0; inexp = 1; next }
/HMM-EXPECT-WARN-END/ { inexp = 0; expect = ""; next }
inwarn { if ($0 ~ /---\[ end trace/) inwarn = 0; next }
/WARNING: CPU: [0-9]+ PID: [0-9]+ at / && inexp && $0 ~ expect { expected++; inwarn = 1; next }
/Oops|BUG:|kernel BUG at|WARNING:|general protection fault|Kernel panic|KASAN:|UBSAN:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|unreferenced object 0x|INFO: task .* blocked|Call Trace:|RIP: / {
	if (!bad) { first = $0; firstno = NR }
	bad++
}
END {
	if (expected) printf "scan-log: %d expected warning(s) accepted\n", expected
	if (bad) {
		printf "KERNEL FAILURE in %s, line %d:\n    %s\n", FILENAME, firstno, first
		exit 1
	}
}' "$log"
