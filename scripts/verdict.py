#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn one VM boot into test results, failing closed.

  verdict.py scan CONSOLE [--warnings FILE]
      Exit 1, naming the first bad line, if the kernel console log shows an
      oops, BUG, WARNING, KASAN/UBSAN report, lockdep splat, hung task, soft
      lockup, RCU stall, kmemleak report or panic, or if an expected-warning
      bracket is broken (see below).

  verdict.py check --run-id ID --console LOG --output OUT --status STATUS
                   --suites FILE --warnings FILE --kunit-py PATH
                   --results FILE [--flavor NAME]
      Everything `make check` learns from its VM boot. Appends one line per
      result ("pass NAME", "fail NAME", "skip NAME") to --results and prints
      what it found. Exit 0 when every result passed.

What counts as a failure (nothing here can pass by default):
  - the console or the job output is not from this run (no "run ID" line);
  - the VM status written by scripts/vm.sh is missing or not "ok";
  - a job-level failure printed by the guest ("HMM-JOB-FAIL: ...");
  - a declared selftest suite that did not start, did not end, exited
    non-zero, was stopped by the guest's watchdog, printed no totals or
    totals that do not parse, or whose totals disagree with its plan and
    its result lines; an undeclared suite in the output;
  - a declared KUnit suite missing from kunit.py's results, any KUnit case
    that did not pass, parser errors, or a non-zero kunit.py exit status;
  - anything the scan above reports.

Expected warnings: a test that provokes a kernel warning on purpose writes
"HMM-EXPECT-WARN-BEGIN: ID" and "HMM-EXPECT-WARN-END: ID" to /dev/kmsg.
ID must be declared in guest/expected-warnings with the exact count, the
source file that warns and the exact message. Inside the bracket exactly COUNT
such warnings must occur and nothing else; a bracket must close before the
suite ends (run_suite writes HMM-SUITE-END to /dev/kmsg) or the log ends.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

TS = re.compile(r'^\[\s*\d+\.\d+\]\s?')
BAD = re.compile(
    r'Oops|BUG:|kernel BUG at|WARNING:|general protection fault|'
    r'Kernel panic|KASAN:|UBSAN:|KFENCE:|possible circular locking|'
    r'possible recursive locking|inconsistent lock state|'
    r'suspicious RCU usage|lock held when returning|'
    r'unreferenced object 0x|INFO: task .* blocked for more than|'
    r'detected stalls? on CPU|self-detected stall|rcu_.*kthread starved|'
    r'soft lockup|hard LOCKUP|Call Trace:|RIP: |Bad page state|'
    r'page dumped because|list_(add|del) corruption|double fault|'
    r'stack-protector|HMM-CHECKER:')
# Lines of a warning's own report that BAD matches but that belong to it.
TRACE = re.compile(r'Call Trace:|RIP: ')
WARN_AT = re.compile(r'WARNING: CPU: \d+ PID: \d+ at (\S+):\d+ ')
CUT = '------------[ cut here ]------------'
END_TRACE = re.compile(r'---\[ end trace [0-9a-f]+ \]---')


# A kernel message the serial console printed inside a line of the guest's
# own (the kernel writes its records whole; user space's writes can be cut
# anywhere): a timestamped record that does not start a line.
KMSG_INSIDE = re.compile(r'(?<=[^\n])\[ *\d+\.\d+\] [^\n]*\n')


def untangle(lines):
    """The console's lines with kernel messages lifted out of the lines of
    the guest's own that they cut (the messages themselves are dropped: the
    kernel log scan reads the console as it is)."""
    text = '\n'.join(lines) + '\n'
    while True:
        new = KMSG_INSIDE.sub('', text)
        if new == text:
            return text.splitlines()
        text = new


def strip_ts(line):
    return TS.sub('', line.rstrip('\r\n'))


def read_lines(path):
    with open(path, 'r', errors='backslashreplace') as f:
        return f.read().splitlines()


