#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Prove that the harness self-tests bite: remove each guard of the harness
once, in a scratch copy of the project, and check that the self-test written
for that guard fails.

  tests/harness/mutations.py [--only SUBSTRING] [--keep]

Each mutation is (file, old text, new text, bats file, test name). The old
text must occur exactly once in the file (so a mutation never silently
stops applying after an edit); the named test must pass on the unmodified
copy and fail on the mutated one. Prints one line per mutation and exits 1
if any mutation survived or could not be applied. Takes a few minutes; not
part of `make check`.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

V = 'scripts/verdict.py'
C = 'tests/harness/check.bats'
M = 'tests/harness/make.bats'

MUTATIONS = [
    # verdict.py: is this run's VM what we look at?
    (V, "res.add('fail', 'VM: no console log from this run')",
        "res.add('pass', 'VM: no console log from this run')",
        C, 'a stale console log from an earlier run is not read'),
    (V, "res.add('fail', 'VM: %s' % (status or 'no status'))",
        "res.add('pass', 'VM: %s' % (status or 'no status'))",
        C, 'a VM that never boots is a failure'),
    (V, "res.add('fail', 'job: %s' % x[len('HMM-JOB-FAIL: '):])",
        "res.add('pass', 'job: %s' % x[len('HMM-JOB-FAIL: '):])",
        C, 'a job that fails after the suites is a failure'),
    (V, "res.add('fail', 'kmemleak: %s' % x.strip())",
        "res.add('pass', 'kmemleak: %s' % x.strip())",
        C, 'a kmemleak report in the job output is a failure'),
    # verdict.py: selftest suites
    (V, "res.add('fail', '%s: did not start' % name)",
        "res.add('pass', '%s: did not start' % name)",
        C, 'a declared suite that never ran is a failure'),
    (V, "res.add('fail', '%s: did not finish in time' % name)",
        "res.add('pass', '%s: did not finish in time' % name)",
        C, 'a suite stopped by the guest watchdog is a failure'),
    (V, "problems.append('totals missing or unparsable: %r' %",
        "(lambda *x: None)('totals missing or unparsable: %r' %",
        C, 'garbled totals are a failure'),
    (V, "if (tp + txf, tf + txp + te, ts) != (npass, nfail, nskip):",
        "if False:",
        C, 'totals that disagree with the result lines are a failure'),
    (V, "if plan and len(results) != plan[0]:",
        "if False:",
        C, 'fewer result lines than the plan are a failure'),
    (V, "if b['rc'] != '0':",
        "if False:",
        C, 'a suite that crashes after printing good totals is a failure'),
    (V, "res.add('fail', '%s: undeclared suite' % name)",
        "res.add('pass', '%s: undeclared suite' % name)",
        C, 'an undeclared suite is a failure'),
    # verdict.py: KUnit
    (V, "res.add('fail', 'KUnit: suite %s did not run' % name)",
        "res.add('pass', 'KUnit: suite %s did not run' % name)",
        C, 'a declared KUnit suite that did not run is a failure'),
    (V, "if st == 'PASS':",
        "if st in ('PASS', 'FAIL'):",
        C, 'a failing KUnit case is a failure'),
    (V, "res.add('fail', 'KUnit: undeclared suite %s' % name)",
        "res.add('pass', 'KUnit: undeclared suite %s' % name)",
        C, 'a declared KUnit suite that did not run is a failure'),
    (V, "res.add('fail', 'KUnit: %d parser errors' % errors)",
        "res.add('pass', 'KUnit: %d parser errors' % errors)",
        C, 'a KUnit parser error is a failure'),
    # verdict.py: the kernel log and expected warnings
    (V, "if bracket[1] != want:",
        "if bracket[1] > want:",
        C, 'an expected warning that never comes is a failure'),
    (V, "if bracket[1] != want:",
        "if bracket[1] < want:",
        C, 'an expected warning that comes twice is a failure'),
    (V, "close(n, 'was still open when the suite ended')",
        "pass",
        C, 'an unclosed bracket is a failure'),
    (V, "(m.group(1) == src or m.group(1).endswith('/' + src)) and",
        "True and",
        C, 'the expected text warned from another file is a failure'),
    (V, "got == text:",
        "True:",
        C, 'a different warning inside the bracket is a failure'),
    (V, "elif TRACE.search(line) or not BAD.search(line):",
        "else:",
        C, "a BUG inside an accepted warning's trace is a failure"),
    (V, "bad(n, 'undeclared expected warning",
        "(lambda *x: None)(n, 'undeclared expected warning",
        C, 'an undeclared expected-warning bracket is a failure'),
    (V, "r'detected stalls? on CPU|self-detected stall|",
        "r'",
        C, 'a kernel report outside any bracket is a failure'),
    (V, "r'unreferenced object 0x|INFO: task .* blocked for more than|'",
        "r'unreferenced object 0x|'",
        C, 'a hung task is a failure'),
    # vm.sh: how a boot ended
    ('scripts/vm.sh', 'grep -q "HMM-GUEST: run $run_id\\$" "$LOG" ||',
        'true ||',
        C, 'a VM that never boots is a failure'),
    ('scripts/vm.sh', '[ "$qrc" != 124 ] || finish', 'false && finish',
        C, 'a VM that times out is a failure'),
    ('scripts/vm.sh', '[ "$rc" = 0 ] || finish', 'true || finish',
        C, 'a job that fails after the suites is a failure'),
    # check.sh: steps and early stops
    ('scripts/check.sh',
        'result fail "$name stopped with exit status $rc and recorded no result"',
        ':',
        C, 'a step that stops without recording a result is a failure'),
    ('scripts/check.sh',
        'result fail "make check stopped during',
        'result pass "make check stopped during',
        C, 'a failure before any test ran is a named failure'),
    ('scripts/check.sh',
        'result fail "kernel or test build',
        'result pass "kernel or test build',
        C, 'a build failure is a named failure and the summary is still the last line'),
    ('scripts/check.sh',
        'result fail "selftest program $prog is not declared in guest/suites"',
        ':',
        C, 'a selftest program that no suite runs is a failure'),
    # Makefile and the test program build
    ('Makefile', 'ifeq ($(origin DEBUG),command line)', 'ifneq ($(DEBUG),)',
        M, 'DEBUG in the environment does not change the flavor'),
    ('Makefile', "$(error DEBUG must be 0 or 1, not '$(DEBUG)')",
        'HMM_FLAVOR := default',
        M, 'a DEBUG value other than 0 or 1 is an error'),
    ('scripts/userprogs.sh', '[ "$dep" -nt "$out" ] && { stale=1; break; }',
        ':',
        M, 'a test program is rebuilt when a header it includes changes'),
    ('scripts/userprogs.sh',
        'if [ ! -x "$out" ] || [ ! -f "$out.d" ]',
        'if true || [ ! -f "$out.d" ]',
        M, 'an unchanged test program is not rebuilt'),
    ('scripts/userprogs.sh',
        '[ "$b" = MANIFEST ] || grep -qxF "$b" "$UBIN/MANIFEST" || rm -f "$f"',
        ':',
        M, 'a program no longer built leaves the VM\'s program list and the build'),
]


