# shellcheck shell=sh
# Job run inside the VM by `make bench`.
# shellcheck source=functions.sh
. /etc/functions.sh
load_test_hmm || exit 1
thp_mode madvise
hmm-bench
