// SPDX-License-Identifier: GPL-2.0-only
/*
 * efimap's coverage bridge: the kernel files' coverage for a fuzzer that
 * loads libefimap-kernel.so into its own process (kernel/build.sh --fuzz,
 * the diff_tree fuzz target).
 *
 * With --fuzz the kernel files are compiled with gcc's
 * -fsanitize-coverage=trace-pc,trace-cmp, and build.sh renames the calls
 * gcc emits (__sanitizer_cov_*) to the efimap_cov_* below. libFuzzer takes
 * neither gcc's trace-pc (it only warns that it is deprecated) nor a
 * library's symbols it cannot see, so the bridge works the other way
 * round: each basic block's call counts an edge (the block and the one
 * before it, hashed, as AFL counts them) in an array of 8-bit counters,
 * which the host registers with libFuzzer as one more module of inline
 * counters (with a table of made-up PCs, one a counter); and the comparisons go to libFuzzer's hooks, which the host
 * hands over with efimap_cov_setup. A comparison hook is called as a tail
 * call, so libFuzzer sees the kernel code's own address as the caller.
 */
#include <stddef.h>
#include <stdint.h>

#ifndef EFIMAP_COV_BUILT
#define EFIMAP_COV_BUILT 0
#endif

#define COUNTERS (1 << 16)

static uint8_t counters[COUNTERS] __attribute__((aligned(4096)));
static uintptr_t prev;
/*
 * libFuzzer wants a table of {PC, flags} beside a module's counters, one
 * entry a counter. An edge has no one PC: each entry names its counter's
 * own address, which is unique and means nothing else.
 */
static uintptr_t pcs[2 * COUNTERS];

/* libFuzzer's comparison hooks, as the host passes them. */
struct efimap_cov_hooks {
	void (*cmp1)(uint8_t, uint8_t);
	void (*cmp2)(uint16_t, uint16_t);
	void (*cmp4)(uint32_t, uint32_t);
	void (*cmp8)(uint64_t, uint64_t);
	void (*const_cmp1)(uint8_t, uint8_t);
	void (*const_cmp2)(uint16_t, uint16_t);
	void (*const_cmp4)(uint32_t, uint32_t);
	void (*const_cmp8)(uint64_t, uint64_t);
	void (*switch_)(uint64_t, uint64_t *);
};

static struct efimap_cov_hooks hooks;

struct efimap_cov_module {
	uint8_t *counters, *counters_end;
	const uintptr_t *pcs, *pcs_end;
};

int efimap_cov_setup(const struct efimap_cov_hooks *h, struct efimap_cov_module *m);
void efimap_cov_begin(void);

/*
 * Takes the host's hooks (NULL: none) and gives the bounds of the
 * counters and of their PC table. Returns 1 when the kernel files were
 * compiled with coverage, else 0 (the counters then never move).
 */
int efimap_cov_setup(const struct efimap_cov_hooks *h, struct efimap_cov_module *m)
{
	if (h)
		hooks = *h;
	for (size_t i = 0; i < COUNTERS; i++) {
		pcs[2 * i] = (uintptr_t)&counters[i];
		pcs[2 * i + 1] = 0;
	}
	m->counters = counters;
	m->counters_end = counters + COUNTERS;
	m->pcs = pcs;
	m->pcs_end = pcs + 2 * COUNTERS;
	return EFIMAP_COV_BUILT;
}

/* A boot starts: its first block is no edge's end. */
void efimap_cov_begin(void)
{
	prev = 0;
}

void efimap_cov_trace_pc(void);
void efimap_cov_trace_pc(void)
{
	uintptr_t pc = (uintptr_t)__builtin_return_address(0);
	uintptr_t cur = ((pc >> 4) ^ (pc << 8)) * 0x9e3779b1u;

	cur = (cur >> 16) & (COUNTERS - 1);
	counters[cur ^ prev]++;
	prev = cur >> 1;
}

#define CMP(name, type)                                        \
	void efimap_cov_trace_##name(type a, type b);          \
	void efimap_cov_trace_##name(type a, type b)           \
	{                                                      \
		if (hooks.name)                                \
			hooks.name(a, b);                      \
	}

CMP(cmp1, uint8_t)
CMP(cmp2, uint16_t)
CMP(cmp4, uint32_t)
CMP(cmp8, uint64_t)
CMP(const_cmp1, uint8_t)
CMP(const_cmp2, uint16_t)
CMP(const_cmp4, uint32_t)
CMP(const_cmp8, uint64_t)

void efimap_cov_trace_switch(uint64_t v, uint64_t *cases);
void efimap_cov_trace_switch(uint64_t v, uint64_t *cases)
{
	if (hooks.switch_)
		hooks.switch_(v, cases);
}

/* Floating-point comparisons: the kernel files have none to speak of. */
void efimap_cov_trace_cmpf(float a, float b);
void efimap_cov_trace_cmpf(float a, float b)
{
	(void)a;
	(void)b;
}

void efimap_cov_trace_cmpd(double a, double b);
void efimap_cov_trace_cmpd(double a, double b)
{
	(void)a;
	(void)b;
}
