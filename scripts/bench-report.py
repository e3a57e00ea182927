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

The BENCHSTAT lines (the series' driver only) are what HMM counted for
the mirror during each path (/sys/kernel/debug/hmm/stats): the last table
says, at the largest size, how many update() calls, device faults and
CPU faults a path made, how many pages moved, and which share of its time
went to update(), to device faults and to the copy callbacks. The
latencies are also printed round by round, with the ratio of each
driver's fastest round.

Fails (exit 1) when the output is incomplete: a driver, a round or a
figure missing, a path without its counters, or a line it cannot read.
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
              "cpu-fault", "migrate-sys", "munmap", "munmap-trip",
              "munmap-plain")
TITLES = {
    "read-first": "device read, first touch (device faults)",
    "read-again": "device read again",
    "write": "device write, first touch",
    "migrate-dev": "migrate to device (with read-back)",
    "cpu-fault": "CPU faults back from the device",
    "migrate-sys": "migrate back to system (driver request)",
    "munmap": "munmap of the mirrored buffer",
    "munmap-trip": "munmap, mirrored, after a round trip",
    "munmap-plain": "munmap, not mirrored (control)",
    "huge-after": "THP regions after a round trip (driver)",
    "memcpy": "memcpy (control: no driver)",
}


COUNTERS = ("updates", "update_ns", "faults", "fault_pages", "fault_retries",
            "fault_ns", "to_device", "to_device_ns", "from_device",
            "from_device_ns", "cpu_faults", "copy_errors")


def parse_stat(line, counters):
    w = line.split()
    if len(w) != 8 or w[1] != "series" or w[6] not in COUNTERS:
        raise ValueError("unreadable line: %r" % line)
    _, _, rnd, what, backing, size, name, value = w
    counters[(what, backing, int(size))][name].append((int(rnd), int(value)))


def check_counters(data, counters, rounds):
    for key in data:
        what, backing, size, _ = key
        if what not in THROUGHPUT:
            continue
        by = counters.get((what, backing, size), {})
        for name in COUNTERS:
            got = sorted(r for r, _ in by.get(name, []))
            if got != list(range(1, rounds + 1)):
                raise ValueError("%s %s %s MiB: counter %s has rounds %s, not 1-%d"
                                 % (what, backing, size, name, got, rounds))


def parse(path, rounds, counters):
    data = collections.defaultdict(lambda: collections.defaultdict(list))
    config = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("BENCH-CONFIG"):
                config = line
                continue
            if line.startswith("BENCHSTAT "):
                parse_stat(line, counters)
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
    check_counters(data, counters, rounds)
    return data


def explain(data, counters):
    """Where the series' time went, at the largest size of each backing."""
    print("where ours spends its time, at the largest size (median of the "
          "rounds; HMM's counters, /sys/kernel/debug/hmm/stats):")
    print("%-44s %-4s %7s %8s %8s %6s %13s %7s %17s %7s %6s" % (
        "path", "", "size", "time", "update()", "in it", "device faults",
        "in them", "pages to/from dev", "copying", "CPU f."))
    for backing in ("4K", "THP"):
        sizes = [k[2] for k in data if k[1] == backing and k[0] in THROUGHPUT]
        if not sizes:
            continue
        size = max(sizes)
        for what in THROUGHPUT:
            key = next((k for k in data if k[:3] == (what, backing, size)),
                       None)
            if key is None:
                continue
            med = stats(data[key]["series"])[0]
            secs = size / med if med else 0
            c = {n: statistics.median(v for _, v in vals)
                 for n, vals in counters[(what, backing, size)].items()}

            def share(ns):
                return "%.0f%%" % (ns / 1e9 / secs * 100) if secs else "-"
            print("%-44s %-4s %3d MiB %6.0fms %8d %6s %7d (%3d) %7s %8d/%-8d %7s %6d" % (
                TITLES[what], backing, size, secs * 1e3,
                c["updates"], share(c["update_ns"]), c["faults"],
                c["fault_retries"], share(c["fault_ns"]), c["to_device"],
                c["from_device"],
                share(c["to_device_ns"] + c["from_device_ns"]),
                c["cpu_faults"]))
    print("(time: the path's median; \"in it\", \"in them\", \"copying\": "
          "shares of that time spent in update(), in device faults (which "
          "include their update() calls) and in the copy callbacks)")


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
    if unit == "%":
        return "%.0f%%" % value
    return "%.0f MiB/s" % value


def table(data):
    keys = sorted(data, key=lambda k: (
        k[0] != "memcpy", k[0] in ("fault-lat", "cpu-lat", "table"),
        (THROUGHPUT + ("huge-after", "memcpy", "fault-lat", "cpu-lat",
                       "table")).index(k[0]),
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
            ratio = "%.2f" % (um / sm if sm else 0)
            label = "2 MiB" if backing == "THP" else "4 KiB"
        elif unit == "%":
            ratio = "-"
            label = "%d MiB" % size
        else:
            ratio = "%.2f" % (sm / um if um else 0)
            label = "%d MiB" % size
        print("%-44s %-4s %6s  %-22s %-22s %s" % (
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


def munmap_cost(data):
    """munmap after a round trip against a fresh unmirrored munmap."""
    for backing in ("4K", "THP"):
        sizes = [k[2] for k in data
                 if k[:2] == ("munmap-trip", backing)
                 and ("munmap-plain", backing, k[2], k[3]) in data]
        if not sizes:
            continue
        size = max(sizes)
        trip = data[("munmap-trip", backing, size, "MiB/s")]
        plain = data[("munmap-plain", backing, size, "MiB/s")]
        cost = []
        for drv in DRIVERS:
            t, p = stats(trip[drv])[0], stats(plain[drv])[0]
            cost.append("%s %.2fx" % ("ours" if drv == "series" else
                                      "upstream's", p / t if t else 0))
        print("munmap of a mirrored %s buffer after a round trip, against "
              "an unmirrored fresh one (%d MiB, time ratio): %s"
              % (backing, size, ", ".join(cost)))


def latency_rounds(data):
    """The latencies round by round. The VM's speed changes within a boot
    (under TCG by a factor of two or three, for a while), and the median of
    a few rounds can land on a slow round for one driver and a fast one for
    the other: the fastest round of each is the fairer comparison then."""
    names = {"fault-lat": "one device fault (latency)",
             "cpu-lat": "one CPU fault back (latency)"}
    for key in sorted(k for k in data if k[0] in names):
        what, backing, _, unit = key
        per = {drv: [v for _, v in sorted(data[key][drv])] for drv in DRIVERS}
        best = {drv: min(per[drv]) for drv in DRIVERS}
        print("%s %s, per round: ours %s %s, upstream's %s %s; fastest "
              "rounds: upstream/ours %.2f"
              % (names[what], backing,
                 ", ".join("%.1f" % v for v in per["series"]), unit,
                 ", ".join("%.1f" % v for v in per["upstream"]), unit,
                 best["upstream"] / best["series"] if best["series"] else 0))


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
    counters = collections.defaultdict(lambda: collections.defaultdict(list))
    try:
        data = parse(a.output, a.rounds, counters)
    except (OSError, ValueError) as e:
        print("bench-report: %s" % e)
        return 1
    print("median of %d rounds per driver, drivers in turns in one boot; "
          "spread: +-half of (max - min) / median" % a.rounds)
    print()
    table(data)
    print()
    munmap_cost(data)
    print()
    latency_rounds(data)
    print()
    drift(data)
    print()
    explain(data, counters)
    if a.plots and not plots(data, a.plots):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
