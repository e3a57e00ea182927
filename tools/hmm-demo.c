// SPDX-License-Identifier: GPL-2.0
/*
 * hmm-demo: a short tour of the dummy HMM device (lib/test_hmm.c), run by
 * `make run`.  It mirrors a buffer, lets the device read and write it,
 * migrates it to device memory, touches it from the CPU, and forks, checking
 * the bytes at every step and saying what happened in plain words, with the
 * hmm_events that reached the driver through the HMM mirror API.
 *
 * Exit status 0 and a last line "DEMO PASSED" when every step behaved.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <lib/test_hmm_uapi.h>

#define NPAGES	64

static long page_size;
static int failures;

static void step(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void step(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("  [%s] ", ok ? " ok " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

static int dmirror(int fd, unsigned long req, void *addr, void *mirror,
		   unsigned long npages, struct hmm_dmirror_cmd *out)
{
	struct hmm_dmirror_cmd cmd = {
		.addr = (uintptr_t)addr,
		.ptr = (uintptr_t)mirror,
		.npages = npages,
	};
	int ret;

	do {
		ret = ioctl(fd, req, &cmd);
	} while (ret && errno == EINTR);
	if (out)
		*out = cmd;
	return ret ? -errno : 0;
}

static void fill(uint32_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = seed + (uint32_t)i;
}

static size_t count_bad(const uint32_t *p, size_t n, uint32_t seed)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += p[i] != seed + (uint32_t)i;
	return bad;
}

static const char *const etype_name[] = {
	"NONE", "FORK", "MIGRATE", "MUNMAP", "DEVICE_RFAULT", "DEVICE_WFAULT",
	"WRITE_PROTECT", "COPY_FROM_DEVICE", "COPY_TO_DEVICE",
};

/*
 * Say which hmm_events reached the driver's update() since the last call,
 * and how big the mirror table is: the mirror API at work.
 */
static void show_events(int fd)
{
	struct hmm_dmirror_event ev[64];
	struct hmm_dmirror_stats st;
	struct hmm_dmirror_cmd cmd;
	unsigned long count[HMM_DMIRROR_EV_MAX] = { 0 };
	int printed = 0;

	if (dmirror(fd, HMM_DMIRROR_EVENTS, NULL, ev, 64, &cmd))
		return;
	for (unsigned long i = 0; i < cmd.cpages; i++)
		if (ev[i].etype < HMM_DMIRROR_EV_MAX)
			count[ev[i].etype]++;
	printf("         hmm_events seen by the driver:");
	for (int e = 0; e < HMM_DMIRROR_EV_MAX; e++) {
		if (!count[e])
			continue;
		printf(" %s x%lu", etype_name[e], count[e]);
		printed = 1;
	}
	if (!printed)
		printf(" none");
	memset(&st, 0, sizeof(st));
	if (!dmirror(fd, HMM_DMIRROR_STATS, NULL, &st, 0, NULL)) {
		printf("; mirror table: %llu 4K + %llu 2M entries, %llu KiB\n",
		       (unsigned long long)st.pt_small,
		       (unsigned long long)st.pt_huge,
		       (unsigned long long)st.pt_bytes >> 10);
		printf("         copies: %llu pages to the device, %llu back; device pages in use: %llu\n",
		       (unsigned long long)st.copies_to_device,
		       (unsigned long long)st.copies_from_device,
		       (unsigned long long)st.device_pages);
	} else {
		printf("\n");
	}
	fflush(stdout);
}

/* Count the snapshot entries whose state equals @what. */
static unsigned long snapshot_count(int fd, void *buf, unsigned char what)
{
	unsigned char state[NPAGES];
	unsigned long n = 0;

	if (dmirror(fd, HMM_DMIRROR_SNAPSHOT, buf, state, NPAGES, NULL))
		return ~0UL;
	for (int i = 0; i < NPAGES; i++)
		n += (state[i] & 0xf0) == what;
	return n;
}

