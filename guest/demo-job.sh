# shellcheck shell=sh
# Job run inside the VM by `make run`: the dummy device demo.
# shellcheck source=functions.sh
. /etc/functions.sh
echo "loading the dummy HMM driver (test_hmm): 2 device-private + 2 device-coherent devices"
load_test_hmm || exit 1
ls /dev/hmm_dmirror*
hmm-demo
rc=$?
unload_test_hmm || { echo "rmmod test_hmm failed"; rc=1; }
exit $rc
