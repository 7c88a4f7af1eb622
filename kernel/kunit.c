// SPDX-License-Identifier: GPL-2.0-only
/*
 * efimap-kunit: runs the KUnit suites linked into it (a case exported by
 * `efimap export --as kunit`, built by `kernel/build.sh TREE OUT --kunit
 * FILE.c` against a kernel tree's own memmap code) in userspace, on the
 * shim's simulated memory, and prints the results as KTAP: one subtest
 * per suite, one result line per case, every failed check as `# ` lines
 * before its case's result.
 *
 * Each case starts on fresh simulated memory (zero filled). A check that
 * does not hold fails the case; an assertion also ends it there. So does
 * a crash of the code under test (the signal and the innermost function
 * are printed). Once the case has ended, every fault the shim recorded
 * while it ran (an access past a kunit_kzalloc() buffer, a use after
 * free, a bad free) is printed with the buffer and byte count and fails
 * the case too.
 *
 * Exit status: 0 when every case passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <efimap_kernel.h>
#include <kunit/test.h>
#include "shim.h"

/* The kernel files' struct efi; the cases do not use it. */
struct efi efi;

void efimap_reset_map_tracking(void);

/* The suites kunit_test_suites() placed in the efimap_kunit section. */
extern struct kunit_suite *const __start_efimap_kunit[] __attribute__((weak));
extern struct kunit_suite *const __stop_efimap_kunit[] __attribute__((weak));

#define IND "    "

/* A buffer a case got from kunit_kmalloc() or its kin, in order. */
struct kbuf {
	void *ptr;
	uint64_t phys, size;
	bool freed;
};

static struct {
	struct kunit *test;
	sigjmp_buf abort;
	volatile sig_atomic_t can_abort;
	volatile sig_atomic_t signal;
	struct kbuf *bufs;
	size_t nbufs, capbufs;
} run;

/* ------------------------------------------------------------------ */
/* Reporting                                                           */

/* Each line of `text` as a diagnostic of the running suite. */
static void diag_lines(const char *text)
{
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n");

		printf(IND "# %.*s\n", (int)n, p);
		p += n;
		if (*p)
			p++;
	}
}

static void failed_at(struct kunit *test, enum efimap_kunit_kind kind, const char *file, int line)
{
	test->failed = true;
	printf(IND "# %s: %s FAILED at %s:%d\n", test->name,
	       kind == EFIMAP_KUNIT_ASSERT ? "ASSERTION" : "EXPECTATION", file, line);
}

static void message(const char *fmt, va_list ap)
{
	char text[1024];

	if (!fmt)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	diag_lines(text);
}

/* An assertion ends the case (when one is running). */
static void end_if_assert(enum efimap_kunit_kind kind)
{
	if (kind == EFIMAP_KUNIT_ASSERT && run.can_abort) {
		run.can_abort = 0;
		siglongjmp(run.abort, 1);
	}
}

static void value(const char *text, unsigned long long v, bool is_signed)
{
	if (is_signed)
		printf(IND "#     %s == %lld (%#llx)\n", text, (long long)v, v);
	else
		printf(IND "#     %s == %llu (%#llx)\n", text, v, v);
}

void efimap_kunit_binary(struct kunit *test, enum efimap_kunit_kind kind,
			 const char *file, int line, const char *left,
			 const char *op, const char *right,
			 unsigned long long lval, bool lsigned,
			 unsigned long long rval, bool rsigned, const char *fmt, ...)
{
	va_list ap;

	failed_at(test, kind, file, line);
	printf(IND "# Expected %s %s %s, but\n", left, op, right);
	value(left, lval, lsigned);
	value(right, rval, rsigned);
	va_start(ap, fmt);
	message(fmt, ap);
	va_end(ap);
	fflush(stdout);
	end_if_assert(kind);
}

void efimap_kunit_fact(struct kunit *test, enum efimap_kunit_kind kind,
		       const char *file, int line, const char *what,
		       const char *fmt, ...)
{
	va_list ap;

	failed_at(test, kind, file, line);
	if (what)
		printf(IND "# Expected %s, but it is not so\n", what);
	va_start(ap, fmt);
	message(fmt, ap);
	va_end(ap);
	fflush(stdout);
	end_if_assert(kind);
}

