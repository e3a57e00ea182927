// SPDX-License-Identifier: GPL-2.0
/*
 * hmm-bench: throughput of the dummy HMM device (lib/test_hmm.c) and the
 * cost of mirroring for the CPU, run by `make bench`. Every figure comes
 * from the same boot; compare figures of one run only (QEMU TCG timings
 * are noisy from one boot to the next).
 *
 * Each line: what, MiB/s (best of REPS runs), and the mirror table size.
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

#define SIZE	(64UL << 20)
#define TWOMEG	(2UL << 20)
#define REPS	5

static long psize;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dmirror(int fd, unsigned long req, void *addr, void *ptr,
		   unsigned long npages)
{
	struct hmm_dmirror_cmd cmd = {
		.addr = (uintptr_t)addr,
		.ptr = (uintptr_t)ptr,
		.npages = npages,
	};

	return ioctl(fd, req, &cmd) ? -errno : 0;
}

/* A 2 MiB aligned, populated buffer, THP-backed or not. */
static char *buffer(int huge)
{
	char *map = mmap(NULL, SIZE + TWOMEG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (map == MAP_FAILED)
		return NULL;
	p = (char *)(((uintptr_t)map + TWOMEG - 1) & ~(TWOMEG - 1));
	if (p != map)
		munmap(map, p - map);
	munmap(p + SIZE, map + SIZE + TWOMEG - (p + SIZE));
	madvise(p, SIZE, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(p, 1, SIZE);
	return p;
}

static double mibs(double secs)
{
	return (SIZE >> 20) / secs;
}

static unsigned long long table_bytes(int fd)
{
	struct hmm_dmirror_stats st;

	memset(&st, 0, sizeof(st));
	if (dmirror(fd, HMM_DMIRROR_STATS, NULL, &st, 0))
		return 0;
	return st.pt_bytes;
}

/* munmap() of a buffer, mirrored by the device or not: best of REPS. */
static void bench_munmap(int fd, int huge, int mirrored, void *copy)
{
	double best = 0;
	unsigned long long tbytes = 0;

	for (int r = 0; r < REPS; r++) {
		char *p = buffer(huge);
		double t;

		if (!p) {
			printf("mmap failed\n");
			return;
		}
		if (mirrored) {
			if (dmirror(fd, HMM_DMIRROR_READ, p, copy,
				    SIZE / psize)) {
				printf("device read failed\n");
				return;
			}
			tbytes = table_bytes(fd);
		}
		t = now();
		munmap(p, SIZE);
		t = now() - t;
		if (!best || t < best)
			best = t;
	}
	printf("  munmap, %-4s pages, %-10s %10.0f MiB/s", huge ? "THP" : "4K",
	       mirrored ? "mirrored:" : "unmirrored:", mibs(best));
	if (mirrored)
		printf("   (mirror table %llu KiB)", tbytes >> 10);
	printf("\n");
}

/* A device operation over the whole buffer: first time and again. */
static void bench_device(int fd, const char *what, unsigned long req,
			 int huge, void *copy)
{
	double first = 0, again = 0;

	for (int r = 0; r < REPS; r++) {
		char *p = buffer(huge);
		double t;

		t = now();
		if (dmirror(fd, req, p, copy, SIZE / psize)) {
			printf("  %s failed\n", what);
			return;
		}
		t = now() - t;
		if (!first || t < first)
			first = t;
		t = now();
		dmirror(fd, req, p, copy, SIZE / psize);
		t = now() - t;
		if (!again || t < again)
			again = t;
		munmap(p, SIZE);
	}
	printf("  device %-5s %-4s pages: %8.0f MiB/s first, %8.0f MiB/s again\n",
	       what, huge ? "THP" : "4K", mibs(first), mibs(again));
}

/* Migration: to device memory, back by CPU faults, back by the driver. */
static void bench_migrate(int fd, void *copy)
{
	double to_dev = 0, fault = 0, to_sys = 0;

	for (int r = 0; r < REPS; r++) {
		char *p = buffer(0);
		volatile char sum = 0;
		double t;

		t = now();
		if (dmirror(fd, HMM_DMIRROR_MIGRATE_TO_DEV, p, copy,
			    SIZE / psize)) {
			printf("  migrate to device failed\n");
			return;
		}
		t = now() - t;
		if (!to_dev || t < to_dev)
			to_dev = t;
		t = now();
		for (unsigned long off = 0; off < SIZE; off += psize)
			sum += p[off];
		t = now() - t;
		if (!fault || t < fault)
			fault = t;
		dmirror(fd, HMM_DMIRROR_MIGRATE_TO_DEV, p, copy, SIZE / psize);
		t = now();
		dmirror(fd, HMM_DMIRROR_MIGRATE_TO_SYS, p, copy, SIZE / psize);
		t = now() - t;
		if (!to_sys || t < to_sys)
			to_sys = t;
		munmap(p, SIZE);
	}
	printf("  migrate to device (with the read-back check): %8.0f MiB/s\n",
	       mibs(to_dev));
	printf("  CPU fault back (16-page windows):             %8.0f MiB/s\n",
	       mibs(fault));
	printf("  migrate back to system (driver request):      %8.0f MiB/s\n",
	       mibs(to_sys));
}

int main(void)
{
	void *copy;
	int fd;

	psize = sysconf(_SC_PAGESIZE);
	fd = open("/dev/hmm_dmirror0", O_RDWR);
	copy = malloc(SIZE);
	if (fd < 0 || !copy) {
		perror("hmm-bench");
		return 1;
	}
	printf("hmm-bench: %lu MiB buffers, best of %d runs\n", SIZE >> 20, REPS);
	bench_device(fd, "read", HMM_DMIRROR_READ, 0, copy);
	bench_device(fd, "read", HMM_DMIRROR_READ, 1, copy);
	bench_device(fd, "write", HMM_DMIRROR_WRITE, 0, copy);
	bench_device(fd, "write", HMM_DMIRROR_WRITE, 1, copy);
	bench_munmap(fd, 0, 0, copy);
	bench_munmap(fd, 0, 1, copy);
	bench_munmap(fd, 1, 0, copy);
	bench_munmap(fd, 1, 1, copy);
	bench_migrate(fd, copy);
	close(fd);
	return 0;
}
