# shellcheck shell=sh
# Job run inside the VM by `make check`: every selftest suite declared in
# guest/suites (KUnit has already run at boot), then module unload and,
# on the debug kernel, a kmemleak scan. The exit status is the number of
# job-level failures; each is also printed as "HMM-JOB-FAIL: ...".
# shellcheck source=functions.sh
. /etc/functions.sh
load_test_hmm || job_fail "cannot load test_hmm"
run_declared_suites /etc/hmm-suites
thp_mode madvise || job_fail "cannot set THP mode madvise"
unload_test_hmm || job_fail "rmmod test_hmm failed"
# test_hmm_upstream, if the last suites loaded it, stays (see use_driver).
kmemleak_check
exit "$HMM_JOB_FAILS"
