// SPDX-License-Identifier: GPL-2.0
/*
 * hmm-stress: a randomized stress test and fuzzer of the HMM mirror series
 * through its dummy driver lib/test_hmm.c (/dev/hmm_dmirror0-3).
 *
 * Workload cases (one per seed and device configuration): owner threads
 * each own slots of pages and alone change their content (CPU write, device
 * write, MADV_DONTNEED or hole punch, mprotect, mremap, userfaultfd
 * write-protection and UFFDIO_MOVE); other threads run content-preserving
 * operations on all pages (migration to and from two devices, device reads,
 * snapshots, exclusive access, eviction, copy fault injection, fork with
 * children that check and write their own copies). Every page carries a
 * sequence count (odd while its owner changes it) and a generation: a
 * check is made only on pages whose count did not move during the
 * operation, and is then exact to the byte.
 *
 * Fault cases: the driver's copy-callback injection (every mode, with the
 * exact pages that must move, stay, or SIGBUS), device memory exhaustion
 * during a migration, failslab and fail_page_alloc (task filter) on the
 * HMM paths. Bad input: an ioctl fuzzer concurrent with close, RELEASE,
 * UNREGISTER, and rmmod/insmod of test_hmm. Leak accounting closes the run.
 *
 * Output is kselftest TAP. Without arguments: the bounded CI run (a fixed
 * seed list, about a minute). See --help.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/falloc.h>
#include <linux/userfaultfd.h>

#include <lib/test_hmm_uapi.h>

#define PS		4096UL
#define HPS		(2UL << 20)
#define MAXRANGE	512UL		/* pages of one operation */
#define NOWNERS		4
#define NOTHERS		3
#define NTHREADS	(NOWNERS + NOTHERS)
#define HIST		8		/* recent operations kept per page */
#define MAXREPORT	8		/* mismatches printed per case */
#define WINDOW		16UL		/* pages: a small migration */
#define CHUNK_SIZE	(2UL << 20)	/* HMM cuts migrations at 2 MiB (PMD) */
#define MODULE_PATH	"/lib/modules/test_hmm.ko"
#define MODULE_PARAMS	"spm_addr_dev0=0xA0000000 spm_addr_dev1=0xB0000000"

/* ------------------------------------------------------------ basics */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int slow = 1;		/* 4 on the debug kernel: longer timeouts */
static const char *mutate = "";	/* --mutate: break one check on purpose */
static bool progress;
static bool in_child;		/* a forked child: no stdio, no locks */

static void child_say(const char *fmt, ...);

static void say(const char *fmt, ...)
{
	char line[480];
	va_list ap;

	if (in_child) {
		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		child_say("%s", line);
		return;
	}
	pthread_mutex_lock(&out_lock);
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

/* For a forked child: one write() per line, no stdio. */
static void child_say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line + 2, sizeof(line) - 3, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 3)
		n = sizeof(line) - 3;
	line[0] = '#';
	line[1] = ' ';
	line[n + 2] = '\n';
	if (write(1, line, n + 3) < 0)
		return;
}

static bool mutating(const char *what)
{
	return !strcmp(mutate, what);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t rnd(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	return mix64(*s);
}

static unsigned long rnd_below(uint64_t *s, unsigned long n)
{
	return n ? rnd(s) % n : 0;
}

/* Index chosen with weights w[0..n-1]. */
static int pick(uint64_t *s, const int *w, int n)
{
	int i, total = 0, r;

	for (i = 0; i < n; i++)
		total += w[i];
	r = rnd_below(s, total);
	for (i = 0; i < n; i++) {
		if (r < w[i])
			return i;
		r -= w[i];
	}
	return n - 1;
}

static int write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	if (n < 0)
		return -errno;
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* A line in the kernel log, to line up the console with the cases. */
static void kmsg(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	write_file("/dev/kmsg", line);
}

static int dmirror(int fd, unsigned long req, unsigned long addr,
		   unsigned long ptr, unsigned long npages,
		   struct hmm_dmirror_cmd *out)
{
	struct hmm_dmirror_cmd cmd = {
		.addr = addr, .ptr = ptr, .npages = npages,
	};
	int ret;

	do {
		ret = ioctl(fd, req, &cmd);
	} while (ret && errno == EINTR);
	if (out)
		*out = cmd;
	return ret ? -errno : 0;
}

static int open_dev(int dev)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/hmm_dmirror%d", dev);
	return open(path, O_RDWR | O_CLOEXEC);
}

static int get_stats(int fd, struct hmm_dmirror_stats *st)
{
	memset(st, 0, sizeof(*st));
	return dmirror(fd, HMM_DMIRROR_STATS, 0, (uintptr_t)st, 0, NULL);
}

/* SNAPSHOT state of a page in the memory of the device behind fd. */
static unsigned int local_state(int dev)
{
	return dev < 2 ? HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL :
			 HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL;
}

/* Pages of [addr, +n) in the memory of device dev, or -errno. */
static long on_device(int fd, int dev, void *addr, unsigned long n)
{
	unsigned char st[MAXRANGE];
	unsigned long i, count = 0;
	int ret;

	if (n > MAXRANGE)
		return -E2BIG;
	ret = dmirror(fd, HMM_DMIRROR_SNAPSHOT, (uintptr_t)addr,
		      (uintptr_t)st, n, NULL);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		count += (st[i] & 0xf0) == local_state(dev);
	return count;
}

/* Map n bytes aligned on align, or NULL. */
static void *map_aligned(size_t n, size_t align, int prot, int flags, int fd)
{
	size_t len = n + align;
	char *p, *a;

	p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + align - 1) & ~(align - 1));
	if (a != p)
		munmap(p, a - p);
	if (p + len != a + n)
		munmap(a + n, p + len - (a + n));
	if (mmap(a, n, prot, flags | MAP_FIXED, fd, 0) == MAP_FAILED) {
		munmap(a, n);
		return NULL;
	}
	return a;
}

/* ------------------------------------------------------------- TAP */

struct tap {
	int planned, n, pass, fail, skip;
	const char *only;
} tap;

static void tap_result(bool ok, const char *skip, const char *fmt, ...)
{
	char name[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	tap.n++;
	pthread_mutex_lock(&out_lock);
	if (skip) {
		printf("ok %d %s # SKIP %s\n", tap.n, name, skip);
		tap.skip++;
	} else {
		printf("%s %d %s\n", ok ? "ok" : "not ok", tap.n, name);
		if (ok)
			tap.pass++;
		else
			tap.fail++;
	}
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void tap_end(void)
{
	while (tap.n < tap.planned)
		tap_result(false, NULL, "missing-result");
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       tap.pass, tap.fail, tap.skip);
	printf("# %d passed, %d failed\n", tap.pass, tap.fail);
	fflush(stdout);
}

/* ------------------------------------------------------------ counters */

enum op {
	OP_CPU_WRITE, OP_DEV_WRITE, OP_DONTNEED, OP_MPROTECT, OP_MREMAP,
	OP_UFFD_WP, OP_UFFD_MOVE, OP_VERIFY,
	OP_MIGRATE_DEV, OP_MIGRATE_SYS, OP_DEV_READ, OP_SNAPSHOT,
	OP_EXCLUSIVE, OP_FORK, OP_RELEASE, OP_INJECT, OP_STATS,
	OP_NR
};

static const char *const op_name[OP_NR] = {
	"cpu-write", "dev-write", "dontneed", "mprotect", "mremap",
	"uffd-wp", "uffd-move", "verify",
	"migrate-dev", "migrate-sys", "dev-read", "snapshot",
	"exclusive", "fork", "release", "inject", "stats",
};

/* Errors counted per operation, by errno. */
static const int err_list[] = { ENOENT, ENOMEM, EBUSY, EFAULT, EINVAL, EPERM,
				EIO, ENODEV, EAGAIN };
#define NERR (sizeof(err_list) / sizeof(err_list[0]) + 1)

struct counters {
	atomic_ulong ops[OP_NR];
	atomic_ulong errs[OP_NR];	/* expected errors (counted) */
	atomic_ulong byerr[OP_NR][NERR];
	atomic_ulong verified;		/* bytes compared exactly */
	atomic_ulong racy;		/* page checks skipped: owner moved */
	atomic_ulong bad_bytes;
	atomic_ulong failures;		/* every failed check */
	atomic_ulong reported;
};

static struct counters total;

static void count_op(struct counters *c, int op, int ret)
{
	atomic_fetch_add(&c->ops[op], 1);
	atomic_fetch_add(&total.ops[op], 1);
	if (ret < 0) {
		unsigned int e;

		for (e = 0; e < NERR - 1 && err_list[e] != -ret; e++)
			;
		atomic_fetch_add(&c->errs[op], 1);
		atomic_fetch_add(&total.errs[op], 1);
		atomic_fetch_add(&c->byerr[op][e], 1);
		if (c != &total)
			atomic_fetch_add(&total.byerr[op][e], 1);
	}
}

static void print_ops(const char *what, struct counters *c)
{
	char line[2048];
	unsigned int e;
	int i, n = 0;

	for (i = 0; i < OP_NR; i++) {
		unsigned long ops = atomic_load(&c->ops[i]);

		if (!ops)
			continue;
		n += snprintf(line + n, sizeof(line) - n, "%s%s %lu",
			      n ? ", " : "", op_name[i], ops);
		if (!atomic_load(&c->errs[i]))
			continue;
		n += snprintf(line + n, sizeof(line) - n, " (");
		for (e = 0; e < NERR; e++) {
			unsigned long k = atomic_load(&c->byerr[i][e]);

			if (k)
				n += snprintf(line + n, sizeof(line) - n,
					      "%s%s %lu", line[n - 1] == '(' ?
					      "" : " ", e < NERR - 1 ?
					      strerrorname_np(err_list[e]) :
					      "other", k);
		}
		n += snprintf(line + n, sizeof(line) - n, ")");
	}
	say("%s operations: %s", what, n ? line : "none");
	say("%s verified %.1f MiB exactly, %lu racy page checks skipped, %lu corrupted bytes, %lu failed checks",
	    what, atomic_load(&c->verified) / 1048576.0,
	    atomic_load(&c->racy), atomic_load(&c->bad_bytes),
	    atomic_load(&c->failures));
}

/* ------------------------------------------------------------- model */

/*
 * Per page: seq is odd while the page's owner changes it; gen says what
 * the page holds (0: zeroes, else the pattern of that generation); hist
 * keeps its recent operations for the report of a mismatch.
 */
struct pmodel {
	atomic_uint seq;
	atomic_uint gen;
	atomic_uint hpos;
	unsigned int hist[HIST];
};

enum { R_ANON, R_THP, R_SHARED, R_NR };

static const char *const region_name[R_NR] = { "anon-4k", "anon-thp", "shared" };

struct region {
	int kind;
	char *base;
	unsigned long npages;
	unsigned long slot;	/* pages per owner slot */
	unsigned long first;	/* global index of the first page */
	int memfd;
	bool uffd;		/* registered for write-protection */
};

struct thr;

struct wl {
	int no;
	uint64_t seed;
	const char *cfg;
	int dev[2], fd[2];
	struct hmm_dmirror_stats base[2];
	struct region reg[R_NR];
	unsigned long npages;
	struct pmodel *pm;		/* MAP_SHARED: children see it live */
	pthread_rwlock_t forklock;	/* owners read, fork writes */
	atomic_int stop;
	uint64_t t0;
	int uffd;
	bool can_wp, can_wp_shmem, can_move;
	struct counters c;
	struct thr *th;
	unsigned long nslots;
	uint64_t last_release;
};

struct thr {
	struct wl *w;
	int tid;
	uint64_t rng;
	char *buf;			/* MAXRANGE pages */
	unsigned int s1[MAXRANGE], s2[MAXRANGE], gens[MAXRANGE];
	char *scratch;			/* owners: 2 MiB for mremap */
	char *mscratch;			/* owners: for UFFDIO_MOVE */
	sigjmp_buf jb;
	volatile bool jb_ok;
	volatile bool in_mut;
	unsigned long mut_g, mut_n;
	volatile int cur_op;
	volatile uint64_t since;
	atomic_bool done;
	pthread_t th;
	pid_t child;
	uint64_t child_t0;
	unsigned int *fork_gens;
};

static uint64_t case_salt;
static __thread struct thr *self_thr;

static void fill_page(void *p, unsigned long g, unsigned int gen)
{
	uint64_t *w = p, b;
	unsigned long i;

	if (!gen) {
		memset(p, 0, PS);
		return;
	}
	b = mix64(case_salt ^ ((uint64_t)g << 32) ^ gen);
	for (i = 0; i < PS / 8; i++)
		w[i] = b + i * 0x9e3779b97f4a7c15ULL;
}

/* Bytes of p that differ from page g at generation gen. */
static unsigned long bad_bytes(const void *p, unsigned long g, unsigned int gen)
{
	uint64_t exp[PS / 8];
	const unsigned char *a = p, *b = (unsigned char *)exp;
	unsigned long i, n = 0;

	fill_page(exp, g, gen);
	if (!memcmp(p, exp, PS))
		return 0;
	for (i = 0; i < PS; i++)
		n += a[i] != b[i];
	return n;
}

static struct region *page_region(struct wl *w, unsigned long g)
{
	int r;

	for (r = R_NR - 1; r > 0; r--)
		if (g >= w->reg[r].first)
			break;
	return &w->reg[r];
}

static char *page_addr(struct wl *w, unsigned long g)
{
	struct region *r = page_region(w, g);

	return r->base + (g - r->first) * PS;
}

static void hist_add(struct wl *w, unsigned long g, int op, int tid)
{
	struct pmodel *m = &w->pm[g];
	unsigned int pos = atomic_fetch_add(&m->hpos, 1) % HIST;

	m->hist[pos] = (op << 24) | (tid << 20) |
		       (((now_ms() - w->t0) / 10) & 0xfffff);
}

/* What generation does p hold, near gen? -1 if none. */
static long guess_gen(const void *p, unsigned long g, unsigned int gen)
{
	long d;

	if (!bad_bytes(p, g, 0))
		return 0;
	for (d = -32; d <= 32; d++)
		if (gen + d > 0 && !bad_bytes(p, g, gen + d))
			return gen + d;
	return -1;
}

/* Print a mismatch: the page, expected and actual bytes, its history. */
static void report_bad(struct wl *w, const char *ctx, unsigned long g,
		       unsigned int gen, const void *got, unsigned long nbad)
{
	uint64_t exp[PS / 8];
	const unsigned char *a = got, *e = (unsigned char *)exp;
	struct region *r = page_region(w, g);
	char hx[2][64], hist[HIST * 24];
	unsigned int i, off, pos, n = 0;
	long actual;

	atomic_fetch_add(&w->c.bad_bytes, nbad);
	atomic_fetch_add(&total.bad_bytes, nbad);
	atomic_fetch_add(&w->c.failures, 1);
	atomic_fetch_add(&total.failures, 1);
	if (atomic_fetch_add(&w->c.reported, 1) >= MAXREPORT)
		return;
	fill_page(exp, g, gen);
	for (off = 0; off < PS && a[off] == e[off]; off++)
		;
	off &= ~15U;
	for (i = 0; i < 16; i++) {
		sprintf(hx[0] + 2 * i, "%02x", e[off + i]);
		sprintf(hx[1] + 2 * i, "%02x", a[off + i]);
	}
	actual = guess_gen(got, g, gen);
	pos = atomic_load(&w->pm[g].hpos);
	for (i = 0; i < HIST && i < pos; i++) {
		unsigned int h = w->pm[g].hist[(pos - 1 - i) % HIST];

		n += snprintf(hist + n, sizeof(hist) - n, " %s/t%u@%.2fs",
			      op_name[(h >> 24) % OP_NR], (h >> 20) & 15,
			      (h & 0xfffff) / 100.0);
	}
	hist[n] = 0;
	say("MISMATCH case %d: %s: page %lu (%s+%lu, %p): %lu bytes differ, first at +%#x",
	    w->no, ctx, g, region_name[r->kind], g - r->first,
	    page_addr(w, g), nbad, off);
	say("  expected gen %u: %s", gen, hx[0]);
	say("  actual%s: %s", actual < 0 ? " (no generation near)" :
	    actual == 0 ? " (zeroes)" : " (an older or newer generation)",
	    hx[1]);
	if (actual > 0)
		say("  actual content is generation %ld", actual);
	say("  recent operations, newest first:%s", n ? hist : " none");
}

/* Check one page's bytes against gen; true if it matched. */
static bool check_page(struct wl *w, const char *ctx, unsigned long g,
		       unsigned int gen, const void *p)
{
	unsigned long n = bad_bytes(p, g, gen);

	if (n)
		report_bad(w, ctx, g, gen, p, n);
	else
		atomic_fetch_add(&w->c.verified, PS);
	if (!n)
		atomic_fetch_add(&total.verified, PS);
	return !n;
}

static void fail(struct wl *w, const char *fmt, ...)
{
	char line[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&w->c.failures, 1);
	atomic_fetch_add(&total.failures, 1);
	if (atomic_fetch_add(&w->c.reported, 1) < MAXREPORT)
		say("FAIL case %d: %s", w->no, line);
}

/* Sequence counts and generations of [g, g + n) before an operation. */
static void snap_before(struct thr *t, unsigned long g, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		t->s1[i] = atomic_load_explicit(&t->w->pm[g + i].seq,
						memory_order_acquire);
		t->gens[i] = atomic_load_explicit(&t->w->pm[g + i].gen,
						  memory_order_relaxed);
	}
}

