// SPDX-License-Identifier: GPL-2.0
/*
 * hmm-bench: one round of `make bench` against whichever dummy HMM driver
 * is loaded (the series' lib/test_hmm.c, or upstream 6.12's unmodified one
 * built as test_hmm_upstream). guest/bench-job.sh alternates the drivers
 * round by round in one boot, and scripts/bench-report.py puts the rounds
 * side by side: medians, spread, ratios, and a memcpy control that shows
 * how much the VM itself drifted.
 *
 *   hmm-bench --driver NAME --round N [--sizes 2,8,32] [--device N]
 *
 * One line per measurement, and nothing else on stdout:
 *
 *   BENCH driver round path backing size-MiB value unit
 *
 * paths (MiB/s unless noted):
 *   read-first   device read of a populated buffer the device never saw
 *                (every page is a device fault)
 *   read-again   the same read again (the device's mapping exists)
 *   write        device write to a populated buffer the device never saw
 *   migrate-dev  migration to device memory (with the driver's read-back)
 *   cpu-fault    the CPU reads one byte of each page that is in device
 *                memory: every access that finds one faults it back
 *   migrate-sys  migration back to system memory at the driver's request
 *   munmap       munmap() of a buffer the device mirrors
 *   huge-after   % of the buffer's 2 MiB regions that are a THP after a
 *                round trip to the device and back at the driver's request
 *                (/proc/kpageflags of each region's first page)
 *   munmap-trip  munmap() of that buffer, after a device read mirrored it
 *   munmap-plain control: munmap() of a fresh buffer no device mirrors
 *   memcpy       control: memcpy() of the buffer, touching no driver
 *   fault-lat    us for one device fault: a read of one 4K page, or of one
 *                2 MiB THP, that the device never saw (median of 1024 4K
 *                faults, of 64 THP ones: the VM's hiccups, which only ever
 *                add time, move a mean but hardly a median)
 *   cpu-lat      us for one CPU fault on device memory: the first touch of
 *                a page, 16 pages apart, or of a 2 MiB range (median, as
 *                above)
 *   table        KiB of mirror table after read-first (the series' driver
 *                only: upstream's has no mirror table, and no STATS ioctl)
 *
 * With the series' driver, each throughput path is followed by what HMM
 * counted for the process's mirror during it (/sys/kernel/debug/hmm/stats),
 * which explains the figure:
 *
 *   BENCHSTAT driver round path backing size-MiB counter delta
 *
 * counters: updates update_ns faults fault_retries fault_ns to_device
 * to_device_ns from_device from_device_ns cpu_faults.
 *
 * backing: 4K (MADV_NOHUGEPAGE) or THP (MADV_HUGEPAGE; THP mode madvise).
 * A failed ioctl or mapping is reported on stderr and the exit status is 1:
 * a round that did not measure everything is a failure, not a gap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <lib/test_hmm_uapi.h>

#define TWOMEG		(2UL << 20)
#define MAXSIZES	8
#define LAT_PAGES	1024	/* 4K latency: isolated pages, 16 apart */
#define LAT_HUGE	64	/* THP latency: 2 MiB ranges */
_Static_assert(LAT_HUGE <= LAT_PAGES, "bench_latency()'s times[] holds either");
#define FAULT_STRIDE	16	/* pages apart: isolated faults */

static const char *driver = "?";
static int round_no;
static long psize;
static int fd;
static int failed;
static void *copy;		/* the ioctls' ptr buffer, as big as the largest size */
static void *scratch;		/* memcpy's destination */

/* The mirror's counters we explain figures with (see BENCHSTAT). */
static const char *const stat_names[] = {
	"updates", "update_ns", "faults", "fault_pages", "fault_retries",
	"fault_ns", "to_device", "to_device_ns", "from_device",
	"from_device_ns", "cpu_faults", "copy_errors",
};
#define NSTATS	(sizeof(stat_names) / sizeof(stat_names[0]))
#define STATS_HEADER	"device pid mirror updates update_ns faults fault_pages " \
			"fault_retries fault_ns to_device to_device_ns " \
			"from_device from_device_ns cpu_faults copy_errors\n"
static unsigned long long stat0[NSTATS];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dmirror(unsigned long req, void *addr, void *ptr,
		   unsigned long npages)
{
	struct hmm_dmirror_cmd cmd = {
		.addr = (uintptr_t)addr,
		.ptr = (uintptr_t)ptr,
		.npages = npages,
	};

	return ioctl(fd, req, &cmd) ? -errno : 0;
}

