// SPDX-License-Identifier: GPL-2.0-only
/*
 * efimap's kernel shim: the simulated physical memory the EFI memory-map
 * code runs on, the record of what it printed and asked for, and the call
 * stack that names who did what. It mirrors the Rust model
 * (core/src/model/mem.rs and kernel.rs) so that the two can be compared
 * record for record.
 *
 * Host memory: one large reservation (the arena) is carved into blocks in
 * creation order. Each block covers its whole pages plus a shadow of
 * EFIMAP_SHADOW_BYTES, followed by an inaccessible guard page, so that an
 * overrun by the kernel code lands in memory the shim owns and is seen
 * when it is checked. Accesses are checked three ways: the string
 * functions the kernel files call (memcpy and friends, redefined), and
 * every load and store the compiler instruments in the kernel files
 * (gcc's -fsanitize=thread callbacks, renamed to efimap_tsan_* at build
 * time).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <efimap_kernel.h>
#include "shim.h"

/* ------------------------------------------------------------------ */
/* Names                                                               */

/* The functions on the model's call stack: func.rs's table up to its
 * helpers, in its order (a test there holds the two equal). */
static const char *const model_functions[] = {
	"start_kernel", "setup_arch", "parse_early_param", "setup_fake_mem",
	"efi_memblock_x86_reserve_range", "efi_init", "efi_clean_memmap",
	"efi_print_memmap", "efi_fake_memmap", "efi_fake_memmap_early",
	"efi_fake_range", "efi_mem_reserve", "efi_arch_mem_reserve",
	"efi_mem_desc_lookup", "efi_memmap_split_count", "efi_memmap_insert",
	"efi_memmap_alloc", "__efi_memmap_free", "__efi_memmap_init",
	"efi_memmap_install", "efi_memmap_init_early", "efi_memmap_init_late",
	"efi_memmap_unmap", "__early_ioremap", "kexec_enter_virtual_mode",
	"efi_enter_virtual_mode", "efi_reserve_boot_services",
	"efi_unmap_boot_services", "efi_free_boot_services",
	"efi_runtime_map_init", "__efi_enter_virtual_mode", "efi_map_regions",
	"do_initcalls", "e820__memory_setup", "efi_remove_e820_mmio",
	"efi_bgrt_init",
};

/* The memmap API, acting on a caller's behalf: kernel.rs's MEMMAP_API
 * (the same test holds them equal). */
static const char *const memmap_api[] = {
	"efi_memmap_split_count", "efi_memmap_insert", "efi_memmap_alloc",
	"__efi_memmap_free", "__efi_memmap_init", "efi_memmap_install",
	"efi_memmap_init_early", "efi_memmap_init_late", "efi_memmap_unmap",
	"efi_fake_range", "efi_mem_desc_lookup",
};

#define N_FUNCS (sizeof(model_functions) / sizeof(model_functions[0]))
#define N_API (sizeof(memmap_api) / sizeof(memmap_api[0]))

/* The model's spelling of a kernel function, or NULL if it has none. */
static const char *model_name(const char *raw)
{
	char buf[128];
	size_t n = strcspn(raw, ".");

	if (n >= sizeof(buf))
		return NULL;
	memcpy(buf, raw, n);
	buf[n] = 0;
	/* 6.12 has the lookup as __efi_mem_desc_lookup behind a weak alias. */
	if (!strcmp(buf, "__efi_mem_desc_lookup"))
		strcpy(buf, "efi_mem_desc_lookup");
	for (size_t i = 0; i < N_FUNCS; i++)
		if (!strcmp(buf, model_functions[i]))
			return model_functions[i];
	return NULL;
}

static bool is_api(const char *name)
{
	for (size_t i = 0; i < N_API; i++)
		if (name == memmap_api[i] || !strcmp(name, memmap_api[i]))
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Symbols of the driver or the library, for the instrumentation hooks */

struct sym {
	uintptr_t addr;
	const char *raw;
	const char *model;
};

static struct sym *syms;
static size_t nsyms;

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * The file the shim was linked into: the driver executable, or
 * libefimap-kernel.so when a host program loaded the shared library.
 */
static const char *own_file(void)
{
	Dl_info info;
	struct link_map *lm = NULL;

	if (dladdr1((void *)&efimap_init, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm &&
	    lm->l_name && lm->l_name[0])
		return lm->l_name;
	return "/proc/self/exe";
}

static void load_symbols(void)
{
	int fd = open(own_file(), O_RDONLY);
	struct stat st;
	uint8_t *img;

	if (fd < 0 || fstat(fd, &st) < 0)
		return;
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED)
		return;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + eh->e_shoff);
	uintptr_t bias = 0;
	bool have_bias = false;

	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB)
			continue;
		Elf64_Sym *st_syms = (Elf64_Sym *)(img + sh[i].sh_offset);
		size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
		const char *strtab = (const char *)(img + sh[sh[i].sh_link].sh_offset);

		syms = calloc(n, sizeof(*syms));
		for (size_t j = 0; j < n; j++) {
			if (ELF64_ST_TYPE(st_syms[j].st_info) != STT_FUNC || !st_syms[j].st_value)
				continue;
			const char *nm = strtab + st_syms[j].st_name;

			if (!strcmp(nm, "efimap_init")) {
				bias = (uintptr_t)&efimap_init - st_syms[j].st_value;
				have_bias = true;
			}
			syms[nsyms].addr = st_syms[j].st_value;
			syms[nsyms].raw = nm;
			syms[nsyms].model = model_name(nm);
			nsyms++;
		}
	}
	if (!have_bias)
		bias = 0;
	for (size_t j = 0; j < nsyms; j++)
		syms[j].addr += bias;
	qsort(syms, nsyms, sizeof(*syms), sym_cmp);
}

