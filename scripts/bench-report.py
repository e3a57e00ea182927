#!/usr/bin/env python3
"""make bench: the BENCH lines of tools/hmm-bench.c, side by side.

    bench-report.py --rounds N [--plots DIR] JOB-OUTPUT

For every path, backing and size: the median over the rounds for the
series' driver and for upstream's, the spread of each ((max - min) /
median), and the ratio ours/upstream (for latencies upstream/ours, so that
above 1 means ours is faster either way). The memcpy control touches
neither driver: its spread, and the ratio between the rounds run beside
each driver, show how much the VM itself drifted, i.e. which ratios mean
nothing. With --plots, gnuplot draws throughput against size for both
drivers, one SVG per path, into DIR.

Fails (exit 1) when the output is incomplete: a driver, a round or a
figure missing, or a line it cannot read.
"""
import argparse
import collections
import os
import shutil
import statistics
import subprocess
import sys

DRIVERS = ("series", "upstream")
THROUGHPUT = ("read-first", "read-again", "write", "migrate-dev",
              "cpu-fault", "migrate-sys", "munmap")
TITLES = {
    "read-first": "device read, first touch (device faults)",
    "read-again": "device read again",
    "write": "device write, first touch",
    "migrate-dev": "migrate to device (with read-back)",
    "cpu-fault": "CPU faults back from the device",
    "migrate-sys": "migrate back to system (driver request)",
    "munmap": "munmap of the mirrored buffer",
    "memcpy": "memcpy (control: no driver)",
}


def parse(path, rounds):
    data = collections.defaultdict(lambda: collections.defaultdict(list))
    config = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("BENCH-CONFIG"):
                config = line
                continue
            if not line.startswith("BENCH "):
                continue
            w = line.split()
            if len(w) != 8 or w[1] not in DRIVERS:
                raise ValueError("unreadable line: %r" % line)
            _, drv, rnd, what, backing, size, value, unit = w
            data[(what, backing, int(size), unit)][drv].append(
                (int(rnd), float(value)))
    if config is None:
        raise ValueError("no BENCH-CONFIG line: the job did not run")
    if not data:
        raise ValueError("no BENCH lines")
    for key, by in data.items():
        for drv in DRIVERS:
            if key[0] == "table" and drv == "upstream":
                continue
            got = sorted(r for r, _ in by.get(drv, []))
            if got != list(range(1, rounds + 1)):
                raise ValueError("%s %s %s MiB: %s driver has rounds %s, not 1-%d"
                                 % (key[0], key[1], key[2], drv, got, rounds))
    return data


def stats(values):
    v = [x for _, x in values]
    med = statistics.median(v)
    spread = (max(v) - min(v)) / med * 100 if med else 0.0
    return med, spread


def fmt(value, unit):
    if unit == "us":
        return "%.1f us" % value
    if unit == "KiB":
        return "%.0f KiB" % value
    return "%.0f MiB/s" % value


def table(data):
    keys = sorted(data, key=lambda k: (
        k[0] != "memcpy", k[0] in ("fault-lat", "cpu-lat", "table"),
        (THROUGHPUT + ("memcpy", "fault-lat", "cpu-lat", "table")).index(k[0]),
        k[1] != "4K", k[2]))
    print("%-44s %-4s %6s  %-22s %-22s %s" % (
        "path", "", "size", "ours (median, spread)",
        "upstream (median, spread)", "ours/upstream"))
    last = None
    for key in keys:
        what, backing, size, unit = key
        if what == "table":
            continue
        if what != last:
            print()
            last = what
        title = TITLES.get(what, {
            "fault-lat": "one device fault (latency)",
            "cpu-lat": "one CPU fault back (latency)"}.get(what, what))
        s = data[key]["series"]
        u = data[key]["upstream"]
        sm, ss = stats(s)
        um, us = stats(u)
        if unit == "us":
            ratio = um / sm if sm else 0
            label = "2 MiB" if backing == "THP" else "4 KiB"
        else:
            ratio = sm / um if um else 0
            label = "%d MiB" % size
        print("%-44s %-4s %6s  %-22s %-22s %.2f" % (
            title, backing, label,
            "%s +-%.0f%%" % (fmt(sm, unit), ss / 2),
            "%s +-%.0f%%" % (fmt(um, unit), us / 2), ratio))
    print()
    for key in keys:
        if key[0] != "table":
            continue
        med, _ = stats(data[key]["series"])
        print("mirror table after a device read of %d MiB, %s pages: %.0f KiB "
              "(upstream's driver keeps an xarray of its own; not measured)"
              % (key[2], key[1], med))


def drift(data):
    """memcpy beside each driver, all sizes: how far the VM moved."""
    per = {}
    spreads = []
    for key, by in data.items():
        if key[0] != "memcpy":
            continue
        for drv in DRIVERS:
            per.setdefault(drv, []).append(stats(by[drv])[0])
            spreads.append(stats(by[drv])[1])
    if not per:
        return
    ratio = statistics.median(
        s / u for s, u in zip(per["series"], per["upstream"]) if u)
    print("control: memcpy beside ours / beside upstream's: %.2f; its spread "
          "within a driver's rounds: up to +-%.0f%%. Ratios closer to 1 than "
          "that are noise." % (ratio, max(spreads) / 2))


def plots(data, outdir):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("no gnuplot (Debian package gnuplot-nox): no plots")
        return True
    os.makedirs(outdir, exist_ok=True)
    ok = True
    for what in THROUGHPUT + ("memcpy",):
        series = []
        for backing in ("4K", "THP"):
            for drv in DRIVERS:
                pts = sorted((k[2], stats(by[drv])[0]) for k, by in data.items()
                             if k[0] == what and k[1] == backing)
                if pts:
                    series.append(("%s, %s pages" % (
                        "ours" if drv == "series" else "upstream", backing), pts))
        if not series:
            continue
        dat = os.path.join(outdir, what + ".dat")
        with open(dat, "w") as f:
            for name, pts in series:
                f.write("# %s\n" % name)
                for x, y in pts:
                    f.write("%d %.3f\n" % (x, y))
                f.write("\n\n")
        svg = os.path.join(outdir, what + ".svg")
        script = [
            "set terminal svg size 800,500 dynamic",
            "set output '%s'" % svg,
            "set title '%s (median of the rounds)'" % TITLES[what],
            "set xlabel 'buffer size (MiB)'",
            "set ylabel 'MiB/s'",
            "set logscale x 2",
            "set key outside right",
            "set grid",
            "plot " + ", ".join(
                "'%s' index %d with linespoints title '%s'" % (dat, i, name)
                for i, (name, _) in enumerate(series)),
        ]
        r = subprocess.run([gnuplot], input="\n".join(script) + "\n",
                           text=True, capture_output=True)
        if r.returncode or not os.path.getsize(svg):
            print("gnuplot failed for %s: %s" % (what, r.stderr.strip()))
            ok = False
    if ok:
        print("plots: %s/*.svg (throughput against size, both drivers)"
              % os.path.relpath(outdir))
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--plots")
    ap.add_argument("output")
    a = ap.parse_args()
    try:
        data = parse(a.output, a.rounds)
    except (OSError, ValueError) as e:
        print("bench-report: %s" % e)
        return 1
    print("median of %d rounds per driver, drivers in turns in one boot; "
          "spread: +-half of (max - min) / median" % a.rounds)
    print()
    table(data)
    print()
    drift(data)
    if a.plots and not plots(data, a.plots):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