int main(void)
{
	struct hmm_dmirror_cmd cmd;
	size_t size, words;
	uint32_t *buf, *mirror;
	int fd, ret, status;
	pid_t pid;

	page_size = sysconf(_SC_PAGESIZE);
	size = NPAGES * page_size;
	words = size / sizeof(uint32_t);

	printf("HMM demo: dummy device /dev/hmm_dmirror0, buffer of %d pages (%zu KiB)\n",
	       NPAGES, size / 1024);
	fd = open("/dev/hmm_dmirror0", O_RDWR);
	if (fd < 0) {
		perror("open /dev/hmm_dmirror0");
		printf("DEMO FAILED\n");
		return 1;
	}
	buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mirror = malloc(size);
	if (buf == MAP_FAILED || !mirror) {
		perror("mmap");
		return 1;
	}

	printf("1. mirror: the CPU writes a pattern, the device reads it through its mirror\n");
	fill(buf, words, 1000);
	memset(mirror, 0, size);
	ret = dmirror(fd, HMM_DMIRROR_READ, buf, mirror, NPAGES, &cmd);
	step(!ret && cmd.cpages == NPAGES && !count_bad(mirror, words, 1000),
	     "device read %llu of %d pages, %zu words differ, %llu device faults",
	     (unsigned long long)cmd.cpages, NPAGES, ret ? words : count_bad(mirror, words, 1000),
	     (unsigned long long)cmd.faults);
	show_events(fd);

	printf("2. the device writes a new pattern, the CPU reads it\n");
	fill(mirror, words, 2000);
	ret = dmirror(fd, HMM_DMIRROR_WRITE, buf, mirror, NPAGES, &cmd);
	step(!ret && cmd.cpages == NPAGES && !count_bad(buf, words, 2000),
	     "device wrote %llu pages, CPU sees %zu wrong words",
	     (unsigned long long)cmd.cpages, count_bad(buf, words, 2000));
	show_events(fd);

	printf("3. migrate the buffer to device memory\n");
	ret = dmirror(fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, mirror, NPAGES, &cmd);
	step(!ret && cmd.cpages == NPAGES,
	     "%llu of %d pages moved to device memory (ret %d)",
	     (unsigned long long)cmd.cpages, NPAGES, ret);
	step(snapshot_count(fd, buf, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL) == NPAGES,
	     "snapshot: %lu pages are device-private on this device",
	     snapshot_count(fd, buf, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL));
	ret = dmirror(fd, HMM_DMIRROR_READ, buf, mirror, NPAGES, &cmd);
	step(!ret && !count_bad(mirror, words, 2000),
	     "device reads its own memory: %zu wrong words", count_bad(mirror, words, 2000));
	show_events(fd);

	printf("4. fork while the buffer is in device memory; the child reads it\n"
	       "   (HMM_FORK: the child gets its own copy, the parent's pages stay on the device)\n");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		size_t bad = count_bad(buf, words, 2000);

		printf("     child: %zu wrong words after fork\n", bad);
		fflush(stdout);
		_exit(bad ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	step(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	     "child saw the right bytes (exit status %d)", WEXITSTATUS(status));
	step(snapshot_count(fd, buf, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL) == NPAGES,
	     "snapshot: %lu of the parent's pages still in device memory",
	     snapshot_count(fd, buf, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL));
	show_events(fd);

	printf("5. the CPU touches the buffer: pages fault back to system memory\n");
	step(!count_bad(buf, words, 2000), "CPU reads %zu wrong words",
	     count_bad(buf, words, 2000));
	step(snapshot_count(fd, buf, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL) == 0,
	     "snapshot: %lu pages still device-private after the CPU touched them",
	     snapshot_count(fd, buf, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL));
	show_events(fd);

	printf("6. unmap the buffer and close the device\n");
	ret = dmirror(fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, mirror, NPAGES, &cmd);
	step(!ret, "migrated %llu pages to the device again", (unsigned long long)cmd.cpages);
	step(munmap(buf, size) == 0, "munmap");
	{
		struct hmm_dmirror_stats st;

		memset(&st, 0, sizeof(st));
		dmirror(fd, HMM_DMIRROR_STATS, NULL, &st, 0, NULL);
		step(st.device_pages == 0,
		     "device pages in use after munmap: %llu (all came back to the driver)",
		     (unsigned long long)st.device_pages);
	}
	show_events(fd);
	close(fd);
	free(mirror);

	if (failures) {
		printf("DEMO FAILED: %d step(s) failed\n", failures);
		return 1;
	}
	printf("DEMO PASSED\n");
	return 0;
}