static const struct sym *find_sym(uintptr_t addr)
{
	size_t lo = 0, hi = nsyms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &syms[lo - 1] : NULL;
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */

/*
 * How often each function was entered in this boot, by name: the model's
 * spelling where it has one (its names are the pointers model_name
 * returns, so a name is one pointer), the symbol's otherwise. Written as
 * `calls NAME N` records, what the model counts as Outcome::calls.
 */
#define CALLS_MAX 512
static struct { const char *name; uint32_t n; } calls[CALLS_MAX];
static size_t n_calls;

static void count_call(const char *name)
{
	for (size_t i = 0; i < n_calls; i++)
		if (calls[i].name == name) {
			calls[i].n++;
			return;
		}
	if (n_calls < CALLS_MAX)
		calls[n_calls++] = (typeof(calls[0])){ name, 1 };
}

/* ------------------------------------------------------------------ */
/* The call stack                                                      */

struct frame {
	const char *raw;
	const char *model; /* NULL: not a function the model names */
};

#define STACK_MAX 4096
static struct frame stack[STACK_MAX];
static int depth;

void efimap_phase(const char *name)
{
	depth = 0;
	efimap_push(name);
}

void efimap_push(const char *name)
{
	const char *model = model_name(name);

	count_call(model ? model : name);
	if (depth < STACK_MAX) {
		stack[depth].raw = name;
		stack[depth].model = model_name(name);
	}
	depth++;
}

void efimap_pop(void)
{
	if (depth > 0)
		depth--;
}

int efimap_stack_depth(void)
{
	return depth;
}

void efimap_stack_truncate(int d)
{
	if (d < depth)
		depth = d;
}

static int top(void)
{
	return depth < STACK_MAX ? depth : STACK_MAX;
}

/* The function running now, as the model names it. */
const char *efimap_cur(void)
{
	for (int i = top() - 1; i >= 0; i--)
		if (stack[i].model)
			return stack[i].model;
	return "start_kernel";
}

const char *efimap_innermost_raw(void)
{
	return top() ? stack[top() - 1].raw : "start_kernel";
}

/* The innermost caller outside the memmap API (kernel.rs culprit). */
static const char *culprit(void)
{
	for (int i = top() - 1; i >= 0; i--)
		if (stack[i].model && !is_api(stack[i].model))
			return stack[i].model;
	return "start_kernel";
}

/* The outermost memmap API function on the stack (kernel.rs api_entry). */
static const char *api_entry(void)
{
	for (int i = 0; i < top(); i++)
		if (stack[i].model && is_api(stack[i].model))
			return stack[i].model;
	return efimap_cur();
}

static bool on_stack(const char *model)
{
	for (int i = 0; i < top(); i++)
		if (stack[i].model && !strcmp(stack[i].model, model))
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Records                                                             */

struct event {
	enum efimap_level level;
	const char *func;
	char *text;
};

enum fault_kind { F_OOB, F_OOB_PF, F_UAF, F_DOUBLE, F_BAD };

struct fault {
	long alloc;
	uint64_t offset, len;
	bool write;
	enum fault_kind kind;
	const char *by;
	uint64_t accesses;
};

enum e820_op { E_UPDATE, E_REMOVE, E_ADD };

struct e820_rec {
	enum e820_op op;
	uint64_t start, size;
	unsigned from, to;
	const char *by;
};

struct copied {
	uint64_t offset, start, pages;
};

struct insert_rec {
	const char *caller;
	long buf;
	uint64_t start, end, attr;
	uint64_t map_len, desc_size, written, room;
	struct copied *copied;
	size_t ncopied, capcopied;
	/* while the call runs */
	const uint8_t *old_map;
	const uint8_t *last_src;
};

struct install_rec {
	const char *kind;
	const char *by;
	struct efimap_stage stage;
	uint64_t phys;
	long alloc;
	uint8_t *bytes;
	uint64_t nbytes;
};

struct range_rec {
	uint64_t start, end;
	const char *by;
};

#define VEC(type, name) static type *name; static size_t n_##name, cap_##name
#define PUSH(name, val) do { if (n_##name == cap_##name) { \
	cap_##name = cap_##name ? 2 * cap_##name : 16; \
	name = realloc(name, cap_##name * sizeof(*name)); } \
	name[n_##name++] = (val); } while (0)

VEC(struct event, events);
VEC(struct fault, faults);
VEC(struct e820_rec, e820s);
VEC(struct insert_rec, inserts);
VEC(struct install_rec, installs);
VEC(struct range_rec, freeds);
VEC(struct range_rec, kepts);
VEC(struct range_rec, reserved); /* start, size */

struct efimap_stage efimap_stage;
bool efimap_slab_available;
bool efimap_virtual_mode;
bool efimap_quiet;
unsigned long efimap_boot_gen = 1;
static bool last_event_dropped;
static struct insert_rec *cur_insert;

/* ------------------------------------------------------------------ */
/* Simulated memory                                                    */

enum block_kind { B_FIRMWARE, B_MEMBLOCK, B_PAGES, B_SLAB };

struct block {
	enum block_kind kind;
	unsigned order;
	uint64_t object;
	uint64_t phys, size, page_base, mapped;
	const char *by, *freed_by;
	uint8_t *host;    /* host address of page_base */
	uint64_t backing; /* bytes of whole pages */
	uint64_t span;    /* backing + shadow */
};

VEC(struct block, blocks);

#define ARENA_BYTES (64ULL << 30)
static uint8_t *arena;
static uint64_t arena_used;
static uint8_t *arena_lo, *arena_hi; /* carved part */

static enum efimap_fill fill_mode;
static uint8_t fill_byte;
static uint64_t memblock_top, pages_next, slab_next, total;
static long last_freed = -1;
static uint64_t pending_order_size;
static bool pending_order_valid;

static uint64_t page_floor(uint64_t x) { return x & ~0xfffULL; }
static uint64_t page_ceil(uint64_t x) { return (x + 0xfff) & ~0xfffULL; }

static uint8_t *host_of(const struct block *b, uint64_t phys)
{
	return b->host + (phys - b->page_base);
}

static uint8_t *carve(uint64_t span)
{
	uint64_t need = page_ceil(span) + 4096;
	uint8_t *p;

	if (arena_used + need > ARENA_BYTES) {
		fprintf(stderr, "efimap: arena exhausted\n");
		abort();
	}
	p = arena + arena_used;
	arena_used += need;
	mprotect(p + page_ceil(span), 4096, PROT_NONE);
	arena_lo = arena;
	arena_hi = arena + arena_used;
	return p;
}

static bool reserve_bytes(uint64_t bytes)
{
	uint64_t t = total + bytes;

	if (t < total || t > EFIMAP_MAX_TOTAL_BYTES)
		return false;
	total = t;
	return true;
}

/* Fills `len` bytes of fresh backing whose block starts `start` bytes in. */
static void fresh(uint8_t *dst, uint64_t start, uint64_t len)
{
	switch (fill_mode) {
	case EFIMAP_FILL_ZERO:
		memset(dst, 0, len);
		break;
	case EFIMAP_FILL_PATTERN:
		memset(dst, fill_byte, len);
		break;
	case EFIMAP_FILL_STALE:
		memset(dst, 0, len);
		if (last_freed >= 0) {
			struct block *old = &blocks[last_freed];
			uint64_t n = old->size < len - start ? old->size : len - start;

			memcpy(dst + start, host_of(old, old->phys), n);
		}
		break;
	}
}

static long push_block(enum block_kind kind, uint64_t phys, uint64_t size,
		       uint64_t end, const char *by)
{
	struct block b = { 0 };

	b.kind = kind;
	b.phys = phys;
	b.size = size;
	b.page_base = page_floor(phys);
	if (!end) {
		end = page_ceil(phys + size);
		if (end < b.page_base + 4096)
			end = b.page_base + 4096;
	}
	b.backing = end - b.page_base;
	b.span = b.backing + EFIMAP_SHADOW_BYTES;
	b.mapped = end - phys;
	b.by = by;
	b.host = carve(b.span);
	fresh(b.host, phys - b.page_base, b.backing);
	PUSH(blocks, b);
	return (long)n_blocks - 1;
}

/* The newest block holding `phys`, freed or not (mem.rs find). */
static long find_phys(uint64_t phys)
{
	for (long i = (long)n_blocks - 1; i >= 0; i--) {
		uint64_t sz = blocks[i].size ? blocks[i].size : 1;

		if (phys >= blocks[i].phys && phys - blocks[i].phys < sz)
			return i;
	}
	return -1;
}

/* The block whose host range (pages and shadow) holds `p`. */
static long find_host(const void *p)
{
	const uint8_t *q = p;
	size_t lo = 0, hi = n_blocks;

	if (q < arena_lo || q >= arena_hi)
		return -1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (blocks[mid].host <= q)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	lo--;
	if (q < blocks[lo].host + blocks[lo].span)
		return (long)lo;
	return -1;
}

static void record(struct fault f)
{
	for (size_t i = 0; i < n_faults; i++) {
		struct fault *g = &faults[i];

		if (g->alloc == f.alloc && g->write == f.write && g->kind == f.kind &&
		    !strcmp(g->by, f.by)) {
			uint64_t fend = f.offset + f.len < f.offset ? UINT64_MAX : f.offset + f.len;
			uint64_t end = g->offset + g->len > fend ? g->offset + g->len : fend;

			if (f.offset < g->offset)
				g->offset = f.offset;
			g->len = end - g->offset;
			g->accesses++;
			return;
		}
	}
	PUSH(faults, f);
}

/* mem.rs check: what is wrong with `len` bytes at `offset` into block `id`. */
static void check(long id, uint64_t offset, uint64_t len, bool write, const char *by)
{
	struct block *a = &blocks[id];
	uint64_t end, bad_from, silent_end, pf_from;

	if (a->freed_by)
		record((struct fault){ id, offset, len, write, F_UAF, by, 1 });
	end = offset + len < offset ? UINT64_MAX : offset + len;
	if (end <= a->size)
		return;
	bad_from = offset > a->size ? offset : a->size;
	silent_end = end < a->mapped ? end : a->mapped;
	if (silent_end > bad_from)
		record((struct fault){ id, bad_from, silent_end - bad_from, write, F_OOB, by, 1 });
	pf_from = bad_from > a->mapped ? bad_from : a->mapped;
	if (end > pf_from)
		record((struct fault){ id, pf_from, end - pf_from, write, F_OOB_PF, by, 1 });
}

static void check_host(const void *p, uint64_t len, bool write)
{
	long id;

	if (!len)
		return;
	id = find_host(p);
	if (id < 0)
		return;
	check(id, (uint64_t)((const uint8_t *)p - host_of(&blocks[id], blocks[id].phys)),
	      len, write, efimap_cur());
}

void efimap_check_read(const void *p, uint64_t len)
{
	check_host(p, len, false);
}

static bool free_size_matches(const struct block *a, uint64_t size, int order)
{
	switch (a->kind) {
	case B_PAGES:
		return order >= 0 ? (unsigned)order == a->order
				  : (unsigned)efimap_get_order(size) == a->order;
	case B_SLAB:
		return true;
	default:
		return size == a->size;
	}
}

/* mem.rs free: poison the block at `phys`; order < 0 when the caller gave a size. */
static void mem_free(uint64_t phys, uint64_t size, int order, const char *by)
{
	long id = find_phys(phys);
	enum fault_kind kind;
	bool bad = false;

	if (id < 0) {
		record((struct fault){ -1, phys, size, true, F_BAD, by, 1 });
		return;
	}
	struct block *a = &blocks[id];

	if (a->freed_by) {
		kind = F_DOUBLE;
		bad = true;
	} else if (a->phys != phys || !free_size_matches(a, size, order)) {
		kind = F_BAD;
		bad = true;
	}
	if (bad)
		record((struct fault){ id, phys - a->phys, size, true, kind, by, 1 });
	if (!a->freed_by) {
		a->freed_by = by;
		last_freed = id;
	}
}

/* ------------------------------------------------------------------ */
/* Setup and reset                                                     */

void efimap_init(void)
{
	load_symbols();
	arena = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED) {
		perror("efimap: mmap arena");
		exit(1);
	}
}

void efimap_reset(enum efimap_fill fill, unsigned pattern, bool quiet)
{
	for (size_t i = 0; i < n_events; i++)
		free(events[i].text);
	for (size_t i = 0; i < n_inserts; i++)
		free(inserts[i].copied);
	for (size_t i = 0; i < n_installs; i++)
		free(installs[i].bytes);
	n_events = n_faults = n_e820s = n_inserts = n_installs = 0;
	n_freeds = n_kepts = n_reserved = n_blocks = 0;
	if (arena_used) {
		mprotect(arena, arena_used, PROT_READ | PROT_WRITE);
		madvise(arena, arena_used, MADV_DONTNEED);
	}
	arena_used = 0;
	arena_lo = arena_hi = arena;
	fill_mode = fill;
	fill_byte = (uint8_t)pattern;
	memblock_top = EFIMAP_MEMBLOCK_TOP;
	pages_next = EFIMAP_PAGES_BASE;
	slab_next = EFIMAP_SLAB_BASE;
	total = 0;
	last_freed = -1;
	pending_order_valid = false;
	memset(&efimap_stage, 0, sizeof(efimap_stage));
	efimap_slab_available = false;
	efimap_virtual_mode = false;
	efimap_quiet = quiet;
	efimap_boot_gen++;
	last_event_dropped = false;
	cur_insert = NULL;
	depth = 0;
	n_calls = 0;
	efimap_cov_begin();
	/* The first 64 KiB, reserved before any EFI code runs. */
	PUSH(reserved, ((struct range_rec){ 0, EFIMAP_LOW_RESERVED, NULL }));
}

void efimap_place_firmware(const void *bytes, uint64_t len)
{
	long id = push_block(B_FIRMWARE, EFIMAP_FIRMWARE_MAP_PHYS, len, 0, "firmware");

	memcpy(host_of(&blocks[id], EFIMAP_FIRMWARE_MAP_PHYS), bytes, len);
}

/* ------------------------------------------------------------------ */
/* Allocators                                                          */

phys_addr_t memblock_phys_alloc(phys_addr_t size, phys_addr_t align)
{
	uint64_t phys;

	(void)align; /* SMP_CACHE_BYTES in every caller */
	if (size > EFIMAP_MAX_MAP_BYTES || size > memblock_top)
		return 0;
	phys = (memblock_top - size) & ~63ULL;
	if (phys < EFIMAP_MEMBLOCK_FLOOR + 4096 || !reserve_bytes(size))
		return 0;
	memblock_top = page_floor(phys) - 4096;
	push_block(B_MEMBLOCK, phys, size, 0, culprit());
	return phys;
}

int efimap_get_order(unsigned long size)
{
	uint64_t pages = (size + 4095) / 4096;
	int order = 0;

	if (!pages)
		pages = 1;
	while ((1ULL << order) < pages)
		order++;
	pending_order_size = size;
	pending_order_valid = true;
	return order;
}

static uint64_t page_alloc(uint64_t size, unsigned order)
{
	uint64_t block = 4096ULL << order, phys;
	long id;

	if (!reserve_bytes(block))
		return 0;
	phys = (pages_next + block - 1) / block * block;
	pages_next = phys + block + 4096;
	id = push_block(B_PAGES, phys, size, phys + block, culprit());
	blocks[id].order = order;
	return phys;
}

struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	uint64_t size = 4096ULL << order, phys;

	(void)gfp;
	if (pending_order_valid && (unsigned)efimap_get_order(pending_order_size) == order)
		size = pending_order_size;
	pending_order_valid = false;
	/* efi_memmap_alloc's requests beyond what the model simulates fail. */
	if (size > EFIMAP_MAX_MAP_BYTES)
		return NULL;
	phys = page_alloc(size, order);
	return phys ? pfn_to_page(phys >> 12) : NULL;
}

unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
	uint64_t phys;

	(void)gfp;
	pending_order_valid = false;
	phys = page_alloc(4096ULL << order, order);
	if (!phys)
		return 0;
	return (unsigned long)host_of(&blocks[n_blocks - 1], phys);
}

void free_pages(unsigned long addr, unsigned int order)
{
	uint64_t size = 4096ULL << order;

	if (pending_order_valid && (unsigned)efimap_get_order(pending_order_size) == order)
		size = pending_order_size;
	pending_order_valid = false;
	if (!addr)
		return;
	mem_free(efimap_virt_to_phys((void *)addr), size, (int)order, api_entry());
}

void __free_pages(struct page *page, unsigned int order)
{
	free_pages((unsigned long)page_address(page), order);
}

static const uint64_t kmalloc_sizes[] = {
	8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
};

void *kmalloc(size_t size, gfp_t flags)
{
	uint64_t object = 0, phys;
	long id;

	for (size_t i = 0; i < sizeof(kmalloc_sizes) / sizeof(kmalloc_sizes[0]); i++)
		if (kmalloc_sizes[i] >= size) {
			object = kmalloc_sizes[i];
			break;
		}
	if (!object)
		object = page_ceil(size) ? page_ceil(size) : 4096;
	if (size == 0 || !reserve_bytes(object))
		return NULL;
	phys = slab_next;
	slab_next = phys + page_ceil(object) + 4096;
	id = push_block(B_SLAB, phys, size, 0, culprit());
	blocks[id].object = object;
	if (flags & __GFP_ZERO)
		memset(host_of(&blocks[id], phys), 0, size);
	return host_of(&blocks[id], phys);
}

void *kzalloc(size_t size, gfp_t flags)
{
	return kmalloc(size, flags | __GFP_ZERO);
}

void *kcalloc(size_t n, size_t size, gfp_t flags)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kmalloc(n * size, flags | __GFP_ZERO);
}

