#!/bin/bash
# make vm CMD='...' FILES='a b': boot the test kernel, run CMD with FILES in /tmp.
. "$(dirname "$0")/common.sh"
[ -n "${CMD:-}" ] || die "usage: make vm CMD='command' [FILES='file ...'] [DEBUG=1]"
[ -f "$BUILD/arch/x86/boot/bzImage" ] || "$TOP/scripts/build.sh"
rc=0
"$TOP/scripts/vm.sh" -n adhoc -t "${VM_TIMEOUT:-600}" -f "${FILES:-}" -- "$CMD" || rc=$?
LOG=$LOGS/$FLAVOR/vm-adhoc.log
grep -vE '^\[ *[0-9]+\.[0-9]+\]|^HMM-GUEST-EXIT' "$LOG" | sed -n '/HMM-GUEST: booted/,$p'
echo "exit status: $rc (console log: $LOG)"
exit $rc
