#!/bin/bash
# make run: obtain the pinned source, apply the series, build, boot QEMU and
# run the dummy-device demo, printing what happened.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

"$TOP/scripts/deps.sh"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build.sh"
rc=0
"$TOP/scripts/vm.sh" -n run -t 600 -s "$TOP/guest/demo-job.sh" || rc=$?
R=$LOGS/$FLAVOR
phase "what the VM printed (kernel messages: out/logs/$FLAVOR/vm-run.log):"
grep -v '^HMM-GUEST: run ' "$R/vm-run.out" 2>/dev/null | sed 's/^/  | /' || true
HMM_REPORTED=1
if [ "$rc" = 0 ]; then
	echo "SUCCESS: the demo ran and every step checked out (Linux $(make -s -C "$TREE" kernelversion), $(git -C "$TREE" rev-list --count base..HEAD) patches)"
else
	echo "FAILURE: $(cat "$R/vm-run.status" 2>/dev/null || echo "the VM did not run"). Look at the steps marked FAIL above and at out/logs/$FLAVOR/vm-run.log; fix, then run make run again."
fi
exit $rc
