#!/bin/bash
# make run: obtain the pinned source, apply the series, build, boot QEMU and
# run the dummy-device demo, printing what happened.
. "$(dirname "$0")/common.sh"

"$TOP/scripts/deps.sh"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build.sh"
rc=0
"$TOP/scripts/vm.sh" -n run -t 600 -s "$TOP/guest/demo-job.sh" || rc=$?
LOG=$LOGS/$FLAVOR/vm-run.log
phase "what the VM printed (kernel messages left out; full log: ${LOG#$TOP/}):"
grep -vE '^\[ *[0-9]+\.[0-9]+\]|^HMM-GUEST-EXIT' "$LOG" | sed -n '/HMM-GUEST: booted/,$p' | sed 's/^/  | /'
if [ "$rc" = 0 ]; then
	echo "SUCCESS: the demo ran and every step checked out (Linux $(make -s -C "$TREE" kernelversion), $(git -C "$TREE" rev-list --count base..HEAD) patches)"
else
	echo "FAILURE: the demo or the kernel reported a problem (exit $rc; see above and $LOG)"
fi
exit $rc
