// SPDX-License-Identifier: GPL-2.0-only
/*
 * The interface between efimap's shim (shim.c) and its driver (driver.c).
 * Neither file is built with the kernel files' instrumentation.
 */
#ifndef EFIMAP_SHIM_H
#define EFIMAP_SHIM_H

#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

/* The model's simulated memory layout (core/src/model/mem.rs). */
#define EFIMAP_MEMBLOCK_TOP 0x80000000ULL
#define EFIMAP_MEMBLOCK_FLOOR 0x10000000ULL
#define EFIMAP_PAGES_BASE 0x1000000000000ULL
#define EFIMAP_SLAB_BASE 0x2000000000000ULL
#define EFIMAP_FIRMWARE_MAP_PHYS 0x08000000ULL
#define EFIMAP_SHADOW_BYTES (1ULL << 20)
#define EFIMAP_MAX_TOTAL_BYTES (256ULL << 20)
#define EFIMAP_MAX_MAP_BYTES (64ULL << 20)
#define EFIMAP_LOW_RESERVED (64ULL << 10)
#define EFIMAP_NR_FIX_BTMAPS 64
#define EFIMAP_DIRECT_MAP_BASE 0xffff888000000000ULL

enum efimap_fill { EFIMAP_FILL_ZERO, EFIMAP_FILL_PATTERN, EFIMAP_FILL_STALE };

enum efimap_level {
	EFIMAP_L_WARNING,
	EFIMAP_L_ERR,
	EFIMAP_L_WARN,
	EFIMAP_L_NOTICE,
	EFIMAP_L_INFO,
	EFIMAP_L_DEBUG,
};

struct efimap_stage {
	unsigned long ranges;
	unsigned long reservations;
	bool kept;
};

extern struct efimap_stage efimap_stage;
extern bool efimap_slab_available;
extern bool efimap_virtual_mode;
extern bool efimap_quiet;

void efimap_init(void);
/* cov.c: a boot starts (its first basic block ends no edge). */
void efimap_cov_begin(void);
void efimap_reset(enum efimap_fill fill, unsigned pattern, bool quiet);
void efimap_place_firmware(const void *bytes, uint64_t len);

/* The modelled call stack: phases and the driver's own functions. */
void efimap_phase(const char *name);
void efimap_push(const char *name);
void efimap_pop(void);
const char *efimap_cur(void);
const char *efimap_innermost_raw(void);
void efimap_stack_truncate(int depth);
int efimap_stack_depth(void);

void efimap_event(enum efimap_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void efimap_check_read(const void *p, uint64_t len);

/* Writes every record of the boot (all but `end`) to `out`. */
void efimap_dump(FILE *out);

#endif