void efimap_kunit_log(struct kunit *test, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	size_t n = strlen(text);

	if (n && text[n - 1] == '\n')
		text[n - 1] = 0;
	printf(IND "# %s: %s\n", test->name, text);
}

/* ------------------------------------------------------------------ */
/* Managed memory                                                      */

static void *keep(void *p, size_t size)
{
	if (!p)
		return NULL;
	if (run.nbufs == run.capbufs) {
		run.capbufs = run.capbufs ? 2 * run.capbufs : 16;
		run.bufs = realloc(run.bufs, run.capbufs * sizeof(*run.bufs));
	}
	run.bufs[run.nbufs++] = (struct kbuf){ p, efimap_virt_to_phys(p), size, false };
	return p;
}

void *kunit_kmalloc(struct kunit *test, size_t size, gfp_t gfp)
{
	(void)test;
	return keep(kmalloc(size, gfp), size);
}

void *kunit_kzalloc(struct kunit *test, size_t size, gfp_t gfp)
{
	(void)test;
	return keep(kzalloc(size, gfp), size);
}

void *kunit_kmalloc_array(struct kunit *test, size_t n, size_t size, gfp_t gfp)
{
	(void)test;
	if (size && n > SIZE_MAX / size)
		return NULL;
	return keep(kmalloc(n * size, gfp), n * size);
}

void *kunit_kcalloc(struct kunit *test, size_t n, size_t size, gfp_t gfp)
{
	return kunit_kmalloc_array(test, n, size, gfp | __GFP_ZERO);
}

void kunit_kfree(struct kunit *test, const void *ptr)
{
	(void)test;
	for (size_t i = 0; i < run.nbufs; i++)
		if (run.bufs[i].ptr == ptr && !run.bufs[i].freed) {
			run.bufs[i].freed = true;
			kfree(ptr);
			return;
		}
	kfree(ptr);
}

/* ------------------------------------------------------------------ */
/* The shim's faults                                                   */

struct block_line {
	long id;
	char kind[48], by[64];
	unsigned long long phys, size;
};

/* How a block is named in a report: the case's buffer, else the shim's. */
static void block_name(char *out, size_t cap, const struct block_line *b)
{
	for (size_t i = 0; b && i < run.nbufs; i++)
		if (run.bufs[i].phys == b->phys) {
			snprintf(out, cap, "kunit_kzalloc buffer %zu (%llu bytes)", i + 1,
				 (unsigned long long)run.bufs[i].size);
			return;
		}
	if (b)
		snprintf(out, cap, "block %ld (%s, %llu bytes, by %s)", b->id, b->kind, b->size, b->by);
	else
		snprintf(out, cap, "an address no block holds");
}

/*
 * Prints each fault the shim recorded, read back from its dump (the
 * `alloc` and `fault` records of kernel/PROTOCOL.md), and returns how
 * many there were.
 */
static int report_faults(struct kunit *test)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	struct block_line *blocks = NULL;
	size_t nblocks = 0;
	int n = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return 0;
	efimap_dump(f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct block_line b = { 0 };

		if (sscanf(line, "alloc %ld %47s %llx %llx %63s", &b.id, b.kind, &b.phys,
			   &b.size, b.by) == 5) {
			blocks = realloc(blocks, (nblocks + 1) * sizeof(*blocks));
			blocks[nblocks++] = b;
			continue;
		}
		char alloc[32], rw[4], kind[16], by[64], name[160];
		unsigned long long off, flen, accesses;

		if (sscanf(line, "fault %31s %llx %llx %3s %15s %63s %llu", alloc, &off, &flen,
			   rw, kind, by, &accesses) != 7)
			continue;
		const struct block_line *blk = NULL;
		long id = strcmp(alloc, "-") ? strtol(alloc, NULL, 10) : -1;

		for (size_t i = 0; i < nblocks; i++)
			if (blocks[i].id == id)
				blk = &blocks[i];
		block_name(name, sizeof(name), blk);
		const char *verb = rw[0] == 'w' ? "wrote" : "read";

		if (!strcmp(kind, "oob") || !strcmp(kind, "oob-pf"))
			printf(IND "# %s: FAULT: %s %s %llu bytes past the end of %s, at offset %#llx%s\n",
			       test->name, by, verb, flen, name, off,
			       kind[3] ? ", into the next, unmapped page" : "");
		else if (!strcmp(kind, "uaf"))
			printf(IND "# %s: FAULT: %s %s %llu bytes of %s after it was freed, at offset %#llx\n",
			       test->name, by, verb, flen, name, off);
		else if (!strcmp(kind, "double"))
			printf(IND "# %s: FAULT: %s freed %s a second time\n", test->name, by, name);
		else if (id < 0)
			printf(IND "# %s: FAULT: %s freed %#llx, which no block holds\n", test->name, by, off);
		else
			printf(IND "# %s: FAULT: %s freed %s at offset %#llx with a size it was not given\n",
			       test->name, by, name, off);
		n++;
	}
	free(blocks);
	free(text);
	return n;
}