static void fail(const char *what, const char *backing, unsigned long mib,
		 int err)
{
	fprintf(stderr, "hmm-bench: %s, %s, %lu MiB: %s\n", what, backing, mib,
		strerror(-err));
	failed = 1;
}

static void report(const char *path, const char *backing, unsigned long mib,
		   double value, const char *unit)
{
	printf("BENCH %s %d %s %s %lu %.3f %s\n", driver, round_no, path,
	       backing, mib, value, unit);
}

/* This process's line of /sys/kernel/debug/hmm/stats; -1 unless one. */
static int read_stats(unsigned long long *v)
{
	FILE *f = fopen("/sys/kernel/debug/hmm/stats", "r");
	unsigned long long t[NSTATS];
	char line[512];
	int found = 0;

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f) ||
	    strncmp(line, STATS_HEADER, strlen(STATS_HEADER)))
		found = -1;
	while (found >= 0 && fgets(line, sizeof(line), f)) {
		int pid;

		if (sscanf(line,
			   "%*s %d %*s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &pid, &t[0], &t[1], &t[2], &t[3], &t[4], &t[5], &t[6],
			   &t[7], &t[8], &t[9], &t[10], &t[11]) != 13)
			found = -1;
		else if (pid == getpid() && found++ == 0)
			memcpy(v, t, sizeof(t));
	}
	fclose(f);
	return found == 1 ? 0 : -1;
}

/* Start of a measured path: the counters now (the series' driver only). */
static void stat_begin(void)
{
	if (strcmp(driver, "series"))
		return;
	if (read_stats(stat0)) {
		fprintf(stderr, "hmm-bench: cannot read this process's mirror in /sys/kernel/debug/hmm/stats\n");
		failed = 1;
	}
}

/* End of a measured path: what HMM counted during it. */
static void explain(const char *path, const char *backing, unsigned long mib)
{
	unsigned long long v[NSTATS];
	unsigned int i;

	if (strcmp(driver, "series"))
		return;
	if (read_stats(v)) {
		fprintf(stderr, "hmm-bench: cannot read this process's mirror in /sys/kernel/debug/hmm/stats\n");
		failed = 1;
		return;
	}
	for (i = 0; i < NSTATS; i++)
		printf("BENCHSTAT %s %d %s %s %lu %s %llu\n", driver, round_no,
		       path, backing, mib, stat_names[i], v[i] - stat0[i]);
}

/* % of the 2 MiB regions of [p, p + size) whose first page is in a THP. */
static double huge_share(char *p, size_t size)
{
	int pm = open("/proc/self/pagemap", O_RDONLY);
	int kf = open("/proc/kpageflags", O_RDONLY);
	unsigned long n = 0, huge = 0;
	uint64_t ent, flags;
	size_t off;

	for (off = 0; pm >= 0 && kf >= 0 && off < size; off += TWOMEG, n++) {
		if (pread(pm, &ent, sizeof(ent),
			  (uintptr_t)(p + off) / psize * 8) != sizeof(ent) ||
		    !(ent & (1ULL << 63)) ||
		    pread(kf, &flags, sizeof(flags),
			  (ent & ((1ULL << 55) - 1)) * 8) != sizeof(flags))
			continue;
		huge += !!(flags & (1ULL << 22));	/* KPF_THP */
	}
	if (pm < 0 || kf < 0)
		n = 0;
	if (pm >= 0)
		close(pm);
	if (kf >= 0)
		close(kf);
	return n ? 100.0 * huge / n : -1;
}