void *kmalloc_array(size_t n, size_t size, gfp_t flags)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kmalloc(n * size, flags);
}

void kfree(const void *p)
{
	long id;

	if (!p || (uintptr_t)p <= 16)
		return;
	id = find_host(p);
	if (id < 0) {
		record((struct fault){ -1, (uint64_t)(uintptr_t)p, 0, true, F_BAD, api_entry(), 1 });
		return;
	}
	mem_free(efimap_virt_to_phys(p), blocks[id].size, -1, api_entry());
}

/* A free of a map block from __efi_memmap_free, or of boot-services memory. */
static void memblock_release(phys_addr_t base, phys_addr_t size, const char *how)
{
	if (on_stack("__efi_memmap_free") || find_phys(base) >= 0 && !on_stack("efi_free_boot_services"))
		mem_free(base, size, -1, api_entry());
	else
		PUSH(freeds, ((struct range_rec){ base, base + size, how }));
}

void memblock_phys_free(phys_addr_t base, phys_addr_t size)
{
	memblock_release(base, size, "memblock_phys_free");
}

void memblock_free(void *ptr, size_t size)
{
	memblock_release(efimap_virt_to_phys(ptr), size, "memblock_free");
}

void memblock_free_late(phys_addr_t base, phys_addr_t size)
{
	memblock_release(base, size, "memblock_free_late");
}