def load_warnings(path):
    """id -> (count, source file, message) from guest/expected-warnings."""
    decl = {}
    if not path:
        return decl
    for n, line in enumerate(read_lines(path), 1):
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        parts = line.split(None, 3)
        if len(parts) != 4 or not parts[1].isdigit():
            raise SystemExit('%s:%d: want "ID COUNT FILE MESSAGE"' %
                             (path, n))
        decl[parts[0]] = (int(parts[1]), parts[2], parts[3].strip())
    return decl


def scan(lines, decl):
    """Problems in a console log (list of str), and accepted warnings."""
    problems = []
    accepted = 0
    bracket = None          # [id, seen, line number]
    message = None          # lines since "cut here", or None
    in_warning = 0          # line number of an accepted WARNING, or 0

    def bad(n, what):
        problems.append('line %d: %s' % (n, what))

    def close(n, why):
        nonlocal bracket
        if bracket:
            bad(n, 'expected-warning bracket %s (opened at line %d) %s' %
                (bracket[0], bracket[2], why))
            bracket = None

    for n, raw in enumerate(lines, 1):
        line = strip_ts(raw)
        if in_warning:
            if END_TRACE.search(line):
                in_warning = 0
                continue
            if n - in_warning > 400:
                bad(in_warning, 'accepted warning has no end-of-trace line')
                in_warning = 0
            elif TRACE.search(line) or not BAD.search(line):
                continue
        m = re.search(r'HMM-EXPECT-WARN-BEGIN: ?(\S*)', line)
        if m:
            close(n, 'was not closed before another one opened')
            if m.group(1) not in decl:
                bad(n, 'undeclared expected warning "%s" (declare it in '
                    'guest/expected-warnings)' % m.group(1))
            else:
                bracket = [m.group(1), 0, n]
            continue
        m = re.search(r'HMM-EXPECT-WARN-END: ?(\S*)', line)
        if m:
            if not bracket or bracket[0] != m.group(1):
                bad(n, 'expected-warning end "%s" without its begin' %
                    m.group(1))
                continue
            want = decl[bracket[0]][0]
            if bracket[1] != want:
                bad(n, 'expected warning %s: wanted exactly %d, saw %d' %
                    (bracket[0], want, bracket[1]))
            bracket = None
            continue
        if 'HMM-SUITE-END: ' in line:
            close(n, 'was still open when the suite ended')
            continue
        if line.endswith(CUT):
            message = []
            continue
        m = WARN_AT.search(line)
        if m and bracket:
            count, src, text = decl[bracket[0]]
            got = ' '.join(x.strip() for x in (message or []) if x.strip())
            if (m.group(1) == src or m.group(1).endswith('/' + src)) and \
                    got == text:
                bracket[1] += 1
                accepted += 1
                in_warning = n
                message = None
                continue
        if message is not None and not m and not BAD.search(line):
            message.append(line)
            if len(message) > 8:
                message = None
            continue
        message = None
        if BAD.search(line):
            bad(n, line.strip())
    if in_warning:
        bad(in_warning, 'accepted warning has no end-of-trace line')
    close(len(lines), 'was never closed')
    return problems, accepted


# ---------------------------------------------------------------- check

class Results:
    def __init__(self, path):
        self.f = open(path, 'a')
        self.failed = 0

    def add(self, kind, name):
        assert kind in ('pass', 'fail', 'skip')
        self.f.write('%s %s\n' % (kind, name))
        self.f.flush()
        if kind == 'fail':
            self.failed += 1


def load_suites(path):
    kunit, selftests = [], []
    for n, line in enumerate(read_lines(path), 1):
        f = line.split('#', 1)[0].split()
        if not f:
            continue
        if f[0] == 'kunit' and len(f) == 2:
            kunit.append(f[1])
        elif f[0] == 'selftest' and len(f) in (5, 6, 7) and f[4].isdigit() \
                and f[5:6] in ([], ['series'], ['upstream']) \
                and f[6:] in ([], ['no-khugepaged']):
            selftests.append(f[1])
        else:
            raise SystemExit('%s:%d: cannot parse "%s"' % (path, n, line))
    return kunit, selftests