/* After it: true if no page of the range changed meanwhile. */
static bool snap_after(struct thr *t, unsigned long g, unsigned long n)
{
	bool stable = true;
	unsigned long i;

	atomic_thread_fence(memory_order_acquire);
	for (i = 0; i < n; i++) {
		t->s2[i] = atomic_load_explicit(&t->w->pm[g + i].seq,
						memory_order_relaxed);
		if (t->s1[i] != t->s2[i] || (t->s1[i] & 1))
			stable = false;
	}
	return stable;
}

/* Check data read for [g, g + n) into buf, on the pages that stayed. */
static void check_read(struct thr *t, const char *ctx, unsigned long g,
		       unsigned long n, const char *buf)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		if (t->s1[i] != t->s2[i] || (t->s1[i] & 1)) {
			atomic_fetch_add(&t->w->c.racy, 1);
			atomic_fetch_add(&total.racy, 1);
			continue;
		}
		check_page(t->w, ctx, g + i, t->gens[i], buf + i * PS);
	}
}

static void mut_begin(struct thr *t, unsigned long g, unsigned long n)
{
	unsigned long i;

	pthread_rwlock_rdlock(&t->w->forklock);
	for (i = 0; i < n; i++)
		atomic_fetch_add_explicit(&t->w->pm[g + i].seq, 1,
					  memory_order_acq_rel);
	t->mut_g = g;
	t->mut_n = n;
	t->in_mut = true;
}

static void mut_end(struct thr *t)
{
	unsigned long i;

	for (i = 0; i < t->mut_n; i++)
		atomic_fetch_add_explicit(&t->w->pm[t->mut_g + i].seq, 1,
					  memory_order_release);
	t->in_mut = false;
	pthread_rwlock_unlock(&t->w->forklock);
}

static unsigned int next_gen(struct wl *w, unsigned long g)
{
	unsigned int gen = atomic_load(&w->pm[g].gen) + 1;

	return gen & 0x3fffffff ? gen & 0x3fffffff : 1;
}

static void set_gen(struct thr *t, unsigned long g, unsigned int gen, int op)
{
	atomic_store_explicit(&t->w->pm[g].gen, gen, memory_order_relaxed);
	hist_add(t->w, g, op, t->tid);
}

/* The owner reads its pages with the CPU: exact. */
static void owner_verify(struct thr *t, const char *ctx, unsigned long g,
			 unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		check_page(t->w, ctx, g + i, atomic_load(&t->w->pm[g + i].gen),
			   page_addr(t->w, g + i));
}

/* Errors any device access may give under load: counted, not failed. */
static bool transient(int ret)
{
	return ret == -EBUSY || ret == -ENOMEM || ret == -EINTR ||
	       ret == -EAGAIN;
}

/* ------------------------------------------------------ owner operations */

/*
 * Device write of new generations; the model follows what was written
 * (*done pages).
 */
static int dev_write_gens(struct thr *t, int d, unsigned long g,
			  unsigned long n, int op, unsigned long *done)
{
	struct hmm_dmirror_cmd cmd;
	unsigned long i;
	int ret;

	for (i = 0; i < n; i++) {
		t->gens[i] = next_gen(t->w, g + i);
		fill_page(t->buf + i * PS, g + i, t->gens[i]);
	}
	ret = dmirror(t->w->fd[d], HMM_DMIRROR_WRITE, (uintptr_t)page_addr(t->w, g),
		      (uintptr_t)t->buf, n, &cmd);
	*done = ret ? cmd.cpages : n;
	if (*done > n)
		*done = n;
	for (i = 0; i < *done; i++)
		set_gen(t, g + i, t->gens[i], op);
	return ret;
}

static void op_cpu_write(struct thr *t, unsigned long g, unsigned long n)
{
	unsigned long i;

	mut_begin(t, g, n);
	for (i = 0; i < n; i++) {
		unsigned int gen = next_gen(t->w, g + i);

		fill_page(page_addr(t->w, g + i), g + i, gen);
		if (mutating("model") && g + i == 3)
			gen++;	/* a corrupt model: every check must see it */
		set_gen(t, g + i, gen, OP_CPU_WRITE);
	}
	mut_end(t);
	count_op(&t->w->c, OP_CPU_WRITE, 0);
	owner_verify(t, "CPU read after CPU write", g, n);
}

static void op_dev_write(struct thr *t, unsigned long g, unsigned long n)
{
	int d = rnd_below(&t->rng, 2), ret;
	unsigned long done;

	mut_begin(t, g, n);
	ret = dev_write_gens(t, d, g, n, OP_DEV_WRITE, &done);
	mut_end(t);
	count_op(&t->w->c, OP_DEV_WRITE, ret);
	if (ret && !transient(ret))
		fail(t->w, "device %d write of own pages %lu+%lu: %s",
		     t->w->dev[d], g, n, strerror(-ret));
	owner_verify(t, "CPU read after device write", g, n);
}

static void op_dontneed(struct thr *t, unsigned long g, unsigned long n)
{
	struct region *r = page_region(t->w, g);
	unsigned long i;
	int ret;

	mut_begin(t, g, n);
	if (r->kind == R_SHARED)
		ret = fallocate(r->memfd, FALLOC_FL_PUNCH_HOLE |
				FALLOC_FL_KEEP_SIZE, (g - r->first) * PS,
				n * PS);
	else
		ret = madvise(page_addr(t->w, g), n * PS, MADV_DONTNEED);
	if (ret)
		fail(t->w, "%s of pages %lu+%lu: %s", r->kind == R_SHARED ?
		     "hole punch" : "MADV_DONTNEED", g, n, strerror(errno));
	else
		for (i = 0; i < n; i++)
			set_gen(t, g + i, 0, OP_DONTNEED);
	mut_end(t);
	count_op(&t->w->c, OP_DONTNEED, ret ? -EIO : 0);
	owner_verify(t, "CPU read after discard", g, n);
}

/*
 * A device write to pages the CPU may not write must fail and change
 * nothing; what it wrote anyway is reported (and taken into the model).
 */
static void expect_write_refused(struct thr *t, unsigned long g,
				 unsigned long n, const char *why, int op)
{
	int d = rnd_below(&t->rng, 2), ret;
	unsigned long done;

	ret = dev_write_gens(t, d, g, n, op, &done);
	if (done)
		fail(t->w, "device %d wrote %lu of %lu %s pages at %lu (ret %d)",
		     t->w->dev[d], done, n, why, g, ret);
}

static void op_mprotect(struct thr *t, unsigned long g, unsigned long n)
{
	char *p = page_addr(t->w, g);
	int ret = 0;

	mut_begin(t, g, n);
	if (!mutating("ro"))
		ret = mprotect(p, n * PS, PROT_READ);
	if (ret) {
		fail(t->w, "mprotect(PROT_READ) %lu+%lu: %s", g, n,
		     strerror(errno));
	} else {
		expect_write_refused(t, g, n, "read-only", OP_MPROTECT);
		if (mprotect(p, n * PS, PROT_READ | PROT_WRITE))
			fail(t->w, "mprotect(PROT_READ|PROT_WRITE): %s",
			     strerror(errno));
	}
	mut_end(t);
	count_op(&t->w->c, OP_MPROTECT, ret ? -EIO : 0);
	owner_verify(t, "CPU read after mprotect", g, n);
}