int memblock_reserve(phys_addr_t base, phys_addr_t size)
{
	PUSH(reserved, ((struct range_rec){ base, size, NULL }));
	return 0;
}

static bool hits(uint64_t s, uint64_t z, uint64_t start, uint64_t size)
{
	unsigned __int128 end = (unsigned __int128)start + size;

	return (unsigned __int128)s < end && (unsigned __int128)start < (unsigned __int128)s + z;
}

bool memblock_is_region_reserved(phys_addr_t base, phys_addr_t size)
{
	bool r = false;

	for (size_t i = 0; i < n_reserved && !r; i++)
		r = hits(reserved[i].start, reserved[i].end, base, size);
	for (size_t i = 0; i < n_blocks && !r; i++)
		r = (blocks[i].kind == B_MEMBLOCK || blocks[i].kind == B_FIRMWARE) &&
		    !blocks[i].freed_by && hits(blocks[i].phys, blocks[i].size, base, size);
	/* efi_reserve_boot_services tags a region reserved already RUNTIME. */
	if (r && !strcmp(efimap_cur(), "efi_reserve_boot_services"))
		PUSH(kepts, ((struct range_rec){ base, size, NULL }));
	return r;
}

unsigned long free_reserved_area(void *start, void *end, int poison, const char *s)
{
	uint64_t ps = efimap_virt_to_phys(start), pe = efimap_virt_to_phys(end);

	(void)poison;
	(void)s;
	PUSH(freeds, ((struct range_rec){ ps, pe, "free_reserved_area" }));
	return (pe - ps) >> 12;
}

bool slab_is_available(void)
{
	return efimap_slab_available;
}

/* ------------------------------------------------------------------ */
/* Mappings                                                            */

static void warn_in(const char *file, const char *func);

void *early_memremap(resource_size_t phys, unsigned long size)
{
	uint64_t last = phys + size - 1;
	long id;

	count_call(model_name("__early_ioremap"));
	if (size == 0 || last < phys ||
	    (last >> 12) - (phys >> 12) + 1 > EFIMAP_NR_FIX_BTMAPS) {
		warn_in("mm/early_ioremap.c", "__early_ioremap");
		return NULL;
	}
	id = find_phys(phys);
	return id < 0 ? NULL : host_of(&blocks[id], phys);
}

void *early_memremap_ro(resource_size_t phys, unsigned long size)
{
	return early_memremap(phys, size);
}

void *early_memremap_prot(resource_size_t phys, unsigned long size, unsigned long prot)
{
	(void)prot;
	return early_memremap(phys, size);
}

void *early_ioremap(resource_size_t phys, unsigned long size)
{
	return early_memremap(phys, size);
}

void early_memunmap(void *addr, unsigned long size) { (void)addr; (void)size; }
void early_iounmap(void *addr, unsigned long size) { (void)addr; (void)size; }

void *memremap(resource_size_t phys, size_t size, unsigned long flags)
{
	long id;

	(void)flags;
	count_call("memremap");
	if (size > EFIMAP_MAX_MAP_BYTES)
		return NULL;
	id = find_phys(phys);
	return id < 0 ? NULL : host_of(&blocks[id], phys);
}

void memunmap(void *addr) { (void)addr; }

void *efimap_phys_to_virt(phys_addr_t phys)
{
	return (void *)(uintptr_t)(EFIMAP_DIRECT_MAP_BASE + phys);
}