TOTALS = re.compile(r'^# Totals: pass:(\d+) fail:(\d+) xfail:(\d+) '
                    r'xpass:(\d+) skip:(\d+) error:(\d+)$')
RESULT = re.compile(r'^(not ok|ok) (\d+) (\S.*?)(?: # (SKIP|XFAIL|XPASS|'
                    r'error)\b.*| # .*|)$')


def suite_blocks(out):
    """name -> dict(body=[lines], rc=str or None, timeout=bool, begins=int)"""
    blocks = {}
    cur = None
    for line in out:
        line = line.rstrip('\r')
        m = re.match(r'^HMM-SUITE-BEGIN: (\S+)$', line)
        if m:
            b = blocks.setdefault(m.group(1), dict(body=[], rc=None,
                                                   timeout=False, begins=0))
            b['begins'] += 1
            cur = b
            continue
        m = re.match(r'^HMM-SUITE-END: (\S+) rc=(\S+)$', line)
        if m:
            b = blocks.setdefault(m.group(1), dict(body=[], rc=None,
                                                   timeout=False, begins=0))
            b['rc'] = m.group(2)
            cur = None
            continue
        m = re.match(r'^HMM-SUITE-TIMEOUT: (\S+)', line)
        if m and m.group(1) in blocks:
            blocks[m.group(1)]['timeout'] = True
            continue
        if cur is not None:
            cur['body'].append(line)
    return blocks


def check_suite(name, b, res):
    """Count one kselftest suite; print a line; return nothing."""
    if b is None or b['begins'] == 0:
        print('  %s: FAILED: did not start' % name)
        res.add('fail', '%s: did not start' % name)
        return
    if b['begins'] > 1:
        print('  %s: FAILED: started %d times' % (name, b['begins']))
        res.add('fail', '%s: started more than once' % name)
        return
    if b['timeout']:
        print('  %s: FAILED: stopped by the guest watchdog (stacks in the '
              'console log)' % name)
        res.add('fail', '%s: did not finish in time' % name)
    if b['rc'] is None:
        print('  %s: FAILED: did not finish (no end marker)' % name)
        res.add('fail', '%s: did not finish' % name)
        return
    body = b['body']
    plan = [int(m.group(1)) for m in
            (re.match(r'^1\.\.(\d+)$', x) for x in body) if m]
    tots = [x for x in body if x.startswith('# Totals:')]
    results = [m for m in (RESULT.match(x) for x in body) if m]
    problems = []
    if len(tots) != 1 or not TOTALS.match(tots[0]):
        problems.append('totals missing or unparsable: %r' %
                        (tots[-1] if tots else None))
        t = None
    else:
        t = [int(x) for x in TOTALS.match(tots[0]).groups()]
    if len(plan) != 1:
        problems.append('%d plan lines (want 1)' % len(plan))
    npass = nfail = nskip = 0
    for m in results:
        ok, num, tname, directive = m.groups()
        full = '%s: %s' % (name, tname)
        if ok == 'ok' and directive in (None, 'XFAIL'):
            npass += 1
            res.add('pass', full)
        elif ok == 'ok' and directive == 'SKIP':
            nskip += 1
            res.add('skip', full)
        else:
            nfail += 1
            res.add('fail', full)
            print('      not ok: %s%s' % (tname,
                                         ' (%s)' % directive if directive
                                         else ''))
    if plan and len(results) != plan[0]:
        problems.append('%d result lines for a plan of %d' %
                        (len(results), plan[0]))
    if t is not None:
        tp, tf, txf, txp, ts, te = t
        if (tp + txf, tf + txp + te, ts) != (npass, nfail, nskip):
            problems.append('totals (pass %d, fail %d, skip %d) disagree '
                            'with the result lines (%d, %d, %d)' %
                            (tp + txf, tf + txp + te, ts, npass, nfail,
                             nskip))
    if b['rc'] != '0':
        problems.append('exit status %s' % b['rc'])
    if not results:
        problems.append('no test results')
    print('  %s: %d passed, %d failed, %d skipped%s' %
          (name, npass, nfail, nskip,
           ''.join('; FAILED: ' + p for p in problems)))
    for p in problems:
        res.add('fail', '%s: %s' % (name, p))


