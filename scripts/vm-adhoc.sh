#!/bin/bash
# make vm CMD='...' FILES='a b': boot the test kernel, run CMD with FILES in /tmp.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
[ -n "${CMD:-}" ] || die "usage: make vm CMD='command' [FILES='file ...'] [DEBUG=1]"
[ -f "$BUILD/arch/x86/boot/bzImage" ] || "$TOP/scripts/build.sh"
rc=0
"$TOP/scripts/vm.sh" -n adhoc -t "${VM_TIMEOUT:-600}" -f "${FILES:-}" -- "$CMD" || rc=$?
R=$LOGS/$FLAVOR
grep -v '^HMM-GUEST: run ' "$R/vm-adhoc.out" 2>/dev/null || true
HMM_REPORTED=1
echo "exit status: $rc ($(cat "$R/vm-adhoc.status" 2>/dev/null || echo "no status")); console log: out/logs/$FLAVOR/vm-adhoc.log"
exit $rc
