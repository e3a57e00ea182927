#!/bin/bash
# make bench: build, boot, run tools/hmm-bench.c in one VM boot and print it.
. "$(dirname "$0")/common.sh"

"$TOP/scripts/deps.sh"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build.sh"
rc=0
"$TOP/scripts/vm.sh" -n bench -t 900 -s "$TOP/guest/bench-job.sh" || rc=$?
LOG=$LOGS/$FLAVOR/vm-bench.log
grep -vE '^\[ *[0-9]+\.[0-9]+\]|^HMM-GUEST' "$LOG" | sed -n '/hmm-bench/,$p'
echo "(Linux $(make -s -C "$TREE" kernelversion), $(git -C "$TREE" rev-list --count base..HEAD) patches, $(cat "$OUT/accel") accelerator; console log: ${LOG#$TOP/})"
exit $rc