# The KTAP lines of a console log: headers, plans, results, diagnostics
# (after the printk timestamp). Other CPUs' messages can land between
# them (an input device probed during boot printed between a suite's
# "KTAP version 1" and its "# Subtest:", and kunit.py took that for a
# crashed, nameless suite); the kernel log check looks at those lines.
KTAP_LINE = re.compile(r'^(\[[ 0-9.]+\] )?\s*(KTAP version \d+|TAP version \d+|'
                       r'1\.\.\d+|(not )?ok \d+|# )')


def ktap_only(console, out):
    with open(console, errors='replace') as f, open(out, 'w') as o:
        for line in f:
            if KTAP_LINE.match(line):
                o.write(line)


def check_kunit(declared, console, kunit_py, res, tmpdir):
    if not declared:
        return
    js = os.path.join(tmpdir, 'kunit.json')
    ktap = os.path.join(tmpdir, 'kunit.console')
    ktap_only(console, ktap)
    # kunit.py changes to the kernel tree: absolute paths only.
    p = subprocess.run([sys.executable, kunit_py, 'parse',
                        '--json=' + os.path.abspath(js),
                        os.path.abspath(ktap)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    summary = [x for x in p.stdout.splitlines() if 'Testing complete.' in x]
    try:
        with open(js) as f:
            root = json.load(f)
    except (OSError, ValueError) as e:
        print('  KUnit: FAILED: kunit.py produced no results (%s)' % e)
        res.add('fail', 'KUnit: no results')
        return
    suites = {}

    def walk(group):
        for g in group.get('sub_groups', []):
            walk(g)
        if group.get('test_cases'):
            suites[group['name']] = group['test_cases']
    walk(root)
    counts = dict(PASS=0, SKIP=0)
    bad = 0
    for name in declared:
        cases = suites.get(name)
        if not cases:
            print('  KUnit: FAILED: suite %s did not run' % name)
            res.add('fail', 'KUnit: suite %s did not run' % name)
            bad += 1
            continue
        for c in cases:
            st = c['status']
            full = 'KUnit: %s.%s' % (name, c['name'])
            if st == 'PASS':
                res.add('pass', full)
            elif st == 'SKIP':
                res.add('skip', full)
            else:
                print('      %s: %s' % (full, st))
                res.add('fail', full)
                bad += 1
            counts[st] = counts.get(st, 0) + 1
    for name in sorted(set(suites) - set(declared)):
        print('  KUnit: FAILED: undeclared suite %s (declare it in '
              'guest/suites)' % name)
        res.add('fail', 'KUnit: undeclared suite %s' % name)
        bad += 1
    errors = 0
    m = re.search(r'errors: (\d+)', summary[-1]) if summary else None
    if m:
        errors = int(m.group(1))
    if errors:
        res.add('fail', 'KUnit: %d parser errors' % errors)
        bad += 1
    if p.returncode != 0 and not bad:
        res.add('fail', 'KUnit: kunit.py parse exited %d' % p.returncode)
    print('  KUnit: %s; %d suites, %d passed, %d skipped, %d other%s' %
          (summary[-1].split('Testing complete. ')[-1] if summary
           else 'no summary', len(declared), counts['PASS'], counts['SKIP'],
           sum(v for k, v in counts.items() if k not in ('PASS', 'SKIP')),
           ', kunit.py exit %d' % p.returncode if p.returncode else ''))


def cmd_check(a):
    res = Results(a.results)
    kunit, selftests = load_suites(a.suites)
    decl = load_warnings(a.warnings)
    tag = 'HMM-GUEST: run %s' % a.run_id
    # 1. Is this run's VM what we are looking at?
    status = None
    if os.path.exists(a.status):
        status = (read_lines(a.status) or [''])[0].strip()
    console = read_lines(a.console) if os.path.exists(a.console) else []
    output = read_lines(a.output) if os.path.exists(a.output) else []
    if not any(tag in strip_ts(x) for x in untangle(console)):
        print('  VM: FAILED: the console log is not from this run (no "%s")'
              % tag)
        res.add('fail', 'VM: no console log from this run')
        console = []
    if not any(x.rstrip('\r') == tag for x in output):
        print('  VM: FAILED: the job output is not from this run')
        res.add('fail', 'VM: no job output from this run')
        output = []
    if status != 'ok':
        print('  VM: FAILED: %s' % (status or 'vm.sh wrote no status'))
        res.add('fail', 'VM: %s' % (status or 'no status'))
    else:
        res.add('pass', 'VM: booted, job finished, exit status 0')
    for x in output:
        if x.startswith('HMM-JOB-FAIL: '):
            print('  job: FAILED: %s' % x[len('HMM-JOB-FAIL: '):])
            res.add('fail', 'job: %s' % x[len('HMM-JOB-FAIL: '):])
        elif 'unreferenced object 0x' in x:
            print('  job: FAILED: kmemleak: %s' % x.strip())
            res.add('fail', 'kmemleak: %s' % x.strip())
    # 2. KUnit, through the in-tree parser.
    with tempfile.TemporaryDirectory() as tmp:
        if console:
            check_kunit(kunit, a.console, a.kunit_py, res, tmp)
        elif kunit:
            res.add('fail', 'KUnit: no console log')
    # 3. The declared selftest suites.
    blocks = suite_blocks(output)
    for name in selftests:
        check_suite(name, blocks.get(name), res)
    for name in sorted(set(blocks) - set(selftests)):
        print('  %s: FAILED: not declared in guest/suites' % name)
        res.add('fail', '%s: undeclared suite' % name)
    # 4. The kernel log as a whole.
    problems, accepted = scan(console, decl) if console else (['no log'], 0)
    if problems:
        print('  kernel log: FAILED: %s' % problems[0])
        for p in problems[1:5]:
            print('              %s' % p)
        res.add('fail', 'kernel log: %s' % problems[0])
    else:
        res.add('pass', 'kernel log clean')
        print('  kernel log: no oops, BUG, WARNING, KASAN, lockdep, hang, '
              'stall or kmemleak report (%d expected warning%s seen as '
              'declared)' % (accepted, '' if accepted == 1 else 's'))
    return 1 if res.failed else 0


def cmd_scan(a):
    problems, accepted = scan(read_lines(a.console),
                              load_warnings(a.warnings))
    if problems:
        print('KERNEL FAILURE in %s, %s' % (a.console, problems[0]))
        for p in problems[1:5]:
            print('    %s' % p)
        return 1
    if accepted:
        print('scan: %d expected warning(s) seen as declared' % accepted)
    return 0


def cmd_untangle(a):
    for line in untangle(read_lines(a.console)):
        print(line)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('scan')
    s.add_argument('console')
    s.add_argument('--warnings')
    u = sub.add_parser('untangle')
    u.add_argument('console')
    c = sub.add_parser('check')
    for opt in ('run-id', 'console', 'output', 'status', 'suites',
                'warnings', 'kunit-py', 'results'):
        c.add_argument('--' + opt, required=True)
    a = ap.parse_args()
    if a.cmd == 'untangle':
        return cmd_untangle(a)
    return cmd_scan(a) if a.cmd == 'scan' else cmd_check(a)


if __name__ == '__main__':
    sys.exit(main())