static int uffd_register(int uffd, void *p, size_t len, __u64 mode)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len }, .mode = mode,
	};

	return ioctl(uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

static int uffd_wp(int uffd, void *p, size_t len, bool protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

/* UFFDIO_MOVE: bytes moved (holes count), or -errno if none. */
static long uffd_move(int uffd, void *dst, void *src, size_t len)
{
	struct uffdio_move m = {
		.dst = (uintptr_t)dst, .src = (uintptr_t)src, .len = len,
		.mode = UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES,
	};
	int ret = ioctl(uffd, UFFDIO_MOVE, &m) ? -errno : 0;

	if (m.move > 0)
		return m.move;
	return ret ? ret : (long)len;
}

static void op_mremap(struct thr *t, unsigned long g, unsigned long n)
{
	struct region *r = page_region(t->w, g);
	char *p = page_addr(t->w, g), *q;
	size_t len = n * PS;
	int bad = 0;

	mut_begin(t, g, n);
	q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, t->scratch);
	if (q != t->scratch) {
		fail(t->w, "mremap %lu+%lu away: %s", g, n, strerror(errno));
		bad = 1;
		goto out;
	}
	q = mremap(t->scratch, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, p);
	if (q != p) {
		fail(t->w, "mremap %lu+%lu back: %s (pages lost)", g, n,
		     strerror(errno));
		bad = 1;
		goto out;
	}
	/* Keep the scratch area reserved; uffd dropped the moved range. */
	if (mmap(t->scratch, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_FIXED_NOREPLACE, -1, 0) != t->scratch)
		fail(t->w, "cannot reserve the mremap scratch area again");
	if (r->uffd && uffd_register(t->w->uffd, p, len,
				     UFFDIO_REGISTER_MODE_WP))
		fail(t->w, "UFFDIO_REGISTER again after mremap: %s",
		     strerror(errno));
out:
	for (unsigned long i = 0; i < n; i++)
		hist_add(t->w, g + i, OP_MREMAP, t->tid);
	mut_end(t);
	count_op(&t->w->c, OP_MREMAP, bad ? -EIO : 0);
	if (!bad)
		owner_verify(t, "CPU read after mremap", g, n);
}

static void op_uffd_wp(struct thr *t, unsigned long g, unsigned long n)
{
	int d = rnd_below(&t->rng, 2), ret;
	unsigned long done;
	char *p = page_addr(t->w, g);

	mut_begin(t, g, n);
	/* Give the device a writable mapping, then protect the pages. */
	ret = dev_write_gens(t, d, g, n, OP_UFFD_WP, &done);
	if (ret) {
		if (!transient(ret))
			fail(t->w, "device write before uffd-wp: %s",
			     strerror(-ret));
		goto out;
	}
	if (!mutating("wp"))
		ret = uffd_wp(t->w->uffd, p, n * PS, true);
	if (ret)
		fail(t->w, "UFFDIO_WRITEPROTECT %lu+%lu: %s", g, n,
		     strerror(-ret));
	else
		expect_write_refused(t, g, n, "uffd write-protected",
				     OP_UFFD_WP);
	/* Always: a page left protected would block the CPU for good. */
	ret = uffd_wp(t->w->uffd, p, n * PS, false);
	if (ret)
		fail(t->w, "UFFDIO_WRITEPROTECT off %lu+%lu: %s", g, n,
		     strerror(-ret));
out:
	mut_end(t);
	count_op(&t->w->c, OP_UFFD_WP, ret);
	owner_verify(t, "CPU read after uffd-wp", g, n);
}

/* Read one byte of each page: a CPU fault brings device pages back. */
static void touch_read(const char *p, size_t len)
{
	for (size_t o = 0; o < len; o += PS)
		(void)*(volatile const char *)(p + o);
}

/* Move pages to the scratch area and back with UFFDIO_MOVE. */
static void op_uffd_move(struct thr *t, unsigned long g, unsigned long n)
{
	char *p = page_addr(t->w, g);
	size_t len = n * PS;
	long moved, back = 0, r = 0;
	int tries;

	mut_begin(t, g, n);
	moved = uffd_move(t->w->uffd, t->mscratch, p, len);
	if (moved > 0) {
		/*
		 * Other threads' device reads and migrations may fill the
		 * holes again between MADV_DONTNEED and the move: retry.
		 */
		for (tries = 0; back < moved && tries < 200; tries++) {
			r = uffd_move(t->w->uffd, p + back, t->mscratch + back,
				      moved - back);

			if (r > 0)
				back += r;
			/* A device read faulted the hole in: drop it. */
			if (r == -EEXIST)
				madvise(p + back, moved - back, MADV_DONTNEED);
			/*
			 * A migration that had collected a page before it
			 * moved finds it at its new address (rmap) and puts a
			 * device entry there, which UFFDIO_MOVE refuses: read
			 * the pages back to system memory, keeping the bytes.
			 */
			if (r == -EFAULT)
				touch_read(t->mscratch + back, moved - back);
		}
		if (back < moved) {
			fail(t->w, "UFFDIO_MOVE back of %lu+%lu: %ld of %ld bytes (last: %s)",
			     g, n, back, moved, r < 0 ? strerror(-r) : "short");
			/* Put the data back by hand, so the run goes on. */
			memcpy(p + back, t->mscratch + back, moved - back);
			madvise(t->mscratch, len, MADV_DONTNEED);
		}
	}
	for (unsigned long i = 0; i < n; i++)
		hist_add(t->w, g + i, OP_UFFD_MOVE, t->tid);
	mut_end(t);
	count_op(&t->w->c, OP_UFFD_MOVE, moved < 0 ? moved :
		 moved < (long)len ? -EAGAIN : 0);
	if (moved < 0 && moved != -EBUSY && moved != -EFAULT &&
	    moved != -EAGAIN)
		fail(t->w, "UFFDIO_MOVE %lu+%lu: %s", g, n, strerror(-moved));
	owner_verify(t, "CPU read after UFFDIO_MOVE", g, n);
}

/* The owner checks its pages through a device: exact. */
static void op_owner_read(struct thr *t, unsigned long g, unsigned long n)
{
	int d = rnd_below(&t->rng, 2), ret;
	struct hmm_dmirror_cmd cmd;
	unsigned long i;

	ret = dmirror(t->w->fd[d], HMM_DMIRROR_READ,
		      (uintptr_t)page_addr(t->w, g), (uintptr_t)t->buf, n,
		      &cmd);
	count_op(&t->w->c, OP_VERIFY, ret);
	if (ret && !transient(ret))
		fail(t->w, "device %d read of own pages %lu+%lu: %s",
		     t->w->dev[d], g, n, strerror(-ret));
	for (i = 0; i < (ret ? cmd.cpages : n) && i < n; i++) {
		unsigned int gen = atomic_load(&t->w->pm[g + i].gen);
		char *b = t->buf + i * PS;

		if (mutating("flip") && g + i == 5)
			b[100] ^= 1;	/* as if the device read a wrong byte */
		check_page(t->w, "device read by the owner", g + i, gen, b);
	}
	if (rnd_below(&t->rng, 2))
		owner_verify(t, "CPU read by the owner", g, n);
}

/* --------------------------------------------- content-preserving ops */

/* A random range of one region: [*g, *g + *n). */
static void pick_range(struct thr *t, unsigned long *g, unsigned long *n)
{
	static const int rw[R_NR] = { 45, 40, 15 };
	struct region *r = &t->w->reg[pick(&t->rng, rw, R_NR)];
	unsigned long max = r->kind == R_THP && rnd_below(&t->rng, 2) ?
			    MAXRANGE : 64;

	/*
	 * A whole 2 MiB region of the THP region now and then: what HMM
	 * brings back from the device as one THP when all of it is there.
	 */
	if (r->kind == R_THP && HPS / PS <= MAXRANGE &&
	    !rnd_below(&t->rng, 4)) {
		*n = HPS / PS;
		*g = r->first + rnd_below(&t->rng, r->npages / *n) * *n;
		return;
	}
	*n = 1 + rnd_below(&t->rng, max);
	if (*n > r->npages)
		*n = r->npages;
	*g = r->first + rnd_below(&t->rng, r->npages - *n + 1);
}

/*
 * An error is fine if it is one any access may get, or if some page of
 * the range was being changed by its owner (unmapped by mremap or
 * UFFDIO_MOVE, read-only...); otherwise it fails the case.
 */
static void judge(struct thr *t, int op, int ret, bool stable,
		  unsigned long g, unsigned long n, int d)
{
	count_op(&t->w->c, op, ret);
	if (!ret || transient(ret) || ret == -ENOENT)
		return;
	if (!stable && (ret == -EFAULT || ret == -EINVAL || ret == -EPERM))
		return;
	fail(t->w, "%s of %lu+%lu (%s) on device %d: %s (no page changed meanwhile)",
	     op_name[op], g, n, region_name[page_region(t->w, g)->kind],
	     t->w->dev[d], strerror(-ret));
}

static void op_migrate_dev(struct thr *t)
{
	int d = rnd_below(&t->rng, 2), ret;
	struct hmm_dmirror_cmd cmd;
	unsigned long g, n;
	bool stable;

	pick_range(t, &g, &n);
	snap_before(t, g, n);
	ret = dmirror(t->w->fd[d], HMM_DMIRROR_MIGRATE_TO_DEV,
		      (uintptr_t)page_addr(t->w, g), (uintptr_t)t->buf, n,
		      &cmd);
	stable = snap_after(t, g, n);
	/* -EIO: a copy_to_device() failure injected by op_inject(). */
	if (ret == -EIO)
		count_op(&t->w->c, OP_MIGRATE_DEV, ret);
	else
		judge(t, OP_MIGRATE_DEV, ret, stable, g, n, d);
	if (!ret)
		check_read(t, "data returned by migration to the device", g, n,
			   t->buf);
}

static void op_migrate_sys(struct thr *t)
{
	int d = rnd_below(&t->rng, 2), ret;
	unsigned long g, n;
	bool stable;

	pick_range(t, &g, &n);
	snap_before(t, g, n);
	ret = dmirror(t->w->fd[d], HMM_DMIRROR_MIGRATE_TO_SYS,
		      (uintptr_t)page_addr(t->w, g), 0, n, NULL);
	stable = snap_after(t, g, n);
	judge(t, OP_MIGRATE_SYS, ret, stable, g, n, d);
}

static void op_dev_read(struct thr *t)
{
	int d = rnd_below(&t->rng, 2), ret;
	struct hmm_dmirror_cmd cmd;
	unsigned long g, n;
	bool stable;

	pick_range(t, &g, &n);
	snap_before(t, g, n);
	ret = dmirror(t->w->fd[d], HMM_DMIRROR_READ,
		      (uintptr_t)page_addr(t->w, g), (uintptr_t)t->buf, n,
		      &cmd);
	stable = snap_after(t, g, n);
	judge(t, OP_DEV_READ, ret, stable, g, n, d);
	check_read(t, "device read", g, ret ? (cmd.cpages < n ? cmd.cpages : n) : n,
		   t->buf);
}

static void op_snapshot(struct thr *t)
{
	static const unsigned char ok[] = {
		HMM_DMIRROR_PROT_ERROR, HMM_DMIRROR_PROT_NONE,
		HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
		HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE,
		HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL,
		HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE, HMM_DMIRROR_PROT_ZERO,
	};
	int d = rnd_below(&t->rng, 2), ret;
	unsigned long g, n, i;
	unsigned char *st = (unsigned char *)t->buf;
	bool stable;

	pick_range(t, &g, &n);
	snap_before(t, g, n);
	ret = dmirror(t->w->fd[d], HMM_DMIRROR_SNAPSHOT,
		      (uintptr_t)page_addr(t->w, g), (uintptr_t)st, n, NULL);
	stable = snap_after(t, g, n);
	judge(t, OP_SNAPSHOT, ret, stable, g, n, d);
	for (i = 0; !ret && i < n; i++) {
		unsigned char kind = st[i] == HMM_DMIRROR_PROT_ERROR ? st[i] :
				     st[i] & ~(HMM_DMIRROR_PROT_READ |
					       HMM_DMIRROR_PROT_WRITE |
					       HMM_DMIRROR_PROT_PMD |
					       HMM_DMIRROR_PROT_PUD);

		if (!memchr(ok, kind, sizeof(ok)))
			fail(t->w, "snapshot of page %lu: state %#x", g + i,
			     st[i]);
	}
}

static void op_exclusive(struct thr *t)
{
	int d = rnd_below(&t->rng, 2), ret;
	struct hmm_dmirror_cmd cmd;
	unsigned long g, n;
	bool stable;

	pick_range(t, &g, &n);
	snap_before(t, g, n);
	ret = dmirror(t->w->fd[d], HMM_DMIRROR_EXCLUSIVE,
		      (uintptr_t)page_addr(t->w, g), (uintptr_t)t->buf, n,
		      &cmd);
	stable = snap_after(t, g, n);
	/*
	 * Shared memory and (6.12) large folios cannot be made exclusive; a
	 * VMA registered for userfaultfd write-protection refuses it (-EPERM;
	 * an mremap() moves pages out of the registration for a while).
	 */
	if ((page_region(t->w, g)->kind != R_ANON && ret) ||
	    (page_region(t->w, g)->uffd && ret == -EPERM))
		count_op(&t->w->c, OP_EXCLUSIVE, ret);
	else
		judge(t, OP_EXCLUSIVE, ret, stable, g, n, d);
	if (!ret)
		check_read(t, "data returned by exclusive access", g, n,
			   t->buf);
	dmirror(t->w->fd[d], HMM_DMIRROR_CHECK_EXCLUSIVE,
		(uintptr_t)page_addr(t->w, g), 0, n, NULL);
}

/* Device memory removed (and pages evicted) under the workload. */
static void op_release(struct thr *t)
{
	int d = rnd_below(&t->rng, 2), ret;
	uint64_t now = now_ms();

	if (now - t->w->last_release < 2000)
		return;
	t->w->last_release = now;
	ret = dmirror(t->w->fd[d], HMM_DMIRROR_RELEASE,
		      (uintptr_t)t->w->reg[R_ANON].base, 0, 1, NULL);
	count_op(&t->w->c, OP_RELEASE, ret);
	if (ret)
		fail(t->w, "HMM_DMIRROR_RELEASE on device %d: %s",
		     t->w->dev[d], strerror(-ret));
}

/* Copy injection that loses no data: copy_to_device() modes, CLEAN. */
static void op_inject(struct thr *t)
{
	static const int modes[] = {
		HMM_DMIRROR_INJECT_NONE, HMM_DMIRROR_INJECT_NONE,
		HMM_DMIRROR_INJECT_NONE, HMM_DMIRROR_INJECT_ENOMEM,
		HMM_DMIRROR_INJECT_EIO, HMM_DMIRROR_INJECT_EVERY_NTH,
	};
	int d = rnd_below(&t->rng, 2), mode, ret;
	unsigned long nth;

	mode = modes[rnd_below(&t->rng, 6)];
	nth = mode == HMM_DMIRROR_INJECT_EVERY_NTH ? 2 + rnd_below(&t->rng, 6) :
						     rnd_below(&t->rng, 64);
	ret = dmirror(t->w->fd[d], HMM_DMIRROR_INJECT, 0, mode, nth, NULL);
	if (!ret)
		ret = dmirror(t->w->fd[d], HMM_DMIRROR_INJECT, 1,
			      rnd_below(&t->rng, 2) ?
			      HMM_DMIRROR_INJECT_CLEAN : HMM_DMIRROR_INJECT_NONE,
			      0, NULL);
	count_op(&t->w->c, OP_INJECT, ret);
	if (ret)
		fail(t->w, "HMM_DMIRROR_INJECT: %s", strerror(-ret));
}

/*
 * HMM's debugfs files, read whole while mirrors come and go (forks,
 * releases, exits, module unloads): a clean read that starts with the
 * header. Without debugfs there is nothing to read.
 */
static void read_debugfs(struct thr *t)
{
	static const char *const files[] = {
		"/sys/kernel/debug/hmm/stats", "/sys/kernel/debug/hmm/mirrors",
	};
	const char *file = files[rnd_below(&t->rng, 2)];
	char buf[4096];
	ssize_t n, first = -1;
	int fd = open(file, O_RDONLY);

	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (first < 0) {
			first = n;
			if (strncmp(buf, "device ", 7))
				fail(t->w, "%s: no header", file);
		}
	if (n < 0)
		fail(t->w, "reading %s: %s", file, strerror(errno));
	close(fd);
}

static void op_stats(struct thr *t)
{
	int d = rnd_below(&t->rng, 2), ret;
	struct hmm_dmirror_stats st;

	read_debugfs(t);
	ret = get_stats(t->w->fd[d], &st);
	count_op(&t->w->c, OP_STATS, ret);
	if (ret)
		fail(t->w, "HMM_DMIRROR_STATS: %s", strerror(-ret));
	else if (st.stale != t->w->base[d].stale)
		fail(t->w, "device %d: the checker saw %llu stale device mappings",
		     t->w->dev[d], st.stale - t->w->base[d].stale);
	else if (st.dead && !t->w->base[d].dead)
		fail(t->w, "device %d: the mirror was killed", t->w->dev[d]);
	if (!ret) {
		t->w->base[d].stale = st.stale;	/* each report once */
		t->w->base[d].dead = st.dead;
	}
}

/* ---------------------------------------------------------------- fork */

/*
 * The child: its private pages must hold what the parent's held at fork
 * (no owner was changing any: fork took the lock the owners read);
 * shared pages are checked live. Then it writes its own copies, maybe
 * through a device of its own, and checks them again.
 */
static int child_main(struct thr *t)
{
	struct wl *w = t->w;
	unsigned int *gens = t->fork_gens;
	unsigned long g, before = atomic_load(&w->c.failures);
	uint64_t rng = t->rng ^ (uint64_t)getpid() << 17;
	struct hmm_dmirror_cmd cmd;
	int fd, d, ret;

	in_child = true;
	atomic_store(&w->c.reported, 0);
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	if (mutating("child"))
		gens[7]++;
	for (g = 0; g < w->npages; g++) {
		struct region *r = page_region(w, g);
		unsigned int s1, s2, gen;

		if (r->kind != R_SHARED) {
			check_page(w, "fork child's copy", g, gens[g],
				   page_addr(w, g));
			continue;
		}
		s1 = atomic_load(&w->pm[g].seq);
		gen = atomic_load(&w->pm[g].gen);
		memcpy(t->buf, page_addr(w, g), PS);
		s2 = atomic_load(&w->pm[g].seq);
		if (s1 == s2 && !(s1 & 1))
			check_page(w, "fork child's shared page", g, gen, t->buf);
	}
	/* Its own copies: written, then checked (and through a device). */
	for (g = 0; g < w->reg[R_SHARED].first; g++) {
		if (rnd_below(&rng, 8))
			continue;
		gens[g] = 0x40000000 | (uint32_t)rnd(&rng);
		fill_page(page_addr(w, g), g, gens[g]);
	}
	d = rnd_below(&rng, 2);
	fd = open_dev(w->dev[d]);
	if (fd >= 0) {
		unsigned long n = 1 + rnd_below(&rng, 64);

		g = rnd_below(&rng, w->reg[R_ANON].npages - n + 1);
		ret = dmirror(fd, HMM_DMIRROR_MIGRATE_TO_DEV,
			      (uintptr_t)page_addr(w, g), (uintptr_t)t->buf, n,
			      &cmd);
		for (unsigned long i = 0; !ret && i < n; i++)
			check_page(w, "fork child's migration", g + i,
				   gens[g + i], t->buf + i * PS);
		if (ret && ret != -ENOENT && ret != -ENOMEM && ret != -EBUSY)
			fail(w, "fork child: migration: %s", strerror(-ret));
	}
	for (g = 0; g < w->reg[R_SHARED].first; g++)
		check_page(w, "fork child's own write", g, gens[g],
			   page_addr(w, g));
	if (fd >= 0)
		close(fd);
	return atomic_load(&w->c.failures) != before;
}

/* Collect the child, if done; fail it if it has hung. */
static void reap_child(struct thr *t, bool wait)
{
	uint64_t limit = 60000ULL * slow;
	int status;
	pid_t r;

	if (!t->child)
		return;
	do {
		r = waitpid(t->child, &status, WNOHANG);
		if (r == 0 && now_ms() - t->child_t0 > limit) {
			fail(t->w, "fork child %d did not finish in %llu s",
			     t->child, (unsigned long long)limit / 1000);
			kill(t->child, SIGKILL);
			r = waitpid(t->child, &status, 0);
		}
		if (r == 0 && wait)
			usleep(10000);
	} while (r == 0 && wait);
	if (r == 0)
		return;
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		fail(t->w, "fork child %d: %s %d", t->child,
		     r > 0 && WIFSIGNALED(status) ? "killed by signal" :
		     "exit status", r > 0 && WIFSIGNALED(status) ?
		     WTERMSIG(status) : WEXITSTATUS(status));
	t->child = 0;
}

static void op_fork(struct thr *t)
{
	struct wl *w = t->w;
	unsigned long g;
	pid_t pid;

	reap_child(t, false);
	if (t->child)
		return;
	pthread_rwlock_wrlock(&w->forklock);
	for (g = 0; g < w->npages; g++)
		t->fork_gens[g] = atomic_load(&w->pm[g].gen);
	pthread_mutex_lock(&out_lock);	/* no half-written stdio buffer */
	pid = fork();
	if (!pid)
		_exit(child_main(t));
	pthread_mutex_unlock(&out_lock);
	pthread_rwlock_unlock(&w->forklock);
	count_op(&w->c, OP_FORK, pid < 0 ? -errno : 0);
	/*
	 * 6.12's fork fails with -ENOMEM when it cannot lock a page that a
	 * device has exclusive access to (copy_nonpresent_pte()): retried.
	 */
	if (pid < 0) {
		if (errno != ENOMEM && errno != EAGAIN)
			fail(w, "fork: %s", strerror(errno));
		return;
	}
	for (g = 0; g < w->npages; g++)
		hist_add(w, g, OP_FORK, t->tid);
	t->child = pid;
	t->child_t0 = now_ms();
}

/* ------------------------------------------------------------ threads */

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	struct thr *t = self_thr;

	if (!t || !t->jb_ok || in_child) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	fail(t->w, "signal %d at %p in thread %d during %s", sig, si->si_addr,
	     t->tid, op_name[t->cur_op]);
	siglongjmp(t->jb, 1);
}

static void owner_step(struct thr *t)
{
	/* cpu-w dev-w dontneed mprotect mremap uffd-wp uffd-move verify */
	int wt[8] = { 25, 20, 8, 6, 6, 8, 8, 19 };
	struct wl *w = t->w;
	unsigned long s, k, slot0, g, n, max;
	struct region *r;
	int op;

	/* One of this owner's slots (slot k belongs to owner k % NOWNERS). */
	k = t->tid + NOWNERS * rnd_below(&t->rng,
					 (w->nslots - t->tid + NOWNERS - 1) / NOWNERS);
	for (r = &w->reg[0], s = k; s >= r->npages / r->slot; r++)
		s -= r->npages / r->slot;
	slot0 = r->first + s * r->slot;
	if (r->kind != R_ANON || !w->can_wp)
		wt[5] = 0;
	if (r->kind == R_SHARED && w->can_wp_shmem)
		wt[5] = 8;
	if (r->kind != R_ANON || !w->can_move)
		wt[6] = 0;
	op = pick(&t->rng, wt, 8);
	max = r->slot < 16 ? r->slot : 16;
	n = rnd_below(&t->rng, 5) ? 1 + rnd_below(&t->rng, max) : r->slot;
	g = slot0 + rnd_below(&t->rng, r->slot - n + 1);
	t->cur_op = op;
	switch (op) {
	case 0: op_cpu_write(t, g, n); break;
	case 1: op_dev_write(t, g, n); break;
	case 2: op_dontneed(t, g, n); break;
	case 3: op_mprotect(t, g, n); break;
	case 4: op_mremap(t, g, n); break;
	case 5: op_uffd_wp(t, g, n); break;
	case 6: op_uffd_move(t, g, n); break;
	default: op_owner_read(t, g, n); break;
	}
}

static void other_step(struct thr *t)
{
	/* mig-dev mig-sys read snap excl fork release inject stats */
	int wt[9] = { 30, 12, 30, 8, 8, 3, 1, 4, 4 };
	int op;

	if (t->tid != NOWNERS)
		wt[5] = 0;	/* one forking thread: one child at a time */
	op = pick(&t->rng, wt, 9);
	switch (op) {
	case 0: t->cur_op = OP_MIGRATE_DEV; op_migrate_dev(t); break;
	case 1: t->cur_op = OP_MIGRATE_SYS; op_migrate_sys(t); break;
	case 2: t->cur_op = OP_DEV_READ; op_dev_read(t); break;
	case 3: t->cur_op = OP_SNAPSHOT; op_snapshot(t); break;
	case 4: t->cur_op = OP_EXCLUSIVE; op_exclusive(t); break;
	case 5: t->cur_op = OP_FORK; op_fork(t); break;
	case 6: t->cur_op = OP_RELEASE; op_release(t); break;
	case 7: t->cur_op = OP_INJECT; op_inject(t); break;
	default: t->cur_op = OP_STATS; op_stats(t); break;
	}
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;

	self_thr = t;
	if (sigsetjmp(t->jb, 1)) {
		if (t->in_mut)
			mut_end(t);
	}
	t->jb_ok = true;
	while (!atomic_load(&t->w->stop)) {
		t->since = now_ms();
		if (t->tid < NOWNERS)
			owner_step(t);
		else
			other_step(t);
	}
	t->jb_ok = false;
	if (t->child)
		reap_child(t, true);
	atomic_store(&t->done, true);
	return NULL;
}

/* ------------------------------------------------------------- a case */

struct config {
	const char *name;
	int dev[2];
};

static const struct config configs[] = {
	{ "private 0+1", { 0, 1 } },
	{ "coherent 2+3", { 2, 3 } },
	{ "mixed 0+2", { 0, 2 } },
};

static int uffd_features;	/* what the kernel offers */