/* A 2 MiB aligned buffer of @size bytes, populated, THP-backed or not. */
static char *buffer(size_t size, int huge)
{
	char *map = mmap(NULL, size + TWOMEG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (map == MAP_FAILED)
		return NULL;
	p = (char *)(((uintptr_t)map + TWOMEG - 1) & ~(TWOMEG - 1));
	if (p != map)
		munmap(map, p - map);
	munmap(p + size, map + size + TWOMEG - (p + size));
	madvise(p, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(p, 0x5a, size);
	return p;
}

static unsigned long long table_bytes(void)
{
	struct hmm_dmirror_stats st;

	memset(&st, 0, sizeof(st));
	if (dmirror(HMM_DMIRROR_STATS, NULL, &st, 0))
		return 0;
	return st.pt_bytes;
}

/* Time one ioctl over the whole buffer; < 0 if it failed. */
static double timed(unsigned long req, void *p, size_t size)
{
	double t = now();
	int ret = dmirror(req, p, copy, size / psize);

	return ret ? ret : now() - t;
}

/* Reads (first and again), and the mirror table they left, for one size. */
static void bench_read(size_t size, int huge, const char *bk)
{
	unsigned long mib = size >> 20;
	char *p = buffer(size, huge);
	double t;

	if (!p) {
		fail("mmap", bk, mib, -ENOMEM);
		return;
	}
	stat_begin();
	t = timed(HMM_DMIRROR_READ, p, size);
	if (t < 0) {
		fail("device read", bk, mib, (int)t);
		return;
	}
	report("read-first", bk, mib, mib / t, "MiB/s");
	explain("read-first", bk, mib);
	if (!strcmp(driver, "series"))
		report("table", bk, mib, table_bytes() / 1024.0, "KiB");
	stat_begin();
	t = timed(HMM_DMIRROR_READ, p, size);
	if (t < 0) {
		fail("device read again", bk, mib, (int)t);
		return;
	}
	report("read-again", bk, mib, mib / t, "MiB/s");
	explain("read-again", bk, mib);
	stat_begin();
	t = now();
	munmap(p, size);
	report("munmap", bk, mib, mib / (now() - t), "MiB/s");
	explain("munmap", bk, mib);
}

static void bench_write(size_t size, int huge, const char *bk)
{
	unsigned long mib = size >> 20;
	char *p = buffer(size, huge);
	double t;

	if (!p) {
		fail("mmap", bk, mib, -ENOMEM);
		return;
	}
	memset(copy, 0xa5, size);
	stat_begin();
	t = timed(HMM_DMIRROR_WRITE, p, size);
	if (t < 0) {
		fail("device write", bk, mib, (int)t);
	} else {
		report("write", bk, mib, mib / t, "MiB/s");
		explain("write", bk, mib);
	}
	munmap(p, size);
}

/* To device memory, back by CPU faults; again, back by the driver. */
static void bench_migrate(size_t size, int huge, const char *bk)
{
	unsigned long mib = size >> 20, off;
	volatile char sum = 0;
	char *p = buffer(size, huge);
	double t;

	if (!p) {
		fail("mmap", bk, mib, -ENOMEM);
		return;
	}
	stat_begin();
	t = timed(HMM_DMIRROR_MIGRATE_TO_DEV, p, size);
	if (t < 0) {
		munmap(p, size);
		fail("migrate to device", bk, mib, (int)t);
		return;
	}
	report("migrate-dev", bk, mib, mib / t, "MiB/s");
	explain("migrate-dev", bk, mib);
	stat_begin();
	t = now();
	for (off = 0; off < size; off += psize)
		sum += p[off];
	report("cpu-fault", bk, mib, mib / (now() - t), "MiB/s");
	explain("cpu-fault", bk, mib);
	munmap(p, size);

	p = buffer(size, huge);
	if (!p) {
		fail("mmap", bk, mib, -ENOMEM);
		return;
	}
	t = timed(HMM_DMIRROR_MIGRATE_TO_DEV, p, size);
	stat_begin();
	if (t >= 0)
		t = timed(HMM_DMIRROR_MIGRATE_TO_SYS, p, size);
	if (t < 0) {
		fail("migrate back to system", bk, mib, (int)t);
		munmap(p, size);
		return;
	}
	report("migrate-sys", bk, mib, mib / t, "MiB/s");
	explain("migrate-sys", bk, mib);

	/* What the round trip left: huge pages, and the cost of munmap. */
	t = huge_share(p, size);
	if (t < 0)
		fail("read /proc/self/pagemap and /proc/kpageflags", bk, mib,
		     -EIO);
	else
		report("huge-after", bk, mib, t, "%");
	t = timed(HMM_DMIRROR_READ, p, size);
	if (t < 0) {
		fail("device read after the round trip", bk, mib, (int)t);
		munmap(p, size);
		return;
	}
	stat_begin();
	t = now();
	munmap(p, size);
	report("munmap-trip", bk, mib, mib / (now() - t), "MiB/s");
	explain("munmap-trip", bk, mib);
}

static void bench_memcpy(size_t size, int huge, const char *bk)
{
	unsigned long mib = size >> 20;
	char *p = buffer(size, huge);
	double t;

	if (!p) {
		fail("mmap", bk, mib, -ENOMEM);
		return;
	}
	memset(scratch, 0, size);
	t = now();
	memcpy(scratch, p, size);
	report("memcpy", bk, mib, mib / (now() - t), "MiB/s");
	stat_begin();
	t = now();
	munmap(p, size);
	report("munmap-plain", bk, mib, mib / (now() - t), "MiB/s");
	explain("munmap-plain", bk, mib);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n times, in us (sorts @t). */
static double median_us(double *t, unsigned long n)
{
	qsort(t, n, sizeof(*t), cmp_double);
	return (n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2) * 1e6;
}

/*
 * Latency of one device fault and of one CPU fault back: @n units of
 * @unit pages each, in a buffer of @n * @gap pages (one unit per @gap).
 */
static void bench_latency(int huge, const char *bk)
{
	unsigned long unit = huge ? TWOMEG / psize : 1;
	unsigned long gap = huge ? unit : FAULT_STRIDE;
	unsigned long n = huge ? LAT_HUGE : LAT_PAGES;
	size_t size = n * gap * psize;
	static double times[LAT_PAGES];
	volatile char sum = 0;
	unsigned long i;
	char *p = buffer(size, huge);
	double t;
	int ret;

	if (!p) {
		fail("mmap", bk, size >> 20, -ENOMEM);
		return;
	}
	for (i = 0; i < n; i++) {
		t = now();
		ret = dmirror(HMM_DMIRROR_READ, p + i * gap * psize, copy,
			      unit);
		times[i] = now() - t;
		if (ret) {
			munmap(p, size);
			fail("device read (latency)", bk, size >> 20, ret);
			return;
		}
	}
	report("fault-lat", bk, huge ? 2 : 0, median_us(times, n), "us");

	ret = dmirror(HMM_DMIRROR_MIGRATE_TO_DEV, p, copy, size / psize);
	if (ret) {
		munmap(p, size);
		fail("migrate to device (latency)", bk, size >> 20, ret);
		return;
	}
	for (i = 0; i < n; i++) {
		t = now();
		sum += p[i * gap * psize];
		times[i] = now() - t;
	}
	report("cpu-lat", bk, huge ? 2 : 0, median_us(times, n), "us");
	munmap(p, size);
}

static int parse_sizes(const char *s, size_t *sizes)
{
	int n = 0;

	while (*s && n < MAXSIZES) {
		char *end;
		unsigned long mib = strtoul(s, &end, 10);

		if (end == s || !mib || mib % 2)
			return -1;
		sizes[n++] = mib << 20;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return *s ? -1 : n;
}

int main(int argc, char **argv)
{
	size_t sizes[MAXSIZES], max = 0;
	const char *list = "2,8,32,128,256";
	int nsizes, i, huge, device = 0;
	char path[32];

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--driver"))
			driver = argv[i + 1];
		else if (!strcmp(argv[i], "--round"))
			round_no = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--sizes"))
			list = argv[i + 1];
		else if (!strcmp(argv[i], "--device"))
			device = atoi(argv[i + 1]);
		else
			break;
	}
	nsizes = parse_sizes(list, sizes);
	if (i != argc || nsizes <= 0) {
		fprintf(stderr, "usage: hmm-bench --driver NAME --round N [--sizes 2,8,...] [--device N]\n"
				"(sizes in MiB, even numbers)\n");
		return 2;
	}
	/* The latency buffers need this much too (the driver's read-back). */
	psize = sysconf(_SC_PAGESIZE);
	max = LAT_HUGE * TWOMEG;
	if (LAT_PAGES * FAULT_STRIDE * psize > max)
		max = LAT_PAGES * FAULT_STRIDE * psize;
	for (i = 0; i < nsizes; i++)
		max = sizes[i] > max ? sizes[i] : max;
	snprintf(path, sizeof(path), "/dev/hmm_dmirror%d", device);
	fd = open(path, O_RDWR);
	copy = malloc(max);
	scratch = malloc(max);
	if (fd < 0 || !copy || !scratch) {
		perror("hmm-bench");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (huge = 0; huge < 2; huge++) {
		const char *bk = huge ? "THP" : "4K";

		for (i = 0; i < nsizes; i++) {
			bench_memcpy(sizes[i], huge, bk);
			bench_read(sizes[i], huge, bk);
			bench_write(sizes[i], huge, bk);
			bench_migrate(sizes[i], huge, bk);
		}
		bench_latency(huge, bk);
	}
	close(fd);
	return failed;
}