phys_addr_t efimap_virt_to_phys(const volatile void *p)
{
	uintptr_t v = (uintptr_t)p;
	long id;

	if (v >= EFIMAP_DIRECT_MAP_BASE)
		return v - EFIMAP_DIRECT_MAP_BASE;
	id = find_host((const void *)v);
	if (id >= 0)
		return blocks[id].page_base + (uint64_t)((const uint8_t *)v - blocks[id].host);
	/* __va of an address past 2^64 - the base wrapped: undo it the same way. */
	return v - EFIMAP_DIRECT_MAP_BASE;
}

char _text[1], _end[1];

/* The kernel image overlaps no descriptor: start + size > _text never holds. */
u64 efimap_pa_symbol(const char *name)
{
	return !strcmp(name, "_text") ? ~0ULL : 0;
}

/* ------------------------------------------------------------------ */
/* String functions of the kernel files                                */

static void insert_copy_seen(void *dst, const void *src, size_t n);

void *efimap_memcpy(void *dst, const void *src, size_t n)
{
	check_host(src, n, false);
	check_host(dst, n, true);
	memmove(dst, src, n);
	if (cur_insert)
		insert_copy_seen(dst, src, n);
	return dst;
}

void *efimap_memmove(void *dst, const void *src, size_t n)
{
	check_host(src, n, false);
	check_host(dst, n, true);
	return memmove(dst, src, n);
}

void *efimap_memset(void *dst, int c, size_t n)
{
	check_host(dst, n, true);
	return memset(dst, c, n);
}

int efimap_memcmp(const void *a, const void *b, size_t n)
{
	check_host(a, n, false);
	check_host(b, n, false);
	return memcmp(a, b, n);
}

/*
 * Load/store callbacks of the kernel files' instrumentation (gcc's
 * -fsanitize=thread hooks, which see every read and write separately),
 * renamed to efimap_tsan_* at build time.
 */
#define EFIMAP_ACCESS(sz)                                                     \
	void efimap_tsan_read##sz(void *a);                                    \
	void efimap_tsan_read##sz(void *a) { check_host(a, sz, false); }       \
	void efimap_tsan_write##sz(void *a);                                   \
	void efimap_tsan_write##sz(void *a) { check_host(a, sz, true); }       \
	void efimap_tsan_unaligned_read##sz(void *a);                          \
	void efimap_tsan_unaligned_read##sz(void *a) { check_host(a, sz, false); } \
	void efimap_tsan_unaligned_write##sz(void *a);                         \
	void efimap_tsan_unaligned_write##sz(void *a) { check_host(a, sz, true); } \
	void efimap_tsan_volatile_read##sz(void *a);                           \
	void efimap_tsan_volatile_read##sz(void *a) { check_host(a, sz, false); } \
	void efimap_tsan_volatile_write##sz(void *a);                          \
	void efimap_tsan_volatile_write##sz(void *a) { check_host(a, sz, true); }
EFIMAP_ACCESS(1)
EFIMAP_ACCESS(2)
EFIMAP_ACCESS(4)
EFIMAP_ACCESS(8)
EFIMAP_ACCESS(16)

void efimap_tsan_read_range(void *a, unsigned long n);
void efimap_tsan_read_range(void *a, unsigned long n) { check_host(a, n, false); }
void efimap_tsan_write_range(void *a, unsigned long n);
void efimap_tsan_write_range(void *a, unsigned long n) { check_host(a, n, true); }
void efimap_tsan_init(void);
void efimap_tsan_init(void) {}
void efimap_tsan_func_entry(void *pc);
void efimap_tsan_func_entry(void *pc) { (void)pc; }
void efimap_tsan_func_exit(void);
void efimap_tsan_func_exit(void) {}

/* ------------------------------------------------------------------ */
/* printk                                                              */

static void add_event(enum efimap_level level, const char *func, const char *text, bool cont)
{
	if (cont) {
		if (last_event_dropped || !n_events)
			return;
		struct event *e = &events[n_events - 1];
		size_t a = strlen(e->text), b = strlen(text);

		e->text = realloc(e->text, a + b + 1);
		memcpy(e->text + a, text, b + 1);
		return;
	}
	if (efimap_quiet && (level == EFIMAP_L_INFO || level == EFIMAP_L_DEBUG)) {
		last_event_dropped = true;
		return;
	}
	last_event_dropped = false;
	PUSH(events, ((struct event){ level, func, strdup(text) }));
}