static void uffd_setup(struct wl *w)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd;

	fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return;
	}
	close(fd);
	uffd_features = api.features;
	fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	api.api = UFFD_API;
	api.features = api.features & (UFFD_FEATURE_MOVE |
				       UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	w->uffd = fd;
	w->can_wp = !uffd_register(fd, w->reg[R_ANON].base,
				   w->reg[R_ANON].npages * PS,
				   UFFDIO_REGISTER_MODE_WP);
	w->reg[R_ANON].uffd = w->can_wp;
	w->can_move = w->can_wp && (api.features & UFFD_FEATURE_MOVE);
	if (api.features & UFFD_FEATURE_WP_HUGETLBFS_SHMEM)
		w->can_wp_shmem = !uffd_register(fd, w->reg[R_SHARED].base,
						 w->reg[R_SHARED].npages * PS,
						 UFFDIO_REGISTER_MODE_WP);
	w->reg[R_SHARED].uffd = w->can_wp_shmem;
}

static int map_regions(struct wl *w)
{
	static const unsigned long np[R_NR] = { 256, 1024, 128 };
	static const unsigned long slot[R_NR] = { 16, 512, 16 };
	unsigned long first = 0;
	int r;

	for (r = 0; r < R_NR; r++) {
		struct region *reg = &w->reg[r];

		reg->kind = r;
		reg->npages = np[r];
		reg->slot = slot[r];
		reg->first = first;
		reg->memfd = -1;
		first += np[r];
		if (r == R_SHARED) {
			reg->memfd = memfd_create("hmm-stress", MFD_CLOEXEC);
			if (reg->memfd < 0 ||
			    ftruncate(reg->memfd, np[r] * PS))
				return -1;
			reg->base = map_aligned(np[r] * PS, PS, PROT_READ |
						PROT_WRITE, MAP_SHARED,
						reg->memfd);
		} else {
			reg->base = map_aligned(np[r] * PS, HPS, PROT_READ |
						PROT_WRITE, MAP_PRIVATE |
						MAP_ANONYMOUS, -1);
		}
		if (!reg->base)
			return -1;
		madvise(reg->base, np[r] * PS, r == R_THP ? MADV_HUGEPAGE :
			MADV_NOHUGEPAGE);
	}
	w->npages = first;
	w->nslots = 0;
	for (r = 0; r < R_NR; r++)
		w->nslots += w->reg[r].npages / w->reg[r].slot;
	return 0;
}

/* Every page gets a first generation, written by the CPU. */
static void fill_regions(struct wl *w)
{
	unsigned long g;

	for (g = 0; g < w->npages; g++) {
		atomic_store(&w->pm[g].gen, 1);
		fill_page(page_addr(w, g), g, 1);
	}
}

