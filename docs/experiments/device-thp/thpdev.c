/* Prototype check: THP buffers to the device and back, bytes and THP splits. */
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

#define TWOMEG (2UL << 20)
static long vmstat(const char *name)
{
	char line[256]; long v = -1; size_t n = strlen(name);
	FILE *f = fopen("/proc/vmstat", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ')
			v = atol(line + n + 1);
	if (f) fclose(f);
	return v;
}
static long anonhuge(void)
{
	char line[256]; long v = -1;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "AnonHugePages:", 14))
			v = atol(line + 14);
	if (f) fclose(f);
	return v;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static int cmd(int fd, unsigned long req, void *addr, void *ptr, unsigned long np, struct hmm_dmirror_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->addr = (uintptr_t)addr; c->ptr = (uintptr_t)ptr; c->npages = np;
	return ioctl(fd, req, c) ? -errno : 0;
}
int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? atol(argv[1]) : 8, size = mib << 20, np = size >> 12, i;
	const char *dev = argc > 2 ? argv[2] : "/dev/hmm_dmirror0";
	int mode = argc > 3 ? atoi(argv[3]) : 0; /* 0: fault back, 1: migrate back */
	int fd = open(dev, O_RDWR), bad = 0, ret;
	struct hmm_dmirror_cmd c;
	char *raw, *buf; unsigned int *mirror; long s0, s1, h;
	double t;

	if (fd < 0) { perror("open"); return 1; }
	raw = mmap(NULL, size + TWOMEG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = (char *)(((uintptr_t)raw + TWOMEG - 1) & ~(TWOMEG - 1));
	madvise(buf, size, MADV_HUGEPAGE);
	mirror = malloc(size);
	for (i = 0; i < size / 4; i++) ((unsigned int *)buf)[i] = i * 2654435761u;
	printf("AnonHugePages before: %ld kB\n", anonhuge());
	s0 = vmstat("thp_split_pmd");
	t = now();
	ret = cmd(fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, mirror, np, &c);
	t = now() - t;
	s1 = vmstat("thp_split_pmd");
	printf("migrate to dev: ret %d cpages %llu of %lu, %.1f ms, thp_split_pmd +%ld, AnonHugePages %ld kB\n",
	       ret, (unsigned long long)c.cpages, np, t * 1e3, s1 - s0, anonhuge());
	if (ret || c.cpages != np) bad++;
	ret = cmd(fd, HMM_DMIRROR_READ, buf, mirror, np, &c);
	for (i = 0; i < size / 4; i++)
		if (mirror[i] != (unsigned int)(i * 2654435761u)) { if (bad++ < 5) printf("device read bad at %lu\n", i); }
	printf("device read: ret %d, bad %d\n", ret, bad);
	t = now();
	if (mode == 1) {
		ret = cmd(fd, HMM_DMIRROR_MIGRATE_TO_SYS, buf, mirror, np, &c);
		printf("migrate to sys: ret %d cpages %llu\n", ret, (unsigned long long)c.cpages);
	}
	for (i = 0; i < size / 4; i++)
		if (((unsigned int *)buf)[i] != (unsigned int)(i * 2654435761u)) { if (bad++ < 5) printf("cpu read bad at %lu\n", i); }
	t = now() - t;
	h = anonhuge();
	printf("back: %.1f ms, AnonHugePages %ld kB, thp_split_pmd total +%ld, bad %d\n", t * 1e3, h, vmstat("thp_split_pmd") - s0, bad);
	/* write, migrate again, munmap while on the device */
	for (i = 0; i < size / 4; i += 1024) ((unsigned int *)buf)[i] ^= 1;
	ret = cmd(fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, mirror, np, &c);
	printf("migrate to dev again: ret %d cpages %llu\n", ret, (unsigned long long)c.cpages);
	ret = cmd(fd, HMM_DMIRROR_READ, buf, mirror, np, &c);
	for (i = 0; i < size / 4; i++) {
		unsigned int want = i * 2654435761u ^ (i % 1024 == 0);
		if (mirror[i] != want) { if (bad++ < 5) printf("device read 2 bad at %lu\n", i); }
	}
	munmap(raw, size + TWOMEG);
	printf("%s: bad %d\n", bad ? "FAIL" : "PASS", bad);
	return bad != 0;
}
