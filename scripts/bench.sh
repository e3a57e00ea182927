#!/bin/bash
# make bench: build, boot, run tools/hmm-bench.c in one VM boot and print it.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

"$TOP/scripts/deps.sh"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build.sh"
rc=0
"$TOP/scripts/vm.sh" -n bench -t 900 -s "$TOP/guest/bench-job.sh" || rc=$?
R=$LOGS/$FLAVOR
sed -n '/hmm-bench/,$p' "$R/vm-bench.out" 2>/dev/null || true
HMM_REPORTED=1
echo "(Linux $(make -s -C "$TREE" kernelversion), $(git -C "$TREE" rev-list --count base..HEAD) patches, $(cat "$OUT/accel") accelerator; console log: out/logs/$FLAVOR/vm-bench.log)"
[ "$rc" = 0 ] || echo "FAILURE: $(cat "$R/vm-bench.status" 2>/dev/null || echo "the VM did not run"); see out/logs/$FLAVOR/vm-bench.log"
exit $rc