static int thread_setup(struct wl *w, struct thr *t, int tid)
{
	t->w = w;
	t->tid = tid;
	t->rng = w->seed * 1000003 + tid;
	t->buf = map_aligned(MAXRANGE * PS, PS, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (!t->buf)
		return -1;
	if (tid >= NOWNERS) {
		t->fork_gens = calloc(w->npages, sizeof(*t->fork_gens));
		return t->fork_gens ? 0 : -1;
	}
	t->scratch = map_aligned(HPS, HPS, PROT_NONE, MAP_PRIVATE |
				 MAP_ANONYMOUS, -1);
	t->mscratch = map_aligned(MAXRANGE * PS, PS, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (!t->scratch || !t->mscratch)
		return -1;
	madvise(t->mscratch, MAXRANGE * PS, MADV_NOHUGEPAGE);
	if (w->can_move && uffd_register(w->uffd, t->mscratch, MAXRANGE * PS,
					 UFFDIO_REGISTER_MODE_WP))
		w->can_move = false;
	return 0;
}

static void thread_teardown(struct thr *t)
{
	if (t->buf)
		munmap(t->buf, MAXRANGE * PS);
	if (t->scratch)
		munmap(t->scratch, HPS);
	if (t->mscratch)
		munmap(t->mscratch, MAXRANGE * PS);
	free(t->fork_gens);
}

/* After the threads: every page through both devices, then the CPU. */
static void final_verify(struct wl *w)
{
	struct thr *t = &w->th[0];
	struct hmm_dmirror_cmd cmd;
	unsigned long g, n, i;
	int d, ret;

	for (d = 0; d < 2; d++) {
		dmirror(w->fd[d], HMM_DMIRROR_INJECT, 0, 0, 0, NULL);
		dmirror(w->fd[d], HMM_DMIRROR_INJECT, 1, 0, 0, NULL);
	}
	for (d = 0; d < 2; d++) {
		for (g = 0; g < w->npages; g += n) {
			struct region *r = page_region(w, g);

			n = r->first + r->npages - g;
			if (n > MAXRANGE)
				n = MAXRANGE;
			ret = dmirror(w->fd[d], HMM_DMIRROR_READ,
				      (uintptr_t)page_addr(w, g),
				      (uintptr_t)t->buf, n, &cmd);
			if (ret) {
				fail(w, "final device %d read of %lu+%lu: %s",
				     w->dev[d], g, n, strerror(-ret));
				continue;
			}
			for (i = 0; i < n; i++)
				check_page(w, "final device read", g + i,
					   atomic_load(&w->pm[g + i].gen),
					   t->buf + i * PS);
		}
	}
	for (g = 0; g < w->npages; g++)
		check_page(w, "final CPU read", g, atomic_load(&w->pm[g].gen),
			   page_addr(w, g));
}

/*
 * Device pages in use on dev must drop back to base (they are freed as
 * the pages are unmapped), and the device must have one mirror: ours.
 * *backing: the dummy device's backing pages (system pages that hold the
 * data of device-private pages) beyond one per device-private page in use.
 */
static long leaked_pages(int dev, unsigned long base, unsigned long *mirrors,
			 unsigned long long *stale, long long *backing)
{
	struct hmm_dmirror_stats st;
	uint64_t t0 = now_ms();
	int fd, ret;

	fd = open_dev(dev);
	if (fd < 0)
		return -errno;
	/*
	 * Files closed by exiting children and mirrors released from
	 * deferred work take a while on a busy machine: wait up to 10 s for
	 * the pages and the other mirrors to go.
	 */
	do {
		ret = get_stats(fd, &st);
		if (ret || (st.device_pages <= base && st.mirrors <= 1))
			break;
		usleep(20000);
	} while (now_ms() - t0 < 10000ULL * slow);
	close(fd);
	if (ret)
		return ret;
	*mirrors = st.mirrors;
	*stale = st.stale;
	*backing = (long long)st.backing_pages -
		   (long long)(dev < 2 ? st.device_pages : 0);
	return st.device_pages - base;
}

static void progress_line(struct wl *w, uint64_t t0)
{
	unsigned long ops = 0;
	int i;

	for (i = 0; i < OP_NR; i++)
		ops += atomic_load(&w->c.ops[i]);
	say("[%5.1fs] case %d: %lu operations, %.1f MiB verified, %lu corrupted bytes, %lu failed checks",
	    (now_ms() - t0) / 1000.0, w->no, ops,
	    atomic_load(&w->c.verified) / 1048576.0,
	    atomic_load(&w->c.bad_bytes), atomic_load(&w->c.failures));
}

/* Stop the threads; false if one is stuck (it is named). */
static bool stop_threads(struct wl *w)
{
	uint64_t t0 = now_ms(), limit = 60000ULL * slow;
	bool all;
	int i;

	atomic_store(&w->stop, 1);
	do {
		all = true;
		for (i = 0; i < NTHREADS; i++)
			all &= atomic_load(&w->th[i].done);
		if (!all)
			usleep(20000);
	} while (!all && now_ms() - t0 < limit);
	for (i = 0; i < NTHREADS; i++) {
		struct thr *t = &w->th[i];

		if (atomic_load(&t->done)) {
			pthread_join(t->th, NULL);
			continue;
		}
		fail(w, "thread %d stuck for %.1f s in %s", i,
		     (now_ms() - t->since) / 1000.0, op_name[t->cur_op]);
	}
	return all;
}

static int open_case_devices(struct wl *w, const struct config *cfg)
{
	int d;

	for (d = 0; d < 2; d++) {
		w->dev[d] = cfg->dev[d];
		w->fd[d] = open_dev(w->dev[d]);
		if (w->fd[d] < 0 || get_stats(w->fd[d], &w->base[d])) {
			say("cannot open /dev/hmm_dmirror%d: %s", w->dev[d],
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void close_case(struct wl *w)
{
	int r, d;

	for (r = 0; r < R_NR; r++) {
		if (mutating("leak") && r == R_ANON && w->fd[0] >= 0) {
			/* Leave 16 pages on the device: the leak check bites. */
			dmirror(w->fd[0], HMM_DMIRROR_MIGRATE_TO_DEV,
				(uintptr_t)w->reg[r].base,
				(uintptr_t)w->th[0].buf, 16, NULL);
			continue;
		}
		if (w->reg[r].base)
			munmap(w->reg[r].base, w->reg[r].npages * PS);
		if (w->reg[r].memfd >= 0)
			close(w->reg[r].memfd);
	}
	for (d = 0; d < 2; d++)
		if (w->fd[d] >= 0)
			close(w->fd[d]);
	if (w->uffd >= 0)
		close(w->uffd);
	for (d = 0; d < NTHREADS; d++)
		if (!mutating("leak") || d)
			thread_teardown(&w->th[d]);
	if (w->pm)
		munmap(w->pm, w->npages * sizeof(*w->pm));
}

/* The device still takes a page (its memory can be added again). */
static bool device_usable(int dev)
{
	char *p = map_aligned(PS, PS, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1);
	int fd = open_dev(dev), ret = -1;
	static char copy[PS];

	if (p && fd >= 0) {
		memset(p, 0x5a, PS);
		ret = dmirror(fd, HMM_DMIRROR_MIGRATE_TO_DEV, (uintptr_t)p,
			      (uintptr_t)copy, 1, NULL);
		if (ret)
			say("device %d: migration of one page: %s", dev,
			    strerror(-ret));
	}
	if (p)
		munmap(p, PS);
	if (fd >= 0)
		close(fd);
	return !ret;
}

/* After the case: no device page left in use, no stale mapping seen. */
static void wl_leaks(struct wl *w, const unsigned long *base_pages,
		       const unsigned long long *stale0)
{
	unsigned long mirrors;
	unsigned long long stale;
	long long backing;
	long leak;
	int d;

	for (d = 0; d < 2; d++) {
		leak = leaked_pages(w->dev[d], base_pages[d], &mirrors, &stale,
				    &backing);
		if (leak < 0) {
			fail(w, "device %d: stats after the case: %s",
			     w->dev[d], strerror(-leak));
			continue;
		}
		say("case %d: device %d: %ld device pages leaked, %llu stale mappings seen, %lu mirrors left",
		    w->no, w->dev[d], leak, stale - stale0[d], mirrors - 1);
		if (leak)
			fail(w, "device %d: %ld device pages still in use",
			     w->dev[d], leak);
		if (backing)
			fail(w, "device %d: %lld backing pages beyond one per device-private page in use",
			     w->dev[d], backing);
		if (stale != stale0[d])
			fail(w, "device %d: checker counter stale grew by %llu",
			     w->dev[d], stale - stale0[d]);
		if (mirrors != 1)
			fail(w, "device %d: %lu mirrors not freed", w->dev[d],
			     mirrors - 1);
		if (!device_usable(w->dev[d]))
			fail(w, "device %d takes no page any more", w->dev[d]);
	}
}

static bool run_case(int no, uint64_t seed, const struct config *cfg,
		     unsigned int seconds)
{
	struct wl *w = calloc(1, sizeof(*w));
	unsigned long base_pages[2], mirrors;
	unsigned long long stale0[2];
	pthread_rwlockattr_t ra;
	uint64_t t0, next;
	bool ok = true;
	int i, d;

	if (!w)
		return false;
	w->no = no;
	w->seed = seed;
	w->cfg = cfg->name;
	w->uffd = -1;
	w->fd[0] = w->fd[1] = -1;
	w->th = calloc(NTHREADS, sizeof(*w->th));
	case_salt = mix64(seed);
	kmsg("HMM-STRESS: case %d seed %llu %s", no, (unsigned long long)seed,
	     cfg->name);
	for (d = 0; d < 2; d++) {
		long long backing;
		long l = leaked_pages(cfg->dev[d], 0, &mirrors, &stale0[d],
				      &backing);

		base_pages[d] = l > 0 ? l : 0;
	}
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&w->forklock, &ra);
	if (!w->th || map_regions(w) || open_case_devices(w, cfg)) {
		say("case %d: setup failed: %s", no, strerror(errno));
		ok = false;
		goto out;
	}
	w->pm = mmap(NULL, w->npages * sizeof(*w->pm), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w->pm == MAP_FAILED) {
		w->pm = NULL;
		ok = false;
		goto out;
	}
	uffd_setup(w);
	fill_regions(w);
	for (i = 0; i < NTHREADS; i++) {
		if (thread_setup(w, &w->th[i], i)) {
			say("case %d: thread setup failed", no);
			ok = false;
			goto out;
		}
	}
	say("case %d: seed %llu, %s, %lu pages (%s %lu, %s %lu, %s %lu), %d owner and %d other threads, %us; uffd: %s%s%s",
	    no, (unsigned long long)seed, cfg->name, w->npages,
	    region_name[0], w->reg[0].npages, region_name[1], w->reg[1].npages,
	    region_name[2], w->reg[2].npages, NOWNERS, NOTHERS, seconds,
	    w->can_wp ? "wp" : "no wp", w->can_wp_shmem ? ", shmem wp" : "",
	    w->can_move ? ", move" : ", no move");
	t0 = w->t0 = now_ms();
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&w->th[i].th, NULL, thread_main, &w->th[i]);
	for (next = t0 + 1000; now_ms() < t0 + seconds * 1000ULL; next += 1000) {
		while (now_ms() < next)
			usleep(20000);
		if (progress)
			progress_line(w, t0);
	}
	if (!stop_threads(w)) {
		say("case %d: a thread is stuck in the kernel; giving up", no);
		print_ops("stuck case", &w->c);
		tap_result(false, NULL, "seed-%llu %s", (unsigned long long)seed,
			   cfg->name);
		tap_end();
		_exit(1);
	}
	final_verify(w);
	print_ops("case", &w->c);
out:
	close_case(w);
	if (ok)
		wl_leaks(w, base_pages, stale0);
	ok = ok && !atomic_load(&w->c.failures);
	free(w->th);
	free(w);
	return ok;
}

/* ------------------------------------------------------- fault cases */

static const char *cname;	/* the running non-workload case */
static int cfails;

#define CHECK(cond, fmt, ...) do {					\
	if (!(cond)) {							\
		cfails++;						\
		atomic_fetch_add(&total.failures, 1);			\
		say("FAIL %s: %s: " fmt, cname, #cond, ##__VA_ARGS__);	\
	}								\
} while (0)

static void fill32(void *p, size_t size, uint32_t seed)
{
	uint32_t *w = p;

	for (size_t i = 0; i < size / 4; i++)
		w[i] = seed + i;
}

/* Words of p that differ from the pattern; counted as verified bytes. */
static size_t bad32(const void *p, size_t size, uint32_t seed)
{
	const uint32_t *w = p;
	size_t bad = 0;

	for (size_t i = 0; i < size / 4; i++)
		bad += w[i] != seed + (uint32_t)i;
	if (mutating("pattern") && size > 100)
		bad++;
	atomic_fetch_add(&total.verified, size);
	if (bad)
		atomic_fetch_add(&total.bad_bytes, bad * 4);
	return bad;
}

static sigjmp_buf touch_jb;

static void on_touch_sigbus(int sig)
{
	siglongjmp(touch_jb, 1);
}

/* Read a word of p: 1 if it raised SIGBUS (main thread only). */
static int touch_sigbus(volatile const char *p)
{
	struct sigaction sa = { .sa_handler = on_touch_sigbus }, old;
	int ret = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(touch_jb, 1))
		ret = 1;
	else
		(void)*(volatile const uint32_t *)p;
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

static unsigned long dev_pages(int fd)
{
	struct hmm_dmirror_stats st;

	return get_stats(fd, &st) ? ~0UL : st.device_pages;
}

/* Device pages in use drop to want (freeing may lag a little). */
static unsigned long wait_pages(int fd, unsigned long want)
{
	uint64_t t0 = now_ms();
	unsigned long n;

	while ((n = dev_pages(fd)) != want && now_ms() - t0 < 2000ULL * slow)
		usleep(10000);
	return n;
}

/*
 * The buffer of a fault case: 64 pages (several CPU fault windows), the first
 * half at the end of one 2 MiB migration chunk and the second half at the
 * start of the next.
 */
#define FPAGES	64UL

/* The first page of the migration chunk of page @i of a fault buffer. */
static unsigned long fchunk(unsigned long i)
{
	return i < FPAGES / 2 ? 0 : FPAGES / 2;
}

static char *fbuf(uint32_t seed)
{
	char *r = map_aligned(2 * CHUNK_SIZE, CHUNK_SIZE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1);
	char *p = r ? r + CHUNK_SIZE - FPAGES / 2 * PS : NULL;

	if (p) {
		munmap(r, p - r);
		munmap(p + FPAGES * PS, r + 2 * CHUNK_SIZE - (p + FPAGES * PS));
		madvise(p, FPAGES * PS, MADV_NOHUGEPAGE);
		fill32(p, FPAGES * PS, seed);
	}
	return p;
}

static int migrate(int fd, void *buf, void *copy, unsigned long n)
{
	return dmirror(fd, HMM_DMIRROR_MIGRATE_TO_DEV, (uintptr_t)buf,
		       (uintptr_t)copy, n, NULL);
}

static int inject(int fd, int which, int mode, unsigned long nth)
{
	return dmirror(fd, HMM_DMIRROR_INJECT, which, mode, nth, NULL);
}

/*
 * copy_to_device() fails with mode at entry nth: the chunk before the
 * failing one (if the failure is in the second) stays on the device,
 * nothing else moves, no byte is lost, and the same migration then moves
 * everything.
 */
static void ctd_abort(int dev, int mode, unsigned long nth, const char *warn)
{
	static char copy[FPAGES * PS];
	int fd = open_dev(dev), want = mode == HMM_DMIRROR_INJECT_ENOMEM ?
					-ENOMEM : -EIO;
	uint32_t seed = 0x1000 * (mode + 1) + nth;
	unsigned long base, moved = fchunk(nth);
	char *buf = fbuf(seed);
	int ret;

	CHECK(fd >= 0 && buf, "setup");
	if (fd < 0 || !buf)
		return;
	base = dev_pages(fd);
	CHECK(!inject(fd, 0, mode, nth), "inject");
	if (warn)
		kmsg("HMM-EXPECT-WARN-BEGIN: %s", warn);
	ret = migrate(fd, buf, copy, FPAGES);
	if (warn)
		kmsg("HMM-EXPECT-WARN-END: %s", warn);
	CHECK(ret == want, "device %d mode %d nth %lu: migration returned %d",
	      dev, mode, nth, ret);
	CHECK(on_device(fd, dev, buf, FPAGES) == (long)moved,
	      "device %d mode %d nth %lu: %ld pages on the device, want %lu",
	      dev, mode, nth, on_device(fd, dev, buf, FPAGES), moved);
	CHECK(dev_pages(fd) == base + moved, "device pages %lu, want %lu",
	      dev_pages(fd), base + moved);
	CHECK(!inject(fd, 0, HMM_DMIRROR_INJECT_NONE, 0), "inject off");
	CHECK(!bad32(buf, FPAGES * PS, seed), "data after the abort");
	/* Coherent memory is read in place: move it back explicitly. */
	CHECK(dmirror(fd, HMM_DMIRROR_MIGRATE_TO_SYS, (uintptr_t)buf, 0, FPAGES,
		      NULL) == 0, "migration back");
	CHECK(wait_pages(fd, base) == base, "device %d: device pages %lu after migrating back, want %lu",
	      dev, dev_pages(fd), base);
	ret = migrate(fd, buf, copy, FPAGES);
	CHECK(!ret, "migration after the abort: %d", ret);
	CHECK(on_device(fd, dev, buf, FPAGES) == FPAGES, "not all moved");
	if (!ret)
		CHECK(!bad32(copy, FPAGES * PS, seed), "data the device read");
	munmap(buf, FPAGES * PS);
	CHECK(wait_pages(fd, base) == base, "device %d: %lu device pages leaked",
	      dev, dev_pages(fd) - base);
	close(fd);
}

/* Every nth page fails alone and stays in system memory. */
static void ctd_every_nth(int dev, unsigned long nth)
{
	static char copy[FPAGES * PS];
	int fd = open_dev(dev);
	uint32_t seed = 0x7000 + nth;
	char *buf = fbuf(seed);
	unsigned long base;

	CHECK(fd >= 0 && buf, "setup");
	if (fd < 0 || !buf)
		return;
	base = dev_pages(fd);
	CHECK(!inject(fd, 0, HMM_DMIRROR_INJECT_EVERY_NTH, nth), "inject");
	CHECK(migrate(fd, buf, copy, FPAGES) == -ENOENT, "every %lu: not -ENOENT",
	      nth);
	CHECK(on_device(fd, dev, buf, FPAGES) == (long)(FPAGES - FPAGES / nth),
	      "every %lu: %ld on the device, want %lu", nth,
	      on_device(fd, dev, buf, FPAGES), FPAGES - FPAGES / nth);
	CHECK(!bad32(buf, FPAGES * PS, seed), "data");
	munmap(buf, FPAGES * PS);
	CHECK(wait_pages(fd, base) == base, "device pages leaked");
	close(fd);
}

/* A driver filling an entry without a source: warned, page given back. */
static void ctd_stray(int dev)
{
	static char copy[FPAGES * PS];
	struct hmm_dmirror_stats st;
	int fd = open_dev(dev), ret;
	char *buf = fbuf(0x9000);
	unsigned long base;

	CHECK(fd >= 0 && buf, "setup");
	if (fd < 0 || !buf)
		return;
	base = dev_pages(fd);
	CHECK(!migrate(fd, buf, copy, 1), "first page");
	get_stats(fd, &st);
	CHECK(!inject(fd, 0, HMM_DMIRROR_INJECT_STRAY, 0), "inject");
	kmsg("HMM-EXPECT-WARN-BEGIN: hmm-copy-to-device-stray");
	ret = migrate(fd, buf, copy, WINDOW);
	kmsg("HMM-EXPECT-WARN-END: hmm-copy-to-device-stray");
	CHECK(!ret, "device %d: stray migration: %d", dev, ret);
	CHECK(!inject(fd, 0, HMM_DMIRROR_INJECT_NONE, 0), "inject off");
	CHECK(on_device(fd, dev, buf, WINDOW) == (long)WINDOW, "pages moved");
	CHECK(dev_pages(fd) == base + WINDOW, "device pages %lu, want %lu",
	      dev_pages(fd), base + WINDOW);
	get_stats(fd, &st);
	CHECK(!bad32(buf, FPAGES * PS, 0x9000), "data");
	munmap(buf, FPAGES * PS);
	CHECK(wait_pages(fd, base) == base, "device pages leaked");
	close(fd);
}

static bool case_copy_to_device(uint64_t seed)
{
	static const int devs[] = { 0, 2 };
	uint64_t rng = seed;

	for (int i = 0; i < 2; i++) {
		int dev = devs[i];

		ctd_abort(dev, HMM_DMIRROR_INJECT_ENOMEM, rnd_below(&rng, FPAGES),
			  NULL);
		ctd_abort(dev, HMM_DMIRROR_INJECT_EIO, rnd_below(&rng, FPAGES),
			  NULL);
		ctd_abort(dev, HMM_DMIRROR_INJECT_BOGUS, rnd_below(&rng, FPAGES),
			  "hmm-copy-to-device-bogus");
		ctd_every_nth(dev, 2 + rnd_below(&rng, 6));
		ctd_stray(dev);
	}
	return !cfails;
}

/*
 * Touch every page of buf in order: SIGBUS must come on exactly the pages
 * poisoned[] says, the others hold their bytes. Returns SIGBUS pages.
 */
static unsigned long touch_all(const char *what, int dev, char *buf,
			       uint32_t seed, const bool *poisoned)
{
	unsigned long p, nbus = 0;

	for (p = 0; p < FPAGES; p++) {
		int bus = touch_sigbus(buf + p * PS);
		bool want = poisoned ? poisoned[p] : false;

		/*
		 * The CPU reads device-coherent memory in place: a page whose
		 * copy back failed stays there, readable, with its data.
		 */
		if (dev >= 2)
			want = false;

		nbus += bus;
		if (poisoned && mutating("sigbus") && p == 9)
			want = !want;
		if (!poisoned && bus)
			continue;	/* counted by the caller */
		CHECK(bus == want, "%s: device %d: page %lu: %s", what, dev, p,
		      bus ? "SIGBUS on a page that should be fine" :
			    "no SIGBUS on a page whose copy failed");
		if (!bus)
			CHECK(!bad32(buf + p * PS, PS, seed + p * PS / 4),
			      "%s: device %d: page %lu holds wrong data", what,
			      dev, p);
	}
	return nbus;
}

/* A buffer migrated whole to dev through a fresh mirror. */
static char *on_dev_buf(int dev, int *fd, uint32_t seed, unsigned long *base)
{
	static char copy[FPAGES * PS];
	char *buf;

	*fd = open_dev(dev);
	buf = fbuf(seed);
	CHECK(*fd >= 0 && buf, "setup");
	if (*fd < 0 || !buf)
		return NULL;
	*base = dev_pages(*fd);
	CHECK(!migrate(*fd, buf, copy, FPAGES), "migration to device %d", dev);
	CHECK(on_device(*fd, dev, buf, FPAGES) == FPAGES, "on device %d", dev);
	return buf;
}

static void cfd_done(int fd, char *buf, unsigned long base, bool dead)
{
	struct hmm_dmirror_stats st;

	CHECK(!get_stats(fd, &st) && st.dead == dead, "mirror %s",
	      dead ? "not killed" : "killed");
	munmap(buf, FPAGES * PS);
	CHECK(wait_pages(fd, base) == base, "%lu device pages leaked",
	      dev_pages(fd) - base);
	close(fd);
}

/* Driver-requested migration back, failing at entry nth. */
static void cfd_migrate_back(int dev, int mode, unsigned long nth)
{
	uint32_t seed = 0x20000 + nth;
	bool poisoned[FPAGES];
	unsigned long base, p;
	char *buf;
	int fd, ret;

	buf = on_dev_buf(dev, &fd, seed, &base);
	if (!buf)
		return;
	CHECK(!inject(fd, 1, mode, nth), "inject");
	ret = dmirror(fd, HMM_DMIRROR_MIGRATE_TO_SYS, (uintptr_t)buf, 0,
		      FPAGES, NULL);
	CHECK(ret == -EIO, "device %d mode %d nth %lu: migration back returned %d",
	      dev, mode, nth, ret);
	/* The chunk of the failing entry and every later one fail whole. */
	for (p = 0; p < FPAGES; p++)
		poisoned[p] = p >= fchunk(nth);
	touch_all("migration back with a failing copy", dev, buf, seed,
		  poisoned);
	cfd_done(fd, buf, base, true);
}

/* CPU faults with every nth copy failing: those pages alone SIGBUS. */
static void cfd_cpu_every_nth(int dev, unsigned long nth)
{
	uint32_t seed = 0x30000 + nth;
	bool poisoned[FPAGES];
	unsigned long base, p;
	char *buf;
	int fd;

	buf = on_dev_buf(dev, &fd, seed, &base);
	if (!buf)
		return;
	CHECK(!inject(fd, 1, HMM_DMIRROR_INJECT_EVERY_NTH, nth), "inject");
	for (p = 0; p < FPAGES; p++)
		poisoned[p] = (p + 1) % nth == 0;
	touch_all("CPU faults, every nth copy failing", dev, buf, seed,
		  poisoned);
	cfd_done(fd, buf, base, true);
}

/* A bogus error code from copy_from_device(): warned once, all poisoned. */
static void cfd_cpu_bogus(int dev)
{
	uint32_t seed = 0x40000;
	bool poisoned[FPAGES];
	unsigned long base, p;
	char *buf;
	int fd;

	buf = on_dev_buf(dev, &fd, seed, &base);
	if (!buf)
		return;
	CHECK(!inject(fd, 1, HMM_DMIRROR_INJECT_BOGUS, 0), "inject");
	for (p = 0; p < FPAGES; p++)
		poisoned[p] = true;
	kmsg("HMM-EXPECT-WARN-BEGIN: hmm-copy-from-device-bogus");
	touch_all("CPU faults, copy_from_device() returning -EINVAL", dev, buf,
		  seed, poisoned);
	kmsg("HMM-EXPECT-WARN-END: hmm-copy-from-device-bogus");
	cfd_done(fd, buf, base, true);
}

/* A device that reports its copies clean: the data still comes back. */
static void cfd_clean(int dev)
{
	uint32_t seed = 0x50000;
	unsigned long base;
	char *buf;
	int fd;

	buf = on_dev_buf(dev, &fd, seed, &base);
	if (!buf)
		return;
	CHECK(!inject(fd, 1, HMM_DMIRROR_INJECT_CLEAN, 0), "inject");
	CHECK(touch_all("CPU faults, clean copies", dev, buf, seed, NULL) == 0,
	      "SIGBUS with clean copies");
	cfd_done(fd, buf, base, false);
}

/*
 * Eviction (HMM_DMIRROR_RELEASE) with copies failing from the nth on: one
 * page per copy, so exactly FPAGES - nth pages are poisoned.
 */
static void cfd_evict(int dev, unsigned long nth)
{
	static char copy[FPAGES * PS];
	uint32_t seed = 0x60000 + nth;
	unsigned long base, nbus, want;
	char *buf, *other;
	int fd, ret;

	buf = on_dev_buf(dev, &fd, seed, &base);
	if (!buf)
		return;
	CHECK(!inject(fd, 1, HMM_DMIRROR_INJECT_EIO, nth), "inject");
	ret = dmirror(fd, HMM_DMIRROR_RELEASE, (uintptr_t)buf, 0, 1, NULL);
	CHECK(ret == (nth < FPAGES ? -EBUSY : 0),
	      "device %d: release with %lu good copies returned %d", dev, nth,
	      ret);
	/* Device memory again while poisoned pages of the old one live. */
	other = fbuf(0x70000);
	if (other) {
		int fd2 = open_dev(dev);

		ret = migrate(fd2, other, copy, WINDOW);
		CHECK(!ret || ret == -ENOENT || ret == -ENOMEM || ret == -EBUSY,
		      "device %d: migration after a failed eviction: %d", dev,
		      ret);
		CHECK(!bad32(other, WINDOW * PS, 0x70000), "data");
		munmap(other, FPAGES * PS);
		close(fd2);
	}
	nbus = touch_all("eviction with failing copies", dev, buf, seed, NULL);
	/* Coherent pages are read in place, see touch_all(). */
	want = dev >= 2 || nth >= FPAGES ? 0 : FPAGES - nth;
	CHECK(nbus == want, "device %d: %lu pages SIGBUS after eviction, want %lu",
	      dev, nbus, want);
	cfd_done(fd, buf, base, nth < FPAGES);
}

static bool case_copy_from_device(uint64_t seed)
{
	static const int devs[] = { 0, 2 };
	uint64_t rng = seed ^ 0x55;

	for (int i = 0; i < 2; i++) {
		int dev = devs[i];

		cfd_migrate_back(dev, HMM_DMIRROR_INJECT_ENOMEM,
				 rnd_below(&rng, FPAGES));
		cfd_migrate_back(dev, HMM_DMIRROR_INJECT_EIO,
				 rnd_below(&rng, FPAGES));
		if (dev < 2) {	/* the CPU faults only on private memory */
			cfd_cpu_every_nth(dev, 2 + rnd_below(&rng, 6));
			cfd_cpu_bogus(dev);
			cfd_clean(dev);
		}
		cfd_evict(dev, rnd_below(&rng, FPAGES));
	}
	return !cfails;
}

struct race {
	int fd, ret;
	char *buf, *copy;
};

static void *race_migrate(void *arg)
{
	struct race *r = arg;

	r->ret = migrate(r->fd, r->buf, r->copy, FPAGES);
	return NULL;
}

/*
 * Device memory runs out in the middle of two migrations (the coherent
 * device has one 256 MiB range): exactly what was free moves, the rest
 * stays, no byte is lost, and everything is given back.
 */
static bool case_exhaustion(uint64_t seed)
{
	static char copy[4096 * PS];
	const int dev = 3, left = 24;
	struct hmm_dmirror_stats st;
	unsigned long base, fill, i, step;
	char *one, *filler, *ab[2];
	struct race race;
	pthread_t th;
	long on[2];
	int fd, ret;

	fd = open_dev(dev);
	one = fbuf(1);
	CHECK(fd >= 0 && one, "setup");
	if (fd < 0 || !one)
		return false;
	base = dev_pages(fd);
	CHECK(!migrate(fd, one, copy, 1), "one page");
	CHECK(!get_stats(fd, &st) && st.device_memory, "no device memory");
	fill = st.device_free > (unsigned long)left ? st.device_free - left : 0;
	filler = map_aligned(fill * PS, HPS, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1);
	CHECK(filler, "filler of %lu pages", fill);
	if (!filler)
		goto out;
	madvise(filler, fill * PS, MADV_NOHUGEPAGE);
	for (i = 0; i < fill; i++)
		*(uint64_t *)(filler + i * PS) = i ^ seed;
	for (i = 0; i < fill; i += step) {
		step = fill - i < 4096 ? fill - i : 4096;
		ret = migrate(fd, filler + i * PS, copy, step);
		CHECK(!ret, "filler migration at %lu: %d", i, ret);
	}
	get_stats(fd, &st);
	say("exhaustion: device %d: %llu pages of device memory, %llu free before the race",
	    dev, st.device_memory, st.device_free);
	for (i = 0; i < 2; i++)
		ab[i] = fbuf(0x80000 + i);
	/* Two migrations of 64 pages each race for what is left. */
	race.fd = fd;
	race.buf = ab[1];
	race.copy = copy + FPAGES * PS;
	pthread_create(&th, NULL, race_migrate, &race);
	ret = migrate(fd, ab[0], copy, FPAGES);
	pthread_join(th, NULL);
	CHECK(!ret || ret == -ENOENT, "migration: %d", ret);
	CHECK(!race.ret || race.ret == -ENOENT, "the other migration: %d",
	      race.ret);
	for (i = 0; i < 2; i++)
		on[i] = on_device(fd, dev, ab[i], FPAGES);
	CHECK(on[0] + on[1] == (long)st.device_free,
	      "%ld + %ld pages moved, %llu were free", on[0], on[1],
	      st.device_free);
	get_stats(fd, &st);
	CHECK(st.device_free == 0, "%llu device pages free after the race",
	      st.device_free);
	say("exhaustion: %ld and %ld of 64 pages moved", on[0], on[1]);
	for (i = 0; i < 2; i++)
		CHECK(!bad32(ab[i], FPAGES * PS, 0x80000 + i), "data");
	for (i = 0; i < fill; i += 97)
		CHECK(*(uint64_t *)(filler + i * PS) == (i ^ seed),
		      "filler page %lu", i);
	munmap(filler, fill * PS);
	for (i = 0; i < 2; i++)
		munmap(ab[i], FPAGES * PS);
out:
	munmap(one, FPAGES * PS);
	CHECK(wait_pages(fd, base) == base, "%lu device pages leaked",
	      dev_pages(fd) - base);
	close(fd);
	return !cfails;
}

/* ------------------------------------- failslab and fail_page_alloc */

#define FI_TIMES	100000

static const char *const fi_attrs[] = {
	"task-filter", "probability", "interval", "times", "space",
	"verbose", "ignore-gfp-wait", "ignore-gfp-highmem", "min-order",
};
#define FI_NATTR (sizeof(fi_attrs) / sizeof(fi_attrs[0]))

struct fi {
	const char *dir;
	char old[FI_NATTR][32];
	bool have[FI_NATTR];
	int self;		/* /proc/thread-self/make-it-fail */
};

static int fi_set(struct fi *f, const char *attr, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", f->dir, attr);
	return write_file(path, val);
}

static int fi_open(struct fi *f, const char *dir, bool nowait_only)
{
	char path[128], val[16];
	unsigned int i;

	f->dir = dir;
	for (i = 0; i < FI_NATTR; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, fi_attrs[i]);
		f->have[i] = !read_file(path, f->old[i], sizeof(f->old[i]));
	}
	if (!f->have[0])
		return -ENOENT;
	f->self = open("/proc/thread-self/make-it-fail", O_WRONLY);
	if (f->self < 0)
		return -errno;
	snprintf(val, sizeof(val), "%d", FI_TIMES);
	if (fi_set(f, "times", "0") || fi_set(f, "task-filter", "Y") ||
	    fi_set(f, "probability", "20") || fi_set(f, "interval", "1") ||
	    fi_set(f, "space", "0") || fi_set(f, "verbose", "0") ||
	    fi_set(f, "ignore-gfp-wait", nowait_only ? "Y" : "N"))
		return -EIO;
	if (f->have[7])
		fi_set(f, "ignore-gfp-highmem", "N");
	if (f->have[8])
		fi_set(f, "min-order", "0");
	return fi_set(f, "times", val);
}

/* Failures injected so far ("times" counts down). */
static long fi_count(struct fi *f)
{
	char path[128], val[32];

	snprintf(path, sizeof(path), "%s/times", f->dir);
	if (read_file(path, val, sizeof(val)))
		return -1;
	return FI_TIMES - atol(val);
}

static void fi_close(struct fi *f)
{
	unsigned int i;

	fi_set(f, "times", "0");
	for (i = 0; i < FI_NATTR; i++)
		if (f->have[i] && i != 3)
			fi_set(f, fi_attrs[i], f->old[i]);
	fi_set(f, "times", f->old[3]);
	if (f->self >= 0)
		close(f->self);
}

static void fi_on(struct fi *f, bool on)
{
	for (int i = 0; i < 100; i++)
		if (pwrite(f->self, on ? "1" : "0", 1, 0) == 1)
			return;
}

/* One operation with this task's allocations failing; data checked. */
struct fi_run {
	struct fi *f;
	int fd, dev;
	char *buf;
	unsigned int gen[FPAGES];
	char copy[FPAGES * PS];
	unsigned long ops[8], errs[8], ms[8], killed;
};

static bool fi_page_ok(struct fi_run *r, unsigned long p, const void *data,
		       const char *what)
{
	unsigned long n = bad_bytes(data, p, r->gen[p]);

	atomic_fetch_add(&total.verified, PS);
	if (n)
		atomic_fetch_add(&total.bad_bytes, n);
	CHECK(!n, "%s: page %lu: %lu bytes differ (gen %u, looks like %ld)",
	      what, p, n, r->gen[p], guess_gen(data, p, r->gen[p]));
	return !n;
}

static void fi_step(struct fi_run *r, uint64_t *rng, bool nowait_only)
{
	static const char *const names[] = {
		"dev-write", "dev-read", "migrate-dev", "migrate-sys",
		"cpu-touch", "snapshot", "exclusive", "cpu-write",
	};
	int allowed[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	unsigned long p = rnd_below(rng, FPAGES), n, i;
	struct hmm_dmirror_cmd cmd = { 0 };
	uint64_t t0;
	char *addr;
	int op, ret = 0;

	if (!nowait_only)	/* the ioctls' own GFP_KERNEL buffers warn */
		allowed[0] = allowed[1] = allowed[2] = allowed[5] =
			allowed[6] = 0;
	op = pick(rng, allowed, 8);
	n = 1 + rnd_below(rng, FPAGES - p);
	addr = r->buf + p * PS;
	/* Something to bring back, moved there without failures. */
	if ((op == 3 || op == 4 || op == 7) && rnd_below(rng, 4))
		migrate(r->fd, addr, r->copy, n);
	t0 = now_ms();
	if (op == 0)
		for (i = 0; i < n; i++)
			fill_page(r->copy + i * PS, p + i, r->gen[p + i] + 1);
	fi_on(r->f, true);
	switch (op) {
	case 0: ret = dmirror(r->fd, HMM_DMIRROR_WRITE, (uintptr_t)addr,
			      (uintptr_t)r->copy, n, &cmd); break;
	case 1: ret = dmirror(r->fd, HMM_DMIRROR_READ, (uintptr_t)addr,
			      (uintptr_t)r->copy, n, &cmd); break;
	case 2: ret = migrate(r->fd, addr, r->copy, n); break;
	case 3: ret = dmirror(r->fd, HMM_DMIRROR_MIGRATE_TO_SYS,
			      (uintptr_t)addr, 0, n, NULL); break;
	case 4: ret = -touch_sigbus(addr); break;
	case 5: ret = dmirror(r->fd, HMM_DMIRROR_SNAPSHOT, (uintptr_t)addr,
			      (uintptr_t)r->copy, n, NULL); break;
	case 6: ret = dmirror(r->fd, HMM_DMIRROR_EXCLUSIVE, (uintptr_t)addr,
			      (uintptr_t)r->copy, n, &cmd); break;
	default:
		r->gen[p]++;
		fill_page(addr, p, r->gen[p]);
		break;
	}
	fi_on(r->f, false);
	r->ms[op] += now_ms() - t0;
	r->ops[op]++;
	if (ret)
		r->errs[op]++;
	if (op == 0 && !ret)
		for (i = 0; i < n; i++)
			r->gen[p + i]++;
	/*
	 * A device write that failed may have written some pages (the ioctl
	 * reports no count on failure): each page holds the old or the new
	 * generation, in full, and nothing else.
	 */
	if (op == 0 && ret)
		for (i = 0; i < n; i++) {
			if (!bad_bytes(addr + i * PS, p + i, r->gen[p + i] + 1))
				r->gen[p + i]++;
			else
				fi_page_ok(r, p + i, addr + i * PS,
					   "after a failed dev-write");
		}
	if ((op == 1 || op == 6) && !ret)
		for (i = 0; i < n; i++)
			fi_page_ok(r, p + i, r->copy + i * PS, names[op]);
	CHECK(op != 4 || ret == 0, "SIGBUS on a CPU fault with allocations failing (page %lu)",
	      p);
	CHECK(!ret || ret == -ENOMEM || ret == -EBUSY || ret == -ENOENT ||
	      ret == -EFAULT || ret == -ENODEV || ret == -EINTR || op == 4,
	      "%s of %lu+%lu on device %d: %s", names[op], p, n, r->dev,
	      strerror(-ret));
	if (ret == -ENODEV) {
		/* update() could not allocate and killed the mirror. */
		r->killed++;
		close(r->fd);
		r->fd = open_dev(r->dev);
	}
}

static bool case_fault_injection(const char *dir, uint64_t seed,
				 unsigned int seconds)
{
	static const char *const names[] = {
		"dev-write", "dev-read", "migrate-dev", "migrate-sys",
		"cpu-touch", "snapshot", "exclusive", "cpu-write",
	};
	struct fi_run *r = calloc(1, sizeof(*r));
	uint64_t rng = seed, t0;
	struct fi f = { .self = -1 };
	unsigned long p, base[4];
	int mode, ret, dev, i;
	long injected;
	char line[512];

	if (!r)
		return false;
	for (dev = 0; dev < 4; dev++) {
		int fd = open_dev(dev);

		base[dev] = fd >= 0 ? dev_pages(fd) : 0;
		if (fd >= 0)
			close(fd);
	}
	for (mode = 0; mode < 2; mode++) {
		ret = fi_open(&f, dir, mode == 0);
		if (ret) {
			say("%s: cannot set up %s: %s", cname, dir, strerror(-ret));
			fi_close(&f);
			CHECK(0, "no fault injection");
			break;
		}
		r->f = &f;
		/*
		 * GFP_NOWAIT page allocations happen on the device-private
		 * paths only (a coherent device's runs injected none in 6 s:
		 * seeds 31 and 33 failed "nothing was tested").
		 */
		r->dev = mode == 0 ? rnd_below(&rng, 2) : rnd_below(&rng, 4);
		r->fd = open_dev(r->dev);
		r->buf = fbuf(0);
		CHECK(r->fd >= 0 && r->buf, "setup");
		for (p = 0; r->buf && p < FPAGES; p++) {
			r->gen[p] = 1;
			fill_page(r->buf + p * PS, p, 1);
		}
		t0 = now_ms();
		while (r->fd >= 0 && r->buf && now_ms() - t0 < seconds * 1000ULL)
			fi_step(r, &rng, mode == 0);
		injected = fi_count(&f);
		fi_close(&f);
		for (p = 0; r->buf && p < FPAGES; p++)
			fi_page_ok(r, p, r->buf + p * PS, "final CPU read");
		line[0] = 0;
		for (i = 0, ret = 0; i < 8; i++)
			if (r->ops[i])
				ret += snprintf(line + ret, sizeof(line) - ret,
						" %s %lu/%lu (%lu ms)", names[i],
						r->errs[i], r->ops[i], r->ms[i]);
		say("%s (%s): device %d: %ld allocations failed; failed/done:%s; mirror killed %lu times",
		    cname, mode ? "all allocations" : "GFP_NOWAIT only", r->dev,
		    injected, line, r->killed);
		CHECK(injected > 0, "no allocation failed: nothing was tested");
		if (r->buf)
			munmap(r->buf, FPAGES * PS);
		if (r->fd >= 0)
			close(r->fd);
		memset(r->ops, 0, sizeof(r->ops));
		memset(r->errs, 0, sizeof(r->errs));
		memset(r->ms, 0, sizeof(r->ms));
		r->killed = 0;
	}
	for (dev = 0; dev < 4; dev++) {
		int fd = open_dev(dev);

		CHECK(fd >= 0 && wait_pages(fd, base[dev]) == base[dev],
		      "device %d: %lu device pages leaked", dev,
		      fd >= 0 ? dev_pages(fd) - base[dev] : 0);
		if (fd >= 0)
			close(fd);
	}
	free(r);
	return !cfails;
}

/* -------------------------------------------------------------- fuzz */

#define NFDS	8
#define NDATA	64UL

/* Memory the fuzzer points the driver at; none of it matters. */
struct fz_mem {
	char *sac;		/* RW, may be written by the device */
	char *ro, *none, *shared, *out, *rocmd;
	atomic_uintptr_t churn;	/* mapped and unmapped as we go */
	atomic_int fds[NFDS];
	atomic_int stop;
	bool no_inject;		/* no copy injection (unload workers) */
	atomic_int from_failing;	/* copy_from_device() failures injected */
	atomic_ulong calls, errs, slow;
	atomic_ulong byerr[160];
};

static struct fz_mem fz;

static const unsigned long fz_known[] = {
	HMM_DMIRROR_READ, HMM_DMIRROR_WRITE, HMM_DMIRROR_MIGRATE_TO_DEV,
	HMM_DMIRROR_MIGRATE_TO_SYS, HMM_DMIRROR_SNAPSHOT,
	HMM_DMIRROR_EXCLUSIVE, HMM_DMIRROR_CHECK_EXCLUSIVE,
	HMM_DMIRROR_RELEASE, HMM_DMIRROR_EVENTS, HMM_DMIRROR_STATS,
	HMM_DMIRROR_UNREGISTER, HMM_DMIRROR_INJECT,
#ifdef HMM_DMIRROR_FLAGS
	HMM_DMIRROR_FLAGS,
#endif
};
#define FZ_NKNOWN (sizeof(fz_known) / sizeof(fz_known[0]))

/* The ioctls that take a range of whole pages (checked up front). */
static bool fz_ranged(unsigned long req)
{
	req = (unsigned int)req;
	return req == HMM_DMIRROR_READ || req == HMM_DMIRROR_WRITE ||
	       req == HMM_DMIRROR_MIGRATE_TO_DEV ||
	       req == HMM_DMIRROR_MIGRATE_TO_SYS ||
	       req == HMM_DMIRROR_SNAPSHOT || req == HMM_DMIRROR_EXCLUSIVE ||
	       req == HMM_DMIRROR_CHECK_EXCLUSIVE ||
	       req == HMM_DMIRROR_RELEASE;
}

static char *fz_base;

/* Unmapping it all frees what the fuzzer left poisoned on a device. */
static void fz_teardown(void)
{
	if (fz_base)
		munmap(fz_base, 512 * PS);
	fz_base = NULL;
}

static int fz_setup(void)
{
	const size_t g = PS;	/* guard pages around everything */
	char *p = mmap(NULL, 512 * PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	fz_base = p == MAP_FAILED ? NULL : p;
	int memfd = memfd_create("hmm-fuzz", MFD_CLOEXEC);

	if (p == MAP_FAILED || memfd < 0 || ftruncate(memfd, 16 * PS))
		return -1;
	fz.none = p + g;
	fz.sac = p + 32 * PS;
	fz.ro = p + 128 * PS;
	fz.out = p + 160 * PS;
	fz.rocmd = p + 256 * PS;
	fz.shared = p + 280 * PS;
	if (mprotect(fz.sac, NDATA * PS, PROT_READ | PROT_WRITE) ||
	    mprotect(fz.ro, 16 * PS, PROT_READ | PROT_WRITE) ||
	    mprotect(fz.out, NDATA * PS, PROT_READ | PROT_WRITE) ||
	    mprotect(fz.rocmd, PS, PROT_READ | PROT_WRITE) ||
	    mmap(fz.shared, 16 * PS, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, memfd, 0) == MAP_FAILED)
		return -1;
	close(memfd);
	fill32(fz.sac, NDATA * PS, 1);
	fill32(fz.ro, 16 * PS, 2);
	fill32(fz.shared, 16 * PS, 3);
	memset(fz.rocmd, 0, PS);
	atomic_store(&fz.churn, 0);
	((struct hmm_dmirror_cmd *)fz.rocmd)->addr = (uintptr_t)fz.sac;
	((struct hmm_dmirror_cmd *)fz.rocmd)->ptr = (uintptr_t)fz.out;
	((struct hmm_dmirror_cmd *)fz.rocmd)->npages = 1;
	mprotect(fz.ro, 16 * PS, PROT_READ);
	mprotect(fz.rocmd, PS, PROT_READ);
	for (int i = 0; i < NFDS; i++)
		atomic_store(&fz.fds[i], -1);
	return 0;
}

/* An address for the driver to use; device writes only hit junk. */
static uint64_t fz_addr(uint64_t *rng, bool written)
{
	const uint64_t task = 0x7ffffffff000ULL;
	uint64_t r = rnd(rng);

	switch (rnd_below(rng, written ? 12 : 17)) {
	case 0: return (uintptr_t)fz.sac + rnd_below(rng, NDATA) * PS;
	case 1: return (uintptr_t)fz.sac;
	case 2: return (uintptr_t)fz.ro + rnd_below(rng, 16) * PS;
	case 3: return (uintptr_t)fz.none;
	case 4: return 0;
	case 5: return r % 3 ? PS : PS - 1;
	case 6: return task - PS * (1 + rnd_below(rng, 2));
	case 7: return task + (r & 1 ? 0 : PS);
	case 8: return r & 1 ? ~0ULL : ~0ULL & ~(PS - 1);
	case 9: return 0xffffffff81000000ULL;
	case 10: return (uintptr_t)fz.sac + 1 + rnd_below(rng, PS - 1);
	case 11: return atomic_load(&fz.churn) ? atomic_load(&fz.churn) :
						 (uintptr_t)fz.none;
	case 12: return (uintptr_t)fz.shared + rnd_below(rng, 16) * PS;
	case 13: return getauxval(AT_SYSINFO_EHDR) & ~(PS - 1);
	case 14: return ((uintptr_t)&fz_setup) & ~(PS - 1);
	case 15: return (r & 0x7ffffffff000ULL);
	default: return 1ULL << 47;
	}
}

static uint64_t fz_npages(uint64_t *rng)
{
	static const uint64_t v[] = {
		0, 1, 2, 15, 16, 17, 63, 64, 65, 512, 4096, 1ULL << 20,
		1ULL << 35, (0x7ffffffff000ULL >> 12), (0x7ffffffff000ULL >> 12) + 1,
		~0ULL, 1ULL << 63, 1ULL << 52,
	};

	if (!rnd_below(rng, 8))
		return rnd(rng) >> rnd_below(rng, 64);
	return v[rnd_below(rng, sizeof(v) / sizeof(v[0]))];
}

static unsigned long fz_req(uint64_t *rng)
{
	static const int sizes[] = { 0, 1, 8, 32, 40, 48, 64, 4095 };
	static const int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
				    _IOC_READ | _IOC_WRITE };

	/* The kernel takes the low 32 bits: so do we, unsigned. */
	if (rnd_below(rng, 5))
		return (unsigned int)fz_known[rnd_below(rng, FZ_NKNOWN)];
	return (unsigned int)_IOC(dirs[rnd_below(rng, 4)], 'H',
				  rnd_below(rng, 256), sizes[rnd_below(rng, 8)]);
}

static bool fz_is_known(unsigned long req)
{
	for (unsigned int i = 0; i < FZ_NKNOWN; i++)
		if ((unsigned int)fz_known[i] == (unsigned int)req)
			return true;
	return false;
}

static bool fz_errno_ok(int e)
{
	if (mutating("errno") && e == EINVAL)
		return false;
	return e == EINVAL || e == EFAULT || e == ENOMEM || e == EPERM ||
	       e == ENOENT || e == EBUSY || e == ENODEV || e == EIO ||
	       e == ENOTTY || e == EINTR || e == EBADF || e == ENOSPC ||
	       e == EAGAIN || e == E2BIG;
}

/* One random ioctl; false if its result breaks a rule. */
static bool fz_call(uint64_t *rng, char *cmdpage)
{
	unsigned long req = fz_req(rng);
	struct hmm_dmirror_cmd *cmd;
	int fd, ret, e, kind = rnd_below(rng, 10);
	uint64_t t0;
	void *arg;

	fd = atomic_load(&fz.fds[rnd_below(rng, NFDS)]);
	if (fd < 0)
		return true;
	if (fz.no_inject && req == HMM_DMIRROR_INJECT)
		req = HMM_DMIRROR_STATS;
	cmd = (struct hmm_dmirror_cmd *)(cmdpage + PS - sizeof(*cmd));
	if (kind == 1)	/* straddles into the guard page */
		cmd = (struct hmm_dmirror_cmd *)(cmdpage + PS - 16);
	if (kind != 1) {
		bool written = req == HMM_DMIRROR_WRITE || !fz_is_known(req);

		cmd->addr = fz_addr(rng, written);
		cmd->ptr = rnd_below(rng, 3) ? (uintptr_t)fz.out +
			   rnd_below(rng, NDATA) * PS : fz_addr(rng, true);
		if (req == HMM_DMIRROR_WRITE && rnd_below(rng, 2))
			cmd->ptr = (uintptr_t)fz.sac;	/* the source */
		cmd->npages = fz_npages(rng);
		if (req == HMM_DMIRROR_INJECT) {
			/*
			 * Not BOGUS nor STRAY: drivers bugs that warn. SLOW
			 * sleeps npages ms in every copy call: at most 2 here,
			 * or an eviction of a thousand pages one by one
			 * holds the device for a minute.
			 */
			static const int modes[] = {
				HMM_DMIRROR_INJECT_NONE, HMM_DMIRROR_INJECT_ENOMEM,
				HMM_DMIRROR_INJECT_EIO,
				HMM_DMIRROR_INJECT_EVERY_NTH,
				HMM_DMIRROR_INJECT_CLEAN,
				HMM_DMIRROR_INJECT_SLOW,
				HMM_DMIRROR_INJECT_SLOW + 1, 1000,
			};

			cmd->addr = rnd_below(rng, 4);
			cmd->ptr = modes[rnd_below(rng, 8)];
			cmd->npages = rnd_below(rng, 70);
			if (cmd->ptr == HMM_DMIRROR_INJECT_SLOW)
				cmd->npages = rnd_below(rng, 3);
		}
		cmd->cpages = rnd(rng);
		cmd->faults = rnd(rng);
	}
	arg = cmd;
	if (kind == 2)
		arg = NULL;
	else if (kind == 3)
		arg = fz.none;
	else if (kind == 4)
		arg = fz.rocmd;
	else if (kind == 5)
		arg = (void *)0xffffffff81000000ULL;
	t0 = now_ms();
	ret = ioctl(fd, req, arg);
	e = ret ? errno : 0;
	atomic_fetch_add(&fz.calls, 1);
	if (now_ms() - t0 > 10000ULL * slow) {
		atomic_fetch_add(&fz.slow, 1);
		say("FAIL %s: ioctl %#lx addr %#llx npages %#llx took %.1f s",
		    cname, req, (unsigned long long)cmd->addr,
		    (unsigned long long)cmd->npages, (now_ms() - t0) / 1000.0);
	}
	if (e) {
		atomic_fetch_add(&fz.errs, 1);
		atomic_fetch_add(&fz.byerr[e < 160 ? e : 0], 1);
	}
	if (!ret && (unsigned int)req == (unsigned int)HMM_DMIRROR_INJECT &&
	    (kind == 0 || kind > 5) && cmd->addr == 1 &&
	    (cmd->ptr == HMM_DMIRROR_INJECT_ENOMEM ||
	     cmd->ptr == HMM_DMIRROR_INJECT_EIO ||
	     cmd->ptr == HMM_DMIRROR_INJECT_EVERY_NTH))
		atomic_store(&fz.from_failing, 1);
	if (ret && !fz_errno_ok(e))
		goto bad;
	/* What must fail, and how. */
	if ((kind == 2 || kind == 3 || kind == 5 || kind == 1) && e != EFAULT &&
	    e != EBADF && (fz_is_known(req) || ret == 0))
		goto bad;
	if (!fz_is_known(req) && !ret)
		goto bad;
	if (fz_ranged(req) && (kind == 0 || kind > 5) &&
	    (cmd->addr & (PS - 1) || !cmd->npages) && e != EINVAL && e != EBADF)
		goto bad;
	return true;
bad:
	say("FAIL %s: ioctl(%d, %#lx, arg kind %d: addr %#llx ptr %#llx npages %#llx) = %d (%s)",
	    cname, fd, req, kind, (unsigned long long)cmd->addr,
	    (unsigned long long)cmd->ptr, (unsigned long long)cmd->npages, ret,
	    e ? strerror(e) : "success");
	return false;
}

/* A page for a thread's command, with a guard page after it. */
static char *fz_cmdpage(void)
{
	char *p = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	mprotect(p + PS, PS, PROT_NONE);
	return p;
}

static void *fz_thread(void *arg)
{
	uint64_t rng = (uintptr_t)arg;
	unsigned long bad = 0;
	char *page = fz_cmdpage();

	while (page && !atomic_load(&fz.stop))
		bad += !fz_call(&rng, page);
	if (page)
		munmap(page, 2 * PS);
	return (void *)bad;
}

/*
 * Churn under the fuzzer: files opened, closed, dup'ed, unregistered,
 * device memory released, a buffer mapped, migrated and unmapped; and a
 * buffer of its own (migrated through its own mirror, which the fuzzer
 * cannot reach) that must keep every byte.
 */
static void *fz_churn(void *arg)
{
	static char copy[NDATA * PS];
	uint64_t rng = (uintptr_t)arg;
	unsigned long bad = 0, n = 0;
	char *keep = fbuf(0xabc), *churn = NULL;
	int kfd = open_dev(rnd_below(&rng, 4)), i, fd, ret;

	while (keep && kfd >= 0 && !atomic_load(&fz.stop)) {
		i = rnd_below(&rng, NFDS);
		fd = atomic_load(&fz.fds[i]);
		switch (rnd_below(&rng, 8)) {
		case 0:
			if (fd < 0)
				atomic_store(&fz.fds[i],
					     open_dev(rnd_below(&rng, 4)));
			break;
		case 1:
			if (fd >= 0 && atomic_compare_exchange_strong(
						&fz.fds[i], &fd, -1))
				close(fd);
			break;
		case 2:
			if (fd >= 0 && !rnd_below(&rng, 4))
				dmirror(fd, HMM_DMIRROR_UNREGISTER, 0, 0, 0, NULL);
			break;
		case 3:
			if (fd >= 0 && !rnd_below(&rng, 4))
				dmirror(fd, HMM_DMIRROR_RELEASE, (uintptr_t)keep,
					0, 1, NULL);
			break;
		case 4:
			if (churn) {
				atomic_store(&fz.churn, 0);
				munmap(churn, FPAGES * PS);
				churn = NULL;
			} else if ((churn = fbuf(5))) {
				atomic_store(&fz.churn, (uintptr_t)churn);
				if (fd >= 0)
					migrate(fd, churn, copy, FPAGES);
			}
			break;
		case 5:
			if (fd >= 0 && atomic_load(&fz.fds[(i + 1) % NFDS]) < 0) {
				int nfd = dup(fd);

				if (nfd >= 0)
					atomic_store(&fz.fds[(i + 1) % NFDS], nfd);
			}
			break;
		case 6:
			ret = migrate(kfd, keep, copy, FPAGES);
			if (ret == -ENODEV) {
				close(kfd);
				kfd = open_dev(rnd_below(&rng, 4));
			}
			break;
		default:
			bad += bad32(keep, FPAGES * PS, 0xabc) != 0;
			n++;
			break;
		}
		usleep(rnd_below(&rng, 2000));
	}
	if (keep) {
		bad += bad32(keep, FPAGES * PS, 0xabc) != 0;
		munmap(keep, FPAGES * PS);
	}
	if (churn) {
		atomic_store(&fz.churn, 0);
		munmap(churn, FPAGES * PS);
	}
	if (kfd >= 0)
		close(kfd);
	if (bad)
		say("FAIL %s: the churn thread's own buffer lost data %lu times",
		    cname, bad);
	return (void *)bad;
}

static void fz_close_all(void)
{
	for (int i = 0; i < NFDS; i++) {
		int fd = atomic_exchange(&fz.fds[i], -1);

		if (fd >= 0)
			close(fd);
	}
}

static void fz_summary(void)
{
	char line[512];
	int n = 0;

	for (int e = 0; e < 160; e++) {
		unsigned long c = atomic_load(&fz.byerr[e]);

		if (c)
			n += snprintf(line + n, sizeof(line) - n, " %s %lu",
				      e ? strerror(e) : "other", c);
	}
	line[n] = 0;
	say("%s: %lu ioctls, %lu succeeded, %lu slow; errors:%s", cname,
	    atomic_load(&fz.calls), atomic_load(&fz.calls) - atomic_load(&fz.errs),
	    atomic_load(&fz.slow), n ? line : " none");
}

static void fz_reset(void)
{
	atomic_store(&fz.stop, 0);
	atomic_store(&fz.calls, 0);
	atomic_store(&fz.errs, 0);
	atomic_store(&fz.slow, 0);
	atomic_store(&fz.from_failing, 0);
	for (int e = 0; e < 160; e++)
		atomic_store(&fz.byerr[e], 0);
}

/* Device pages in use and the checker's counter, per device. */
static void dev_counts(unsigned long *pages, unsigned long long *stale)
{
	struct hmm_dmirror_stats st;

	for (int dev = 0; dev < 4; dev++) {
		int fd = open_dev(dev);

		pages[dev] = 0;
		stale[dev] = 0;
		if (fd >= 0 && !get_stats(fd, &st)) {
			pages[dev] = st.device_pages;
			stale[dev] = st.stale;
		}
		if (fd >= 0)
			close(fd);
	}
}

static void dev_leaks(const unsigned long *pages, const unsigned long long *stale)
{
	unsigned long mirrors;
	unsigned long long st;
	long long backing;

	for (int dev = 0; dev < 4; dev++) {
		long leak = leaked_pages(dev, pages[dev], &mirrors, &st,
					 &backing);

		CHECK(leak == 0, "device %d: %ld device pages leaked", dev, leak);
		if (leak < 0)
			continue;
		CHECK(backing == 0, "device %d: %lld backing pages beyond one per device-private page in use",
		      dev, backing);
		CHECK(st == stale[dev], "device %d: checker counter stale grew by %llu",
		      dev, st - stale[dev]);
		CHECK(mirrors == 1, "device %d: %lu mirrors not freed", dev,
		      mirrors - 1);
	}
}

/*
 * A fuzzing process of its own: fork, then exec this program again with
 * @role. A child that is only forked shares the parent's anonymous pages
 * copy-on-write, and the fuzzer's random ranges reach them: a migration in
 * the child moves them to device memory for the parent too, where they
 * stay as long as the parent lives (and its leak checks count them). After
 * exec the fuzzer's ranges reach only memory of its own.
 */
static pid_t spawn_self(const char *role, uint64_t seed, unsigned int seconds)
{
	char s[32], t[16];
	pid_t pid;

	snprintf(s, sizeof(s), "%llu", (unsigned long long)seed);
	snprintf(t, sizeof(t), "%u", seconds);
	fflush(stdout);
	pid = fork();
	if (!pid) {
		if (*mutate)
			setenv("HMM_STRESS_MUTATE", mutate, 1);
		execl("/proc/self/exe", "hmm-stress", role, s, t, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Print one line of a /proc file of a task, "-" if it cannot be read. */
static void show_proc_line(const char *dir, const char *file, char *buf,
			   size_t size)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	strcpy(buf, "-");
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(buf, size, f))
		strcpy(buf, "-");
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

/* Where each thread of a hung process is: state, wchan, syscall, stack. */
static void show_tasks(pid_t pid)
{
	char dir[64], tdir[128], stat[256], wchan[128], sysc[128], line[256];
	struct dirent *d;
	DIR *tasks;
	FILE *f;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	tasks = opendir(dir);
	if (!tasks)
		return;
	while ((d = readdir(tasks))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(tdir, sizeof(tdir), "%s/%s", dir, d->d_name);
		show_proc_line(tdir, "stat", stat, sizeof(stat));
		show_proc_line(tdir, "wchan", wchan, sizeof(wchan));
		show_proc_line(tdir, "syscall", sysc, sizeof(sysc));
		say("  task %s: stat %.60s; wchan %s; syscall %s", d->d_name,
		    stat, wchan, sysc);
		snprintf(line, sizeof(line), "%s/stack", tdir);
		f = fopen(line, "r");
		while (f && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			say("    %s", line);
		}
		if (f)
			fclose(f);
	}
	closedir(tasks);
}

/*
 * Wait for a process spawn_self() started, for limit_ms at most. A process
 * that does not end by then is shown (where each of its threads is, in the
 * kernel and out of it) and killed, and the wait fails: a hang fails its
 * case with a diagnosis instead of running into the suite's time limit.
 * Returns the waitpid() status, or -1 after a hang or a failed waitpid().
 */
static int wait_spawned(pid_t pid, uint64_t limit_ms, const char *what)
{
	uint64_t t0 = now_ms();
	int status, n;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	       now_ms() - t0 < limit_ms)
		usleep(20000);
	if (r == pid)
		return status;
	if (r < 0) {
		CHECK(0, "%s: waitpid: %s", what, strerror(errno));
		return -1;
	}
	CHECK(0, "%s (pid %d) did not end in %llu s; its threads:", what, pid,
	      (unsigned long long)limit_ms / 1000);
	show_tasks(pid);
	kill(pid, SIGKILL);
	for (n = 0; n < 500 && !waitpid(pid, &status, WNOHANG); n++)
		usleep(20000);
	if (n == 500)
		say("%s (pid %d): still there 10 s after SIGKILL", what, pid);
	return -1;
}

/*
 * The fuzzer's random ranges reach its own memory too (stacks, malloc
 * arenas, libc's data): once it made copy_from_device() fail, a page of
 * that memory may be poisoned, and the fuzzer dies of the SIGBUS the
 * contract promises. That ends the fuzzing (FZ_POISONED, which
 * case_fuzz() accepts); a SIGBUS without such a failure kills it.
 */
#define FZ_POISONED	77

static void fz_sigbus(int sig)
{
	static const char msg[] =
		"# ioctl-fuzz: SIGBUS on the fuzzer's own memory after injected copy failures\n";

	if (atomic_load(&fz.from_failing)) {
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(FZ_POISONED);
		_exit(FZ_POISONED);
	}
	/* SA_RESETHAND: the access faults again, with the default action. */
}

/* The fuzzer and the churn thread, in the process case_fuzz() spawned. */
static bool fz_run(uint64_t seed, unsigned int seconds)
{
	struct sigaction sa = {
		.sa_handler = fz_sigbus,
		.sa_flags = SA_RESETHAND,
	};
	unsigned long bad = 0;
	pthread_t th[4];
	void *r;
	int i;

	if (sigaction(SIGBUS, &sa, NULL))
		return false;
	fz_reset();
	if (fz_setup()) {
		CHECK(0, "fuzzer setup");
		return false;
	}
	for (i = 0; i < NFDS; i += 2)
		atomic_store(&fz.fds[i], open_dev(i / 2));
	for (i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, fz_thread, (void *)(uintptr_t)(seed + i));
	pthread_create(&th[3], NULL, fz_churn, (void *)(uintptr_t)(seed + 9));
	sleep(seconds);
	while (mutating("hang"))	/* the fuzzer never ends */
		pause();
	atomic_store(&fz.stop, 1);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], &r);
		bad += (uintptr_t)r;
	}
	fz_close_all();
	fz_teardown();
	fz_summary();
	CHECK(!bad, "%lu calls broke a rule", bad);
	CHECK(!atomic_load(&fz.slow), "%lu calls took over %d s",
	      atomic_load(&fz.slow), 10 * slow);
	CHECK(atomic_load(&fz.calls) > 100, "too few calls: nothing was tested");
	return !cfails;
}

/*
 * The fuzzer runs in a process of its own (spawn_self()): its random
 * ranges also migrate memory that is not the fuzzer's (thread stacks, which
 * the C library keeps for new threads, and malloc arenas). That memory
 * stays in device memory as long as the process lives, so leaks are counted
 * once it has exited.
 */
static bool case_fuzz(uint64_t seed, unsigned int seconds)
{
	unsigned long pages[4];
	unsigned long long stale[4];
	int status = 0;
	pid_t pid;

	dev_counts(pages, stale);
	pid = spawn_self("--fuzz-process", seed, seconds);
	CHECK(pid > 0, "fork: %s", strerror(errno));
	if (pid < 0)
		return false;
	status = wait_spawned(pid, (seconds + 60) * 1000ULL * slow,
			      "the fuzzer process");
	CHECK(status != -1 && WIFEXITED(status) &&
	      (!WEXITSTATUS(status) || WEXITSTATUS(status) == FZ_POISONED),
	      "the fuzzer process failed (status %#x)", status);
	if (status != -1 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == FZ_POISONED)
		say("ioctl-fuzz: the fuzzer stopped: it touched its own memory that a copy failure it injected had poisoned");
	dev_leaks(pages, stale);
	return !cfails;
}

/* ------------------------------------------------------ module unload */

static int unload(void)
{
	return syscall(__NR_delete_module, "test_hmm", O_NONBLOCK) ? -errno : 0;
}

static int load(void)
{
	int fd, ret;

	fd = open(MODULE_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, MODULE_PARAMS, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static bool loaded(void)
{
	return access("/sys/module/test_hmm", F_OK) == 0;
}

/* Load test_hmm if it is not, and wait for its four devices. */
static int ensure_loaded(void)
{
	int ret = 0, dev;

	if (!loaded())
		ret = load();
	if (ret && ret != -EEXIST)
		return ret;
	for (dev = 0; dev < 4; dev++) {
		char path[32];

		snprintf(path, sizeof(path), "/dev/hmm_dmirror%d", dev);
		for (int i = 0; i < 100 && access(path, F_OK); i++)
			usleep(10000);
		if (access(path, F_OK))
			return -ENODEV;
	}
	return 0;
}

/*
 * A worker process of the unload race: its own buffers to the device
 * (through files it closes at random), fuzzing without injection, and
 * every byte checked whatever happened to the module meanwhile.
 */
static int unload_worker(uint64_t seed, unsigned int seconds)
{
	static char copy[FPAGES * PS];
	uint64_t rng = seed, t0 = now_ms();
	char *page = fz_cmdpage();
	unsigned long bad = 0;
	int i;

	fz.no_inject = true;
	while (now_ms() - t0 < seconds * 1000ULL) {
		uint32_t s = rnd(&rng);
		char *buf = fbuf(s);
		int fd = open_dev(rnd_below(&rng, 4));

		if (fd >= 0) {
			atomic_store(&fz.fds[0], fd);
			migrate(fd, buf, copy, 1 + rnd_below(&rng, FPAGES));
			for (i = 0; i < 4 * NFDS && page; i++)
				bad += !fz_call(&rng, page);
			atomic_store(&fz.fds[0], -1);
			if (rnd_below(&rng, 2)) {
				close(fd);	/* pages stay on the device */
				fd = -1;
			}
		} else {
			usleep(1000);
		}
		if (bad32(buf, FPAGES * PS, s)) {
			say("FAIL %s: worker %d: buffer lost data", cname,
			    getpid());
			bad++;
		}
		if (fd >= 0)
			close(fd);
		munmap(buf, FPAGES * PS);
		usleep(rnd_below(&rng, 3000));
	}
	return bad != 0;
}

/* Pages on the device, files closed: the module goes, the data stays. */
static void unload_with_pages(int dev)
{
	static char copy[FPAGES * PS];
	char *buf = fbuf(0xd00 + dev);
	int fd = open_dev(dev), ret;

	CHECK(fd >= 0 && buf, "setup");
	if (fd < 0 || !buf)
		return;
	CHECK(!migrate(fd, buf, copy, FPAGES), "migration to device %d", dev);
	CHECK(unload() == -EWOULDBLOCK, "rmmod with a file open: %s",
	      loaded() ? "refused with another error" : "unloaded");
	close(fd);
	ret = unload();
	CHECK(ret == 0, "rmmod with device %d pages in use: %s", dev,
	      strerror(-ret));
	CHECK(!bad32(buf, FPAGES * PS, 0xd00 + dev), "data after rmmod");
	munmap(buf, FPAGES * PS);
	ret = ensure_loaded();
	CHECK(ret == 0, "reload: %s", strerror(-ret));
}

static bool case_unload(uint64_t seed, unsigned int seconds)
{
	unsigned long unloads = 0, refused = 0, loads_failed = 0;
	uint64_t rng = seed, t0;
	pid_t pid[2];
	int i, status, ret;

	CHECK(ensure_loaded() == 0, "test_hmm is not loaded");
	unload_with_pages(0);
	unload_with_pages(2);
	fz_reset();
	if (fz_setup()) {
		CHECK(0, "fuzzer setup");
		return false;
	}
	for (i = 0; i < 2; i++)
		pid[i] = spawn_self("--unload-worker", seed + i, seconds);
	for (t0 = now_ms(); now_ms() - t0 < seconds * 1000ULL;) {
		int fd = open_dev(rnd_below(&rng, 4));

		if (fd >= 0) {
			if (rnd_below(&rng, 2))
				dmirror(fd, HMM_DMIRROR_RELEASE, (uintptr_t)fz.sac,
					0, 1, NULL);
			dmirror(fd, HMM_DMIRROR_UNREGISTER, 0, 0, 0, NULL);
			close(fd);
		}
		ret = unload();
		if (!ret) {
			unloads++;
			usleep(rnd_below(&rng, 5000));
			if (ensure_loaded())
				loads_failed++;
		} else {
			CHECK(ret == -EWOULDBLOCK || ret == -EBUSY || ret == -ENOENT,
			      "rmmod: %s", strerror(-ret));
			refused++;
			if (!loaded() && ensure_loaded())
				loads_failed++;
		}
		usleep(rnd_below(&rng, 3000));
	}
	for (i = 0; i < 2; i++) {
		status = wait_spawned(pid[i], (seconds + 60) * 1000ULL * slow,
				      "an unload worker");
		CHECK(status != -1 && WIFEXITED(status) &&
		      !WEXITSTATUS(status), "worker %d failed (status %#x)", i,
		      status);
	}
	fz_teardown();
	ret = ensure_loaded();
	CHECK(ret == 0, "test_hmm cannot be loaded again: %s", strerror(-ret));
	CHECK(!loads_failed, "%lu reloads failed", loads_failed);
	say("%s: %lu unloads under load, %lu refused (files open)", cname,
	    unloads, refused);
	return !cfails;
}

/* The end of the run: nothing in use, nothing stale, one mirror each. */
static bool case_leaks(void)
{
	struct hmm_dmirror_stats st;
	int dev, fd;

	CHECK(loaded(), "test_hmm is not loaded at the end");
	for (dev = 0; dev < 4; dev++) {
		unsigned long mirrors;
		unsigned long long stale;
		long long backing;
		long leak = leaked_pages(dev, 0, &mirrors, &stale, &backing);

		CHECK(leak == 0, "device %d: %ld device pages in use", dev, leak);
		if (leak < 0)
			continue;
		CHECK(backing == 0, "device %d: %lld backing pages beyond one per device-private page in use",
		      dev, backing);
		CHECK(stale == 0, "device %d: checker counter stale is %llu",
		      dev, stale);
		CHECK(mirrors == 1, "device %d: %lu mirrors not freed", dev,
		      mirrors - 1);
		fd = open_dev(dev);
		if (fd >= 0 && !get_stats(fd, &st))
			say("leaks: device %d: %llu device pages in use, %llu of %llu free, %llu backing pages, stale %llu, %llu mirrors, %llu frees",
			    dev, st.device_pages, st.device_free,
			    st.device_memory, st.backing_pages, st.stale,
			    st.mirrors, st.frees);
		if (fd >= 0)
			close(fd);
	}
	return !cfails;
}

/* --------------------------------------------------------------- main */

static void usage(void)
{
	printf("usage: hmm-stress [--seconds N] [--seed S] [--only NAME] [--progress] [--mutate WHAT]\n"
	       "  no options: the CI run (seeds 1 2 3, about a minute)\n"
	       "  --seconds N   workload time in all, split into cases of up to 30 s\n"
	       "  --seed S      first seed (each case's seed is printed; rerun one with --seed S --seconds T)\n"
	       "  --only NAME   run the cases whose name contains NAME (others skip)\n"
	       "  --progress    a progress line per second (on by default from 60 s)\n"
	       "  --mutate WHAT break one check on purpose, to see it fail:\n"
	       "                model flip child ro wp pattern sigbus errno leak hang\n");
}

struct opts {
	unsigned int seconds;
	uint64_t seed;
	bool seed_given;
	const char *only;
};

static int parse(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--progress")) {
			progress = true;
			continue;
		}
		if (!v) {
			usage();
			return -1;
		}
		if (!strcmp(a, "--seconds"))
			o->seconds = atoi(v);
		else if (!strcmp(a, "--seed"))
			o->seed = strtoull(v, NULL, 0), o->seed_given = true;
		else if (!strcmp(a, "--only"))
			o->only = v;
		else if (!strcmp(a, "--mutate"))
			mutate = v;
		else {
			usage();
			return -1;
		}
		i++;
	}
	return 0;
}

static bool selected(const struct opts *o, const char *name)
{
	return !o->only || strstr(name, o->only);
}

/* Run one non-workload case and print its result line. */
static void run_other(const struct opts *o, const char *name,
		      bool (*fn)(uint64_t, unsigned int), uint64_t seed,
		      unsigned int seconds)
{
	uint64_t t0 = now_ms();
	bool ok;

	if (!selected(o, name)) {
		tap_result(true, "not selected", "%s", name);
		return;
	}
	cname = name;
	cfails = 0;
	kmsg("HMM-STRESS: case %s", name);
	say("%s: seed %llu", name, (unsigned long long)seed);
	ok = fn(seed, seconds);
	say("%s: %s in %.1f s", name, ok ? "passed" : "FAILED",
	    (now_ms() - t0) / 1000.0);
	tap_result(ok, NULL, "%s", name);
}

static bool fn_ctd(uint64_t s, unsigned int t) { return case_copy_to_device(s); }
static bool fn_cfd(uint64_t s, unsigned int t) { return case_copy_from_device(s); }
static bool fn_exh(uint64_t s, unsigned int t) { return case_exhaustion(s); }
static bool fn_slab(uint64_t s, unsigned int t)
{
	return case_fault_injection("/sys/kernel/debug/failslab", s, t);
}
static bool fn_fpa(uint64_t s, unsigned int t)
{
	return case_fault_injection("/sys/kernel/debug/fail_page_alloc", s, t);
}
static bool fn_fuzz(uint64_t s, unsigned int t) { return case_fuzz(s, t); }
static bool fn_unload(uint64_t s, unsigned int t) { return case_unload(s, t); }
static bool fn_leaks(uint64_t s, unsigned int t) { return case_leaks(); }

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	unsigned int ncases, case_s, extra_s, i;
	const char *flavor = getenv("HMM_FLAVOR");
	struct sigaction sa = { .sa_sigaction = on_fatal,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	uint64_t t0 = now_ms();

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (flavor && !strcmp(flavor, "debug"))
		slow = 4;
	/* The processes spawn_self() starts, with the run's --mutate. */
	if (getenv("HMM_STRESS_MUTATE"))
		mutate = getenv("HMM_STRESS_MUTATE");
	if (argc == 4 && !strcmp(argv[1], "--fuzz-process")) {
		cname = "ioctl-fuzz";
		return fz_run(strtoull(argv[2], NULL, 0), atoi(argv[3])) ? 0 : 1;
	}
	if (argc == 4 && !strcmp(argv[1], "--unload-worker")) {
		int bad;

		cname = "module-unload";
		if (fz_setup())
			return 1;
		bad = unload_worker(strtoull(argv[2], NULL, 0), atoi(argv[3]));
		fz_teardown();
		return bad;
	}
	if (parse(argc, argv, &o))
		return 2;
	if (o.seconds) {
		case_s = o.seconds < 90 ? (o.seconds + 2) / 3 : 30;
		ncases = (o.seconds + case_s - 1) / case_s;
		if (!o.seed_given)
			o.seed = (uint64_t)time(NULL) % 100000;
		extra_s = o.seconds >= 300 ? 10 : 3;
		if (o.seconds >= 60)
			progress = true;
	} else {
		case_s = 7;	/* the CI run: seeds 1, 2, 3 */
		ncases = 3;
		if (!o.seed_given)
			o.seed = 1;
		extra_s = 3;
	}
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	tap.planned = ncases + 8;
	printf("TAP version 13\n1..%d\n", tap.planned);
	say("hmm-stress: %u workload cases of %u s from seed %llu, then copy injection, device memory exhaustion, failslab, fail_page_alloc, ioctl fuzzing, module unload, leaks%s%s",
	    ncases, case_s, (unsigned long long)o.seed,
	    slow > 1 ? " (debug kernel: timeouts x4)" : "",
	    *mutate ? " -- MUTATION RUN" : "");
	if (ensure_loaded()) {
		say("test_hmm is not loaded and cannot be (%s)", MODULE_PATH);
		tap_end();
		return 1;
	}
	for (i = 0; i < ncases; i++) {
		const struct config *cfg = &configs[(o.seed + i) % 3];
		uint64_t seed = o.seed + i;
		char name[64];

		snprintf(name, sizeof(name), "seed-%llu %s",
			 (unsigned long long)seed, cfg->name);
		if (!selected(&o, name)) {
			tap_result(true, "not selected", "%s", name);
			continue;
		}
		tap_result(run_case(i + 1, seed, cfg, case_s), NULL, "%s", name);
	}
	run_other(&o, "copy-to-device-injection", fn_ctd, o.seed, 0);
	run_other(&o, "copy-from-device-injection", fn_cfd, o.seed, 0);
	run_other(&o, "device-memory-exhaustion", fn_exh, o.seed, 0);
	run_other(&o, "failslab", fn_slab, o.seed, extra_s);
	run_other(&o, "fail-page-alloc", fn_fpa, o.seed, extra_s);
	run_other(&o, "ioctl-fuzz", fn_fuzz, o.seed, 2 * extra_s);
	run_other(&o, "module-unload", fn_unload, o.seed, 2 * extra_s);
	run_other(&o, "leaks", fn_leaks, o.seed, 0);
	print_ops("all cases:", &total);
	say("run took %.1f s", (now_ms() - t0) / 1000.0);
	tap_end();
	return tap.fail ? 1 : 0;
}