/* ------------------------------------------------------------------ */
/* Running                                                             */

static void on_signal(int sig)
{
	if (run.can_abort) {
		run.can_abort = 0;
		run.signal = sig;
		siglongjmp(run.abort, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_handlers(void)
{
	static char altstack[1 << 16];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;
	int sigs[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP };

	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGABRT: return "SIGABRT";
	case SIGFPE: return "SIGFPE";
	case SIGILL: return "SIGILL";
	case SIGTRAP: return "SIGTRAP";
	default: return "a signal";
	}
}

/* One case on fresh simulated memory; true when it passed. */
static bool run_case(struct kunit_suite *suite, struct kunit_case *c)
{
	struct kunit test = { .name = c->name };

	efimap_reset(EFIMAP_FILL_ZERO, 0, false);
	efimap_reset_map_tracking();
	memset(&efi, 0, sizeof(efi));
	run.nbufs = 0;
	run.signal = 0;
	run.test = &test;
	if (suite->init && suite->init(&test)) {
		printf(IND "# %s: the suite's init failed\n", test.name);
		test.failed = true;
	} else {
		if (!sigsetjmp(run.abort, 1)) {
			run.can_abort = 1;
			c->run_case(&test);
		}
		run.can_abort = 0;
		if (run.signal) {
			printf(IND "# %s: crashed: %s in %s\n", test.name, signal_name(run.signal),
			       efimap_innermost_raw());
			test.failed = true;
		}
		/* An assertion or a crash left the instrumented frames behind. */
		efimap_stack_truncate(0);
		if (suite->exit)
			suite->exit(&test);
	}
	if (report_faults(&test))
		test.failed = true;
	for (size_t i = 0; i < run.nbufs; i++)
		if (!run.bufs[i].freed)
			kfree(run.bufs[i].ptr);
	run.nbufs = 0;
	run.test = NULL;
	return !test.failed;
}

int main(void)
{
	size_t nsuites = 0, suite_no = 0;
	unsigned passed = 0, failed = 0;
	bool all = true;

	setvbuf(stdout, NULL, _IOLBF, 0);
	efimap_init();
	install_handlers();
	if (__start_efimap_kunit)
		nsuites = (size_t)(__stop_efimap_kunit - __start_efimap_kunit);
	printf("KTAP version 1\n1..%zu\n", nsuites);
	for (size_t s = 0; s < nsuites; s++) {
		struct kunit_suite *suite = __start_efimap_kunit[s];
		unsigned sp = 0, sf = 0, total = 0;
		bool ok = true;

		for (struct kunit_case *c = suite->test_cases; c && c->run_case; c++)
			total++;
		printf(IND "KTAP version 1\n" IND "# Subtest: %s\n" IND "1..%u\n", suite->name, total);
		if (suite->suite_init && suite->suite_init(suite)) {
			printf(IND "# %s: the suite's suite_init failed\n", suite->name);
			ok = false;
			sf = total;
		} else {
			unsigned no = 0;

			for (struct kunit_case *c = suite->test_cases; c && c->run_case; c++) {
				bool pass = run_case(suite, c);

				printf(IND "%s %u %s\n", pass ? "ok" : "not ok", ++no, c->name);
				if (pass)
					sp++;
				else
					sf++;
			}
			if (suite->suite_exit)
				suite->suite_exit(suite);
		}
		ok = ok && !sf;
		printf("# %s: pass:%u fail:%u skip:0 total:%u\n", suite->name, sp, sf, total);
		printf("%s %zu %s\n", ok ? "ok" : "not ok", ++suite_no, suite->name);
		passed += sp;
		failed += sf;
		all = all && ok;
	}
	printf("# Totals: pass:%u fail:%u skip:0 total:%u\n", passed, failed, passed + failed);
	return all ? 0 : 1;
}