/* The kernel's vsnprintf for what these files print: C conversions and %pa. */
static void kformat(char *out, size_t cap, const char *fmt, va_list ap)
{
	size_t o = 0;

#define OUT_ROOM (o < cap ? cap - o : 0)
	while (*fmt) {
		if (*fmt != '%') {
			if (o + 1 < cap)
				out[o] = *fmt;
			o++;
			fmt++;
			continue;
		}
		const char *spec = fmt++;
		char sub[32];
		int star_w = 0, star_p = 0, nl = 0;
		bool has_star_w = false, has_star_p = false;

		if (*fmt == '%') {
			if (o + 1 < cap)
				out[o] = '%';
			o++;
			fmt++;
			continue;
		}
		while (*fmt && strchr("-+ #0", *fmt))
			fmt++;
		if (*fmt == '*') {
			has_star_w = true;
			star_w = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			fmt++;
		if (*fmt == '.') {
			fmt++;
			if (*fmt == '*') {
				has_star_p = true;
				star_p = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				fmt++;
		}
		const char *len_at = fmt;

		while (*fmt && strchr("hlLqjzt", *fmt)) {
			if (*fmt == 'l' || *fmt == 'L' || *fmt == 'q')
				nl++;
			if (*fmt == 'z' || *fmt == 't' || *fmt == 'j')
				nl = 2;
			fmt++;
		}
		char conv = *fmt ? *fmt++ : 0;
		size_t head = (size_t)(len_at - spec);

		if (head > 20)
			head = 20;
		memcpy(sub, spec, head);
		sub[head] = 0;
		if (conv == 'p') {
			void *ptr = va_arg(ap, void *);

			if (*fmt == 'a') {
				fmt++;
				if (*fmt == 'p' || *fmt == 'd')
					fmt++;
				o += snprintf(out + o, OUT_ROOM, "0x%016llx",
					      (unsigned long long)*(const phys_addr_t *)ptr);
			} else {
				o += snprintf(out + o, OUT_ROOM, "%p", ptr);
			}
			continue;
		}
		if (conv == 's' || conv == 'c') {
			strcat(sub, conv == 's' ? "s" : "c");
			if (conv == 's') {
				const char *s = va_arg(ap, const char *);

				if (!s)
					s = "(null)";
				if (has_star_w && has_star_p)
					o += snprintf(out + o, OUT_ROOM, sub, star_w, star_p, s);
				else if (has_star_w)
					o += snprintf(out + o, OUT_ROOM, sub, star_w, s);
				else if (has_star_p)
					o += snprintf(out + o, OUT_ROOM, sub, star_p, s);
				else
					o += snprintf(out + o, OUT_ROOM, sub, s);
			} else {
				int c = va_arg(ap, int);

				o += snprintf(out + o, OUT_ROOM, sub, c);
			}
			continue;
		}
		if (!conv || !strchr("diouxX", conv))
			continue;
		/* Integers go through libc as long long, whatever their size. */
		size_t sl = strlen(sub);

		sub[sl] = 'l';
		sub[sl + 1] = 'l';
		sub[sl + 2] = conv;
		sub[sl + 3] = 0;
		unsigned long long v;

		if (conv == 'd' || conv == 'i')
			v = (unsigned long long)(nl ? va_arg(ap, long long) : (long long)va_arg(ap, int));
		else
			v = nl ? va_arg(ap, unsigned long long) : (unsigned long long)va_arg(ap, unsigned int);
		/*
		 * The kernel's '#' puts 0x before every hex number, zero too,
		 * and counts it in the width; C leaves zero bare.
		 */
		char *hash = (conv == 'x' || conv == 'X') ? strchr(sub, '#') : NULL;

		if (hash && !has_star_w && !has_star_p) {
			char digits[64], *w;
			int width;

			memmove(hash, hash + 1, strlen(hash));
			w = sub + 1;
			while (*w && strchr("-+ 0", *w))
				w++;
			width = atoi(w);
			bool zero = strchr(sub, '0') && strchr(sub, '0') < w, left = strchr(sub, '-') && strchr(sub, '-') < w;

			snprintf(digits, sizeof(digits), conv == 'x' ? "%llx" : "%llX", v);
			int len = (int)strlen(digits) + 2;
			int pad = width > len ? width - len : 0;

			if (zero && !left) {
				char zeros[64];

				if (pad > 63)
					pad = 63;
				memset(zeros, '0', pad);
				zeros[pad] = 0;
				o += snprintf(out + o, OUT_ROOM, "0%c%s%s", conv, zeros, digits);
			} else if (left)
				o += snprintf(out + o, OUT_ROOM, "0%c%s%*s", conv, digits, pad, "");
			else
				o += snprintf(out + o, OUT_ROOM, "%*s0%c%s", pad, "", conv, digits);
			continue;
		}
		if (has_star_w && has_star_p)
			o += snprintf(out + o, OUT_ROOM, sub, star_w, star_p, v);
		else if (has_star_w)
			o += snprintf(out + o, OUT_ROOM, sub, star_w, v);
		else if (has_star_p)
			o += snprintf(out + o, OUT_ROOM, sub, star_p, v);
		else
			o += snprintf(out + o, OUT_ROOM, sub, v);
	}
	if (cap)
		out[o < cap ? o : cap - 1] = 0;
#undef OUT_ROOM
}

int efimap_printk(const char *fmt, ...)
{
	enum efimap_level level = EFIMAP_L_WARN; /* the default loglevel: 4 */
	bool cont = false;
	/*
	 * vprintk_store formats the prefix, the text and its newline into a
	 * record of at most EFIMAP_PRINTK_RECORD_MAX bytes, NUL included,
	 * then takes the prefix off: the text keeps that less the prefix
	 * and the NUL. build.sh reads the limit from the tree's printk.c.
	 */
	char text[EFIMAP_PRINTK_RECORD_MAX];
	size_t prefix = 0;
	va_list ap;

	while (fmt[0] == '\001' && fmt[1]) {
		switch (fmt[1]) {
		case '0': case '1': case '2': case '3':
			level = EFIMAP_L_ERR;
			break;
		case '4':
			level = EFIMAP_L_WARN;
			break;
		case '5':
			level = EFIMAP_L_NOTICE;
			break;
		case '6':
			level = EFIMAP_L_INFO;
			break;
		case '7':
			level = EFIMAP_L_DEBUG;
			break;
		case 'c':
			cont = true;
			break;
		}
		fmt += 2;
		prefix += 2;
	}
	va_start(ap, fmt);
	kformat(text, sizeof(text) - prefix, fmt, ap);
	va_end(ap);
	size_t n = strlen(text);

	if (n && text[n - 1] == '\n')
		text[n - 1] = 0;
	add_event(level, efimap_cur(), text, cont);
	return (int)n;
}

void efimap_event(enum efimap_level level, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	add_event(level, efimap_cur(), text, false);
}

static void warn_in(const char *file, const char *func)
{
	char text[512];

	snprintf(text, sizeof(text), "WARNING: CPU: 0 PID: 0 at %s %s", file, func);
	add_event(EFIMAP_L_WARNING, func, text, false);
}

void efimap_warn(const char *file)
{
	warn_in(file, efimap_cur());
}

/* ------------------------------------------------------------------ */
/* e820                                                                */

struct e820_table *e820_table;

static const char *e820_name(unsigned t)
{
	switch (t) {
	case E820_TYPE_RAM: return "usable";
	case E820_TYPE_RESERVED: return "reserved";
	case E820_TYPE_SOFT_RESERVED: return "soft reserved";
	case E820_TYPE_ACPI: return "ACPI data";
	case E820_TYPE_NVS: return "ACPI NVS";
	case E820_TYPE_UNUSABLE: return "unusable";
	default: return "unknown";
	}
}

/* fake_mem.rs e820_request: clamp, print (update/remove at KERN_DEBUG), record. */
static void e820_request(enum e820_op op, u64 start, u64 size, unsigned from, unsigned to)
{
	char text[256];
	u64 last;

	if (size > ~0ULL - start)
		size = ~0ULL - start;
	last = start + size - 1;
	if (op == E_UPDATE) {
		snprintf(text, sizeof(text), "e820: update [mem 0x%08llx-0x%08llx] %s ==> %s",
			 start, last, e820_name(from), e820_name(to));
		add_event(EFIMAP_L_DEBUG, efimap_cur(), text, false);
	} else if (op == E_REMOVE) {
		snprintf(text, sizeof(text), "e820: remove [mem 0x%08llx-0x%08llx] %s",
			 start, last, e820_name(from));
		add_event(EFIMAP_L_DEBUG, efimap_cur(), text, false);
	}
	PUSH(e820s, ((struct e820_rec){ op, start, size, from, to, culprit() }));
}

u64 e820__range_update(u64 start, u64 size, enum e820_type old_type, enum e820_type new_type)
{
	e820_request(E_UPDATE, start, size, old_type, new_type);
	return size;
}

u64 e820__range_remove(u64 start, u64 size, enum e820_type old_type, bool check_type)
{
	(void)check_type;
	e820_request(E_REMOVE, start, size, old_type, 0);
	return size;
}

void e820__range_add(u64 start, u64 size, enum e820_type type)
{
	e820_request(E_ADD, start, size, 0, type);
}

void e820__update_table(struct e820_table *table) { (void)table; }
int e820__update_table_k(struct e820_table *table) { (void)table; return 0; }
bool e820__mapped_all(u64 start, u64 end, enum e820_type type)
{
	(void)start; (void)end; (void)type;
	return true;
}
bool e820__mapped_any(u64 start, u64 end, enum e820_type type)
{
	(void)start; (void)end; (void)type;
	return true;
}

/* ------------------------------------------------------------------ */
/* Stubs                                                               */

void efi_unmap_pages(efi_memory_desc_t *md) { (void)md; }
void __map_region(efi_memory_desc_t *md, u64 va) { (void)md; (void)va; }
size_t real_mode_size_needed(void) { return 0; }
void set_real_mode_mem(phys_addr_t mem) { (void)mem; }

/* ------------------------------------------------------------------ */
/* Characters and numbers                                              */

int efimap_isspace(int c)
{
	c &= 0xff;
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}
int efimap_isdigit(int c) { return c >= '0' && c <= '9'; }
int efimap_isxdigit(int c)
{
	return efimap_isdigit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
int efimap_isalpha(int c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
int efimap_isalnum(int c) { return efimap_isalpha(c) || efimap_isdigit(c); }
int efimap_tolower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
int efimap_toupper(int c) { return (c >= 'a' && c <= 'z') ? c - 32 : c; }

/*
 * simple_strtoull: base 0 means 16 after "0x" followed by a hex digit,
 * 8 after a leading 0, else 10; wraps on overflow; stops at the first
 * character that is not a digit of the base.
 */
unsigned long long simple_strtoull(const char *cp, char **endp, unsigned int base)
{
	unsigned long long v = 0;

	if (base == 0) {
		if (cp[0] == '0') {
			if ((cp[1] | 0x20) == 'x' && efimap_isxdigit(cp[2]))
				base = 16, cp += 2;
			else
				base = 8;
		} else {
			base = 10;
		}
	} else if (base == 16 && cp[0] == '0' && (cp[1] | 0x20) == 'x' && efimap_isxdigit(cp[2])) {
		cp += 2;
	}
	for (;;) {
		unsigned c = (unsigned char)*cp, d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		if (d >= base)
			break;
		v = v * base + d;
		cp++;
	}
	if (endp)
		*endp = (char *)cp;
	return v;
}

unsigned long simple_strtoul(const char *cp, char **endp, unsigned int base)
{
	return simple_strtoull(cp, endp, base);
}

long long simple_strtoll(const char *cp, char **endp, unsigned int base)
{
	if (*cp == '-')
		return -(long long)simple_strtoull(cp + 1, endp, base);
	return simple_strtoull(cp, endp, base);
}

long simple_strtol(const char *cp, char **endp, unsigned int base)
{
	return simple_strtoll(cp, endp, base);
}

char *skip_spaces(const char *str)
{
	while (efimap_isspace(*str))
		str++;
	return (char *)str;
}

int efimap_kstrtoint(const char *s, unsigned int base, int *res)
{
	char *end;
	long long v = simple_strtoll(s, &end, base);

	if (end == s || (*end && !(*end == '\n' && !end[1])))
		return -EINVAL;
	*res = (int)v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Observing efi_memmap_insert and the installs                        */

void __real_efi_memmap_insert(struct efi_memory_map *old_memmap, void *buf,
			      struct efi_mem_range *mem);
void __wrap_efi_memmap_insert(struct efi_memory_map *old_memmap, void *buf,
			      struct efi_mem_range *mem);

static const uint8_t *last_map_host; /* efi.memmap.map when last installed */

void __wrap_efi_memmap_insert(struct efi_memory_map *old_memmap, void *buf,
			      struct efi_mem_range *mem)
{
	struct insert_rec r = { 0 };
	long id = find_host(buf);

	r.caller = culprit();
	r.buf = id;
	r.start = mem->range.start;
	r.end = mem->range.end;
	r.attr = mem->attribute;
	r.desc_size = old_memmap->desc_size;
	if (old_memmap->map)
		r.map_len = (uint64_t)((uint8_t *)old_memmap->map_end - (uint8_t *)old_memmap->map);
	else if (last_map_host)
		r.map_len = (uint64_t)((uint8_t *)old_memmap->map_end - last_map_host);
	if (id >= 0 && r.desc_size) {
		uint64_t off = (uint64_t)((uint8_t *)buf - host_of(&blocks[id], blocks[id].phys));

		r.room = off <= blocks[id].size ? (blocks[id].size - off) / r.desc_size : 0;
	}
	r.old_map = old_memmap->map;
	r.last_src = NULL;
	PUSH(inserts, r);
	cur_insert = &inserts[n_inserts - 1];
	__real_efi_memmap_insert(old_memmap, buf, mem);
	cur_insert = NULL;
}

static void insert_copy_seen(void *dst, const void *src, size_t n)
{
	struct insert_rec *r = cur_insert;

	r->written++;
	if (src == r->last_src)
		return;
	r->last_src = src;
	struct copied c = { (uint64_t)((const uint8_t *)src - r->old_map), 0, 0 };

	if (n >= 32) {
		memcpy(&c.start, (uint8_t *)dst + 8, 8);
		memcpy(&c.pages, (uint8_t *)dst + 24, 8);
	}
	if (r->ncopied == r->capcopied) {
		r->capcopied = r->capcopied ? 2 * r->capcopied : 8;
		r->copied = realloc(r->copied, r->capcopied * sizeof(*r->copied));
	}
	r->copied[r->ncopied++] = c;
}

/* The bytes of the current map: nr_map * desc_size from phys_map, unrecorded. */
static uint8_t *installed_bytes(uint64_t *len)
{
	uint64_t n = (uint64_t)(unsigned)efi.memmap.nr_map * efi.memmap.desc_size;
	long id = find_phys(efi.memmap.phys_map);
	uint8_t *out;

	*len = 0;
	if (id < 0 || n > EFIMAP_MAX_MAP_BYTES)
		return NULL;
	out = calloc(1, n ? n : 1);
	struct block *b = &blocks[id];
	uint64_t start = efi.memmap.phys_map - b->page_base;
	uint64_t avail = start < b->span ? b->span - start : 0;

	memcpy(out, b->host + start, n < avail ? n : avail);
	*len = n;
	return out;
}

#define INIT_NEST 8
static struct efi_memory_map init_snap[INIT_NEST];
static int init_nest;

static void install_seen(void)
{
	struct install_rec r;
	const char *kind = "new";

	last_map_host = efi.memmap.map;
	if (efimap_virtual_mode)
		kind = "runtime";
	else if (on_stack("efi_memmap_init_early"))
		kind = "firmware";
	else if (on_stack("efi_memmap_init_late"))
		kind = "remap";
	r.kind = kind;
	r.by = culprit();
	r.stage = efimap_stage;
	r.phys = efi.memmap.phys_map;
	r.alloc = find_host(efi.memmap.map);
	r.bytes = installed_bytes(&r.nbytes);
	PUSH(installs, r);
}

void __cyg_profile_func_enter(void *fn, void *site) EFIMAP_NOINSTR;
void __cyg_profile_func_exit(void *fn, void *site) EFIMAP_NOINSTR;

void __cyg_profile_func_enter(void *fn, void *site)
{
	const struct sym *s = find_sym((uintptr_t)fn);
	const char *raw = s && s->addr == (uintptr_t)fn ? s->raw : "?";

	(void)site;
	if (s && s->addr == (uintptr_t)fn)
		count_call(s->model ? s->model : s->raw);
	if (depth < STACK_MAX) {
		stack[depth].raw = raw;
		stack[depth].model = s && s->addr == (uintptr_t)fn ? s->model : NULL;
	}
	depth++;
	if (s && s->model && !strcmp(s->model, "__efi_memmap_init")) {
		if (init_nest < INIT_NEST)
			init_snap[init_nest] = efi.memmap;
		init_nest++;
	}
	if (s && s->model && !strcmp(s->model, "efi_fake_range"))
		efimap_stage.ranges++;
}

void __cyg_profile_func_exit(void *fn, void *site)
{
	(void)site;
	if (depth > 0 && depth <= STACK_MAX && stack[depth - 1].model &&
	    !strcmp(stack[depth - 1].model, "__efi_memmap_init") && init_nest > 0) {
		init_nest--;
		if (init_nest < INIT_NEST && efi.memmap.map &&
		    memcmp(&init_snap[init_nest], &efi.memmap, sizeof(efi.memmap)))
			install_seen();
	}
	(void)fn;
	efimap_pop();
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static const char *level_name(enum efimap_level l)
{
	static const char *const n[] = { "warning", "err", "warn", "notice", "info", "debug" };

	return n[l];
}

static void hex(FILE *out, const uint8_t *b, uint64_t n)
{
	if (!n) {
		fputc('-', out);
		return;
	}
	/* In chunks through a buffer: fprintf per byte was most of a boot. */
	static const char digits[] = "0123456789abcdef";
	char buf[4096];
	size_t at = 0;

	for (uint64_t i = 0; i < n; i++) {
		buf[at++] = digits[b[i] >> 4];
		buf[at++] = digits[b[i] & 15];
		if (at == sizeof(buf)) {
			fwrite(buf, 1, at, out);
			at = 0;
		}
	}
	fwrite(buf, 1, at, out);
}

static const char *e820_token(unsigned t)
{
	switch (t) {
	case 0: return "-";
	case E820_TYPE_RAM: return "ram";
	case E820_TYPE_RESERVED: return "reserved";
	case E820_TYPE_SOFT_RESERVED: return "soft-reserved";
	default: return "other";
	}
}

void efimap_dump(FILE *out)
{
	static const char *const fk[] = { "oob", "oob-pf", "uaf", "double", "bad" };
	static const char *const ek[] = { "update", "remove", "add" };

	for (size_t i = 0; i < n_events; i++)
		fprintf(out, "event %s %s %s\n", level_name(events[i].level), events[i].func,
			events[i].text);
	for (size_t i = 0; i < n_e820s; i++)
		fprintf(out, "e820 %s 0x%llx 0x%llx %s %s %s\n", ek[e820s[i].op],
			(unsigned long long)e820s[i].start, (unsigned long long)e820s[i].size,
			e820_token(e820s[i].from), e820_token(e820s[i].to), e820s[i].by);
	for (size_t i = 0; i < n_blocks; i++) {
		struct block *b = &blocks[i];
		char kind[48];

		switch (b->kind) {
		case B_FIRMWARE: strcpy(kind, "firmware"); break;
		case B_MEMBLOCK: strcpy(kind, "memblock"); break;
		case B_PAGES: snprintf(kind, sizeof(kind), "pages:%u", b->order); break;
		case B_SLAB: snprintf(kind, sizeof(kind), "slab:0x%llx", (unsigned long long)b->object); break;
		}
		fprintf(out, "alloc %zu %s 0x%llx 0x%llx %s %s\n", i, kind,
			(unsigned long long)b->phys, (unsigned long long)b->size, b->by,
			b->freed_by ? b->freed_by : "-");
	}
	for (size_t i = 0; i < n_faults; i++) {
		struct fault *f = &faults[i];

		if (f->alloc < 0)
			fprintf(out, "fault - ");
		else
			fprintf(out, "fault %ld ", f->alloc);
		fprintf(out, "0x%llx 0x%llx %s %s %s %llu\n", (unsigned long long)f->offset,
			(unsigned long long)f->len, f->write ? "w" : "r", fk[f->kind], f->by,
			(unsigned long long)f->accesses);
	}
	for (size_t i = 0; i < n_inserts; i++) {
		struct insert_rec *r = &inserts[i];

		fprintf(out, "insert %s ", r->caller);
		if (r->buf < 0)
			fprintf(out, "- ");
		else
			fprintf(out, "%ld ", r->buf);
		fprintf(out, "0x%llx 0x%llx 0x%llx 0x%llx 0x%llx %llu %llu ",
			(unsigned long long)r->start, (unsigned long long)r->end,
			(unsigned long long)r->attr, (unsigned long long)r->map_len,
			(unsigned long long)r->desc_size, (unsigned long long)r->written,
			(unsigned long long)r->room);
		if (!r->ncopied)
			fputc('-', out);
		for (size_t j = 0; j < r->ncopied; j++)
			fprintf(out, "%s0x%llx:0x%llx:0x%llx", j ? "," : "",
				(unsigned long long)r->copied[j].offset,
				(unsigned long long)r->copied[j].start,
				(unsigned long long)r->copied[j].pages);
		fputc('\n', out);
	}
	for (size_t i = 0; i < n_installs; i++) {
		struct install_rec *r = &installs[i];

		fprintf(out, "install %s %s %lu %lu %d 0x%llx ", r->kind, r->by, r->stage.ranges,
			r->stage.reservations, r->stage.kept, (unsigned long long)r->phys);
		if (r->alloc < 0)
			fprintf(out, "- ");
		else
			fprintf(out, "%ld ", r->alloc);
		hex(out, r->bytes, r->nbytes);
		fputc('\n', out);
	}
	for (size_t i = 0; i < n_freeds; i++)
		fprintf(out, "freed 0x%llx 0x%llx %s\n", (unsigned long long)freeds[i].start,
			(unsigned long long)freeds[i].end, freeds[i].by);
	for (size_t i = 0; i < n_calls; i++) {
		/* Without a compiler suffix (.isra.0, .part.0, ...). */
		int len = (int)strcspn(calls[i].name, ".");

		fprintf(out, "calls %.*s %u\n", len, calls[i].name, calls[i].n);
	}
	for (size_t i = 0; i < n_kepts; i++)
		fprintf(out, "kept 0x%llx 0x%llx\n", (unsigned long long)kepts[i].start,
			(unsigned long long)kepts[i].end);
	{
		uint64_t map_len = 0;

		if (efi.memmap.map)
			map_len = (uint64_t)((uint8_t *)efi.memmap.map_end - (uint8_t *)efi.memmap.map);
		else if (last_map_host && efi.memmap.map_end)
			map_len = (uint64_t)((uint8_t *)efi.memmap.map_end - last_map_host);
		fprintf(out, "memmap 0x%llx 0x%llx 0x%llx 0x%lx 0x%lx 0x%lx %d\n",
			(unsigned long long)efi.memmap.phys_map, (unsigned long long)map_len,
			(unsigned long long)(unsigned)efi.memmap.nr_map, efi.memmap.desc_version,
			efi.memmap.desc_size, efi.memmap.flags, efi.memmap.map != NULL);
	}
}

/* The installed map's bytes (for the driver's mapbytes and bootmap lines). */
void efimap_dump_mapbytes(FILE *out, const char *tag);
void efimap_dump_mapbytes(FILE *out, const char *tag)
{
	uint64_t n;
	uint8_t *b = installed_bytes(&n);

	fprintf(out, "%s ", tag);
	hex(out, b, b ? n : 0);
	fputc('\n', out);
	free(b);
}

void efimap_reset_map_tracking(void);
void efimap_reset_map_tracking(void)
{
	last_map_host = NULL;
	init_nest = 0;
}