def bats(top, bfile, name):
    """True if the test passed."""
    env = dict(os.environ, HMM_REAL_TREE=os.path.join(REPO, 'out/linux'))
    p = subprocess.run(['bats', '-f', '^%s$' % escape(name),
                        os.path.join(top, bfile)], cwd=top, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if '1..0' in p.stdout:
        raise SystemExit('no test named "%s" in %s' % (name, bfile))
    return p.returncode == 0


def escape(s):
    return ''.join('\\' + c if c in '.^$*+?()[]{}|\\' else c for c in s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only')
    ap.add_argument('--keep', action='store_true')
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='hmm-mutations.')
    top = os.path.join(tmp, 'top')
    files = ['scripts', 'guest', 'config', 'tests', 'kernel.version',
             'Makefile']
    os.mkdir(top)
    for f in files:
        src = os.path.join(REPO, f)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(
            src, os.path.join(top, f))
    bad = n = 0
    for path, old, new, bfile, name in MUTATIONS:
        if a.only and a.only not in name and a.only not in path:
            continue
        n += 1
        fp = os.path.join(top, path)
        with open(fp) as f:
            orig = f.read()
        if orig.count(old) != 1:
            print('CANNOT APPLY  %s: %r occurs %d times' %
                  (path, old, orig.count(old)))
            bad += 1
            continue
        if not bats(top, bfile, name):
            print('BROKEN TEST   "%s" fails without any mutation' % name)
            bad += 1
            continue
        with open(fp, 'w') as f:
            f.write(orig.replace(old, new))
        try:
            survived = bats(top, bfile, name)
        finally:
            with open(fp, 'w') as f:
                f.write(orig)
        print('%-13s %s: %s -> "%s"' %
              ('SURVIVED' if survived else 'caught', path, old[:50], name))
        bad += survived
    print('%d mutations, %d caught, %d not' % (n, n - bad, bad))
    if not a.keep:
        shutil.rmtree(tmp)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
