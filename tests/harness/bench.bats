#!/usr/bin/env bats
# Self-tests of `make bench`'s report (scripts/bench-report.py): a
# complete job output gives the table and the counters' explanation; any
# figure, round, driver or counter missing, or a line it cannot read, is
# a failure (exit 1), never a table with a gap.

REPORT="$BATS_TEST_DIRNAME/../../scripts/bench-report.py"

setup() {
	OUT=$(mktemp)
}

teardown() {
	rm -f "$OUT"
}

# A complete job output: 2 rounds, one size, both drivers, every path,
# and the series' counters for every throughput path.
write_output() {
	python3 - "$OUT" <<'EOF'
import sys
paths = ["read-first", "read-again", "write", "migrate-dev", "cpu-fault",
         "migrate-sys", "munmap", "munmap-trip", "munmap-plain", "memcpy"]
counters = ["updates", "update_ns", "faults", "fault_pages",
            "fault_retries", "fault_ns", "to_device", "to_device_ns",
            "from_device", "from_device_ns", "cpu_faults", "copy_errors"]
with open(sys.argv[1], "w") as f:
    f.write("BENCH-CONFIG rounds 2 sizes 8\n")
    for rnd in (1, 2):
        for drv in ("series", "upstream"):
            for bk in ("4K", "THP"):
                for p in paths:
                    f.write("BENCH %s %d %s %s 8 %d MiB/s\n"
                            % (drv, rnd, p, bk, 100 + rnd))
                    if drv == "series" and p != "memcpy":
                        for c in counters:
                            f.write("BENCHSTAT series %d %s %s 8 %s %d\n"
                                    % (rnd, p, bk, c, 1000))
                f.write("BENCH %s %d huge-after %s 8 %d %%\n"
                        % (drv, rnd, bk,
                           100 if bk == "THP" and drv == "series" else 0))
                f.write("BENCH %s %d fault-lat %s %d 30 us\n"
                        % (drv, rnd, bk, 2 if bk == "THP" else 0))
                f.write("BENCH %s %d cpu-lat %s %d 40 us\n"
                        % (drv, rnd, bk, 2 if bk == "THP" else 0))
            if drv == "series":
                f.write("BENCH series %d table 4K 8 48 KiB\n" % rnd)
EOF
}

@test "a complete output gives the table and the explanation" {
	write_output
	run python3 "$REPORT" --rounds 2 "$OUT"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q '^migrate to device (with read-back) *4K *8 MiB'
	echo "$output" | grep -q '^where ours spends its time'
	echo "$output" | grep -Eq '^munmap of the mirrored buffer +THP +8 MiB'
}

@test "a path without its counters is a failure" {
	write_output
	sed -i '/^BENCHSTAT series 2 munmap THP 8 update_ns /d' "$OUT"
	run python3 "$REPORT" --rounds 2 "$OUT"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'munmap THP 8 MiB: counter update_ns has rounds \[1\], not 1-2'
}

@test "a round missing for one driver is a failure" {
	write_output
	sed -i '/^BENCH upstream 2 write 4K /d' "$OUT"
	run python3 "$REPORT" --rounds 2 "$OUT"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'write 4K 8 MiB: upstream driver has rounds \[1\], not 1-2'
}

@test "an unreadable counter line is a failure" {
	write_output
	echo 'BENCHSTAT series 1 munmap 4K 8 bogus_counter 5' >> "$OUT"
	run python3 "$REPORT" --rounds 2 "$OUT"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'unreadable line'
}

@test "a job that did not run is a failure" {
	: > "$OUT"
	run python3 "$REPORT" --rounds 2 "$OUT"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'no BENCH-CONFIG line'
}

@test "the round trip's huge pages and munmap cost are reported" {
	write_output
	# ours: munmap after the trip at half the speed of an unmirrored one
	sed -i -E 's/^(BENCH series [12] munmap-trip THP 8) [0-9]+/\1 50/' "$OUT"
	run python3 "$REPORT" --rounds 2 "$OUT"
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq '^THP regions after a round trip \(driver\) +THP +8 MiB +100% .* 0% .* -$'
	echo "$output" | grep -q "^munmap of a mirrored THP buffer after a round trip, against an unmirrored fresh one (8 MiB, time ratio): ours 2.03x, upstream's 1.00x$"
}

@test "the latencies are shown round by round, with the fastest rounds' ratio" {
	write_output
	# ours: a slow second round of CPU faults back (4K), 40 us otherwise
	sed -i -E 's/^(BENCH series 2 cpu-lat 4K 0) [0-9]+/\1 120/' "$OUT"
	# upstream's: 20 us in its first round
	sed -i -E 's/^(BENCH upstream 1 cpu-lat 4K 0) [0-9]+/\1 20/' "$OUT"
	run python3 "$REPORT" --rounds 2 "$OUT"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "^one CPU fault back (latency) 4K, per round: ours 40.0, 120.0 us, upstream's 20.0, 40.0 us; fastest rounds: upstream/ours 0.50$"
	echo "$output" | grep -q "^one device fault (latency) THP, per round: ours 30.0, 30.0 us, upstream's 30.0, 30.0 us; fastest rounds: upstream/ours 1.00$"
}
