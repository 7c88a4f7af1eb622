// SPDX-License-Identifier: GPL-2.0-only
/*
 * efimap's stand-in for the kernel headers the EFI memory-map files need.
 *
 * Every linux/... and asm/... header under this directory includes this
 * one file. It gives the kernel files their types, macros and the
 * functions of the kernel they call, each one either implemented by
 * efimap's shim (kernel/shim.c: simulated memory, printk capture, e820
 * requests) or a stub. Function prototypes of the code compiled from the
 * tree itself come from efimap_protos.h, generated at build time from the
 * tree's own definitions, so that both trees' signatures are honoured.
 */
#ifndef EFIMAP_KERNEL_H
#define EFIMAP_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "efimap_config.h"

/* ------------------------------------------------------------------ */
/* Attributes and compiler words                                       */

#define EFIMAP_NOINSTR __attribute__((no_instrument_function))
#define EFIMAP_INL static inline __attribute__((always_inline, no_instrument_function))

#define __init
#define __initdata
#define __initconst
#define __ro_after_init
#define __ref
#define __refdata
#define __exit
#define __cold
#define __weak __attribute__((weak))
#define __alias(sym) __attribute__((alias(#sym)))
#define __pure __attribute__((pure))
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define noinline __attribute__((noinline))
#define __maybe_unused __attribute__((unused))
#define __used __attribute__((used))
#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __must_check
#define __iomem
#define __user
#define __force
#define __visible
#define asmlinkage
#define notrace EFIMAP_NOINSTR
#define fallthrough __attribute__((__fallthrough__))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define barrier() __asm__ __volatile__("" ::: "memory")
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define __stringify_1(x) #x
#define __stringify(x) __stringify_1(x)
#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL_NS_GPL(sym, ns)
#define _AC(x, y) (x##y)
#define _UL(x) (_AC(x, UL))
#define _ULL(x) (_AC(x, ULL))
#define BITS_PER_LONG 64

/* IS_ENABLED(CONFIG_FOO): 1 when CONFIG_FOO is defined to 1. */
#define EFIMAP_CFG_PROBE_1 0,
#define efimap_cfg_second(skip, val, ...) val
#define efimap_cfg_pick(junk) efimap_cfg_second(junk 1, 0, 0)
#define efimap_cfg_paste(val) efimap_cfg_pick(EFIMAP_CFG_PROBE_##val)
#define efimap_cfg_is(val) efimap_cfg_paste(val)
#define IS_ENABLED(option) efimap_cfg_is(option)
#define IS_BUILTIN(option) efimap_cfg_is(option)

/* The configuration the efimap eras assume (x86_64). */
#define CONFIG_X86_64 1
#define CONFIG_64BIT 1
#define CONFIG_EFI 1
#define CONFIG_EFI_SOFT_RESERVE 1
#define CONFIG_KEXEC_CORE 1
#define CONFIG_EFI_MAX_FAKE_MEM 8
#define CONFIG_EFI_FAKE_MEMMAP 1

/* ------------------------------------------------------------------ */
/* Types                                                               */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef u8 __u8;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef s32 __s32;
typedef s64 __s64;
typedef u16 __le16;
typedef u32 __le32;
typedef u64 __le64;
typedef u64 phys_addr_t;
typedef phys_addr_t resource_size_t;
typedef unsigned int gfp_t;
typedef unsigned short umode_t;
typedef long ssize_t_k;
typedef unsigned long efi_status_t;
typedef u16 efi_char16_t;
typedef struct { unsigned long pgprot; } pgprot_t;
typedef struct { u8 b[16]; } guid_t;
typedef guid_t efi_guid_t;

struct page;
struct kobject;
struct attribute;

typedef int (*cmp_func_t)(const void *a, const void *b);
typedef void (*swap_func_t)(void *a, void *b, int size);
typedef int (*cmp_r_func_t)(const void *a, const void *b, const void *priv);
typedef void (*swap_r_func_t)(void *a, void *b, int size, const void *priv);

struct range {
	u64 start;
	u64 end;
};

/* ------------------------------------------------------------------ */
/* Arithmetic helpers                                                  */

#define U8_MAX ((u8)~0U)
#define U32_MAX ((u32)~0U)
#define U64_MAX ((u64)~0ULL)
#define ULLONG_MAX (~0ULL)
#define ULONG_MAX (~0UL)
#define INT_MAX ((int)(~0U >> 1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define EFIMAP_ALIGN_MASK(x, m) (((x) + (m)) & ~(m))
#define ALIGN(x, a) EFIMAP_ALIGN_MASK(x, (__typeof__(x))(a) - 1)
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define round_up(x, y) ((((x) - 1) | ((__typeof__(x))((y) - 1))) + 1)
#define round_down(x, y) ((x) & ~((__typeof__(x))((y) - 1)))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
/* linux/overflow.h: the wrapped result in *d, true if it does not fit
 * (lib/cmdline.c's get_range uses the subtraction from 6.12.118 on). */
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define check_sub_overflow(a, b, d) __builtin_sub_overflow(a, b, d)
#define check_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)
#define min(a, b) ({ __typeof__(a) _ea = (a); __typeof__(b) _eb = (b); _ea < _eb ? _ea : _eb; })
#define max(a, b) ({ __typeof__(a) _ea = (a); __typeof__(b) _eb = (b); _ea > _eb ? _ea : _eb; })
#define min_t(t, a, b) ({ t _ea = (a); t _eb = (b); _ea < _eb ? _ea : _eb; })
#define max_t(t, a, b) ({ t _ea = (a); t _eb = (b); _ea > _eb ? _ea : _eb; })
#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))

#define SZ_1K 0x400
#define SZ_4K 0x1000
#define SZ_64K 0x10000
#define SZ_1M 0x100000
#define SZ_1G 0x40000000

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PMD_SHIFT 21
#define PMD_SIZE (1UL << PMD_SHIFT)
#define PMD_MASK (~(PMD_SIZE - 1))
#define PFN_PHYS(pfn) ((phys_addr_t)(pfn) << PAGE_SHIFT)
#define PHYS_PFN(x) ((unsigned long)((x) >> PAGE_SHIFT))
#define PFN_DOWN(x) ((x) >> PAGE_SHIFT)
#define PFN_UP(x) (((x) + PAGE_SIZE - 1) >> PAGE_SHIFT)
#define SMP_CACHE_BYTES 64

/* x86_64 EFI runtime virtual range: -4 GiB down to -68 GiB. */
#define EFI_VA_START (0UL - (4UL << 30))
#define EFI_VA_END (0UL - (68UL << 30))

#define EINVAL 22
#define ENOMEM 12
#define ENOENT 2
#define ENODEV 19
#define EFAULT 14
#define EBUSY 16

/* ------------------------------------------------------------------ */
/* Bit operations on unsigned long words                               */

EFIMAP_INL void set_bit(long nr, volatile unsigned long *addr)
{
	addr[nr / 64] |= 1UL << (nr % 64);
}
EFIMAP_INL void clear_bit(long nr, volatile unsigned long *addr)
{
	addr[nr / 64] &= ~(1UL << (nr % 64));
}
EFIMAP_INL bool test_bit(long nr, const volatile unsigned long *addr)
{
	return (addr[nr / 64] >> (nr % 64)) & 1;
}
EFIMAP_INL int fls64(u64 x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}
#define __set_bit set_bit
#define __clear_bit clear_bit

/* ------------------------------------------------------------------ */
/* Characters and numbers (lib/ctype.c, lib/vsprintf.c equivalents)     */

int efimap_isspace(int c);
int efimap_isdigit(int c);
int efimap_isxdigit(int c);
int efimap_isalpha(int c);
int efimap_isalnum(int c);
int efimap_tolower(int c);
int efimap_toupper(int c);
#define isspace(c) efimap_isspace(c)
#define isdigit(c) efimap_isdigit(c)
#define isxdigit(c) efimap_isxdigit(c)
#define isalpha(c) efimap_isalpha(c)
#define isalnum(c) efimap_isalnum(c)
#define tolower(c) efimap_tolower(c)
#define toupper(c) efimap_toupper(c)
#define _tolower(c) ((c) | 0x20)

unsigned long long simple_strtoull(const char *cp, char **endp, unsigned int base);
unsigned long simple_strtoul(const char *cp, char **endp, unsigned int base);
long simple_strtol(const char *cp, char **endp, unsigned int base);
long long simple_strtoll(const char *cp, char **endp, unsigned int base);
char *skip_spaces(const char *str);
int efimap_kstrtoint(const char *s, unsigned int base, int *res);
#define kstrtoint efimap_kstrtoint

/* ------------------------------------------------------------------ */
/* printk                                                              */

#define KERN_SOH "\001"
#define KERN_EMERG KERN_SOH "0"
#define KERN_ALERT KERN_SOH "1"
#define KERN_CRIT KERN_SOH "2"
#define KERN_ERR KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE KERN_SOH "5"
#define KERN_INFO KERN_SOH "6"
#define KERN_DEBUG KERN_SOH "7"
#define KERN_DEFAULT ""
#define KERN_CONT KERN_SOH "c"
#define FW_BUG "[Firmware Bug]: "
#define FW_WARN "[Firmware Warn]: "
#define FW_INFO "[Firmware Info]: "

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif

int efimap_printk(const char *fmt, ...);
#define printk(fmt, ...) efimap_printk(fmt, ##__VA_ARGS__)
#define no_printk(fmt, ...) ({ if (0) efimap_printk(fmt, ##__VA_ARGS__); 0; })
#define pr_emerg(fmt, ...) printk(KERN_EMERG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_alert(fmt, ...) printk(KERN_ALERT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_crit(fmt, ...) printk(KERN_CRIT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...) printk(KERN_ERR pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) printk(KERN_WARNING pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warning pr_warn
#define pr_notice(fmt, ...) printk(KERN_NOTICE pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...) printk(KERN_INFO pr_fmt(fmt), ##__VA_ARGS__)
#define pr_cont(fmt, ...) printk(KERN_CONT fmt, ##__VA_ARGS__)
/* Without DEBUG or dynamic debug, pr_debug prints nothing. */
#define pr_debug(fmt, ...) no_printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_devel(fmt, ...) no_printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)

/* Once-only state is per boot: a site remembers the boot it fired in. */
extern unsigned long efimap_boot_gen;
#define efimap_once(stmt) ({ static unsigned long _eonce; bool _ef = false; \
	if (_eonce != efimap_boot_gen) { _eonce = efimap_boot_gen; _ef = true; stmt; } _ef; })
#define pr_err_once(fmt, ...) efimap_once(pr_err(fmt, ##__VA_ARGS__))
#define pr_warn_once(fmt, ...) efimap_once(pr_warn(fmt, ##__VA_ARGS__))
#define pr_info_once(fmt, ...) efimap_once(pr_info(fmt, ##__VA_ARGS__))
#define pr_notice_once(fmt, ...) efimap_once(pr_notice(fmt, ##__VA_ARGS__))
#define pr_debug_once(fmt, ...) no_printk(fmt, ##__VA_ARGS__)

void efimap_warn(const char *file);
#define WARN_ON(cond) ({ int _ew = !!(cond); if (unlikely(_ew)) efimap_warn(__FILE__); unlikely(_ew); })
#define WARN(cond, fmt, ...) ({ int _ew = !!(cond); if (unlikely(_ew)) { \
	printk(KERN_WARNING fmt, ##__VA_ARGS__); efimap_warn(__FILE__); } unlikely(_ew); })
#define WARN_ON_ONCE(cond) ({ int _ew = !!(cond); if (unlikely(_ew)) \
	efimap_once(efimap_warn(__FILE__)); unlikely(_ew); })
#define WARN_ONCE(cond, fmt, ...) ({ int _ew = !!(cond); if (unlikely(_ew)) \
	efimap_once((printk(KERN_WARNING fmt, ##__VA_ARGS__), efimap_warn(__FILE__))); unlikely(_ew); })
#define BUG_ON(cond) do { if (cond) __builtin_trap(); } while (0)
#define BUG() __builtin_trap()
#define BUILD_BUG_ON(cond) _Static_assert(!(cond), "BUILD_BUG_ON")

/* ------------------------------------------------------------------ */
/* Memory: the shim's simulated allocators and mappings                */

#define GFP_KERNEL 0xcc0U
#define GFP_ATOMIC 0x820U
#define __GFP_ZERO 0x100U
#define __GFP_NOWARN 0x200U
#define MEMREMAP_WB 1UL
#define MEMREMAP_WT 2UL
#define MEMREMAP_WC 4UL

phys_addr_t memblock_phys_alloc(phys_addr_t size, phys_addr_t align);
void memblock_phys_free(phys_addr_t base, phys_addr_t size);
void memblock_free(void *ptr, size_t size);
void memblock_free_late(phys_addr_t base, phys_addr_t size);
int memblock_reserve(phys_addr_t base, phys_addr_t size);
bool memblock_is_region_reserved(phys_addr_t base, phys_addr_t size);

struct page *alloc_pages(gfp_t gfp, unsigned int order);
unsigned long __get_free_pages(gfp_t gfp, unsigned int order);
void free_pages(unsigned long addr, unsigned int order);
void __free_pages(struct page *page, unsigned int order);
unsigned long free_reserved_area(void *start, void *end, int poison, const char *s);
int efimap_get_order(unsigned long size);
#define get_order(size) efimap_get_order(size)
bool slab_is_available(void);

/* A struct page pointer is its page frame number. */
#define page_to_pfn(p) ((unsigned long)(uintptr_t)(p))
#define pfn_to_page(pfn) ((struct page *)(uintptr_t)(pfn))
#define page_to_phys(p) PFN_PHYS(page_to_pfn(p))

void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void *kmalloc_array(size_t n, size_t size, gfp_t flags);
void kfree(const void *p);

void *early_memremap(resource_size_t phys, unsigned long size);
void *early_memremap_ro(resource_size_t phys, unsigned long size);
void *early_memremap_prot(resource_size_t phys, unsigned long size, unsigned long prot);
void early_memunmap(void *addr, unsigned long size);
void *early_ioremap(resource_size_t phys, unsigned long size);
void early_iounmap(void *addr, unsigned long size);
void *memremap(resource_size_t offset, size_t size, unsigned long flags);
void memunmap(void *addr);

/* The direct map: __va of a physical address, and back. */
void *efimap_phys_to_virt(phys_addr_t phys);
phys_addr_t efimap_virt_to_phys(const volatile void *p);
#define __va(x) efimap_phys_to_virt((phys_addr_t)(x))
#define __pa(x) efimap_virt_to_phys((const volatile void *)(x))
#define phys_to_virt(x) efimap_phys_to_virt((phys_addr_t)(x))
#define virt_to_phys(x) efimap_virt_to_phys((const volatile void *)(x))
#define page_address(p) efimap_phys_to_virt(page_to_phys(p))
#define virt_to_page(x) pfn_to_page(PHYS_PFN(__pa(x)))
u64 efimap_pa_symbol(const char *name);
#define __pa_symbol(x) efimap_pa_symbol(#x)

#define pgprot_val(x) ((x).pgprot)
#define __pgprot(x) ((pgprot_t){ (x) })
#define pgprot_encrypted(x) (x)
#define pgprot_decrypted(x) (x)
#define FIXMAP_PAGE_NORMAL __pgprot(0x163UL)
#define PAGE_KERNEL __pgprot(0x163UL)

/* The string functions of the kernel files go through the shim. */
void *efimap_memcpy(void *dst, const void *src, size_t n);
void *efimap_memmove(void *dst, const void *src, size_t n);
void *efimap_memset(void *dst, int c, size_t n);
int efimap_memcmp(const void *a, const void *b, size_t n);
#ifdef EFIMAP_KERNEL_TU
#define memcpy(d, s, n) efimap_memcpy(d, s, n)
#define memmove(d, s, n) efimap_memmove(d, s, n)
#define memset(d, c, n) efimap_memset(d, c, n)
#define memcmp(a, b, n) efimap_memcmp(a, b, n)
#endif

/* ------------------------------------------------------------------ */
/* e820                                                                */

enum e820_type {
	E820_TYPE_RAM = 1,
	E820_TYPE_RESERVED = 2,
	E820_TYPE_ACPI = 3,
	E820_TYPE_NVS = 4,
	E820_TYPE_UNUSABLE = 5,
	E820_TYPE_PMEM = 7,
	E820_TYPE_PRAM = 12,
	E820_TYPE_SOFT_RESERVED = 0xefffffff,
	E820_TYPE_RESERVED_KERN = 128,
};
struct e820_table;
extern struct e820_table *e820_table;
u64 e820__range_update(u64 start, u64 size, enum e820_type old_type, enum e820_type new_type);
u64 e820__range_remove(u64 start, u64 size, enum e820_type old_type, bool check_type);
void e820__range_add(u64 start, u64 size, enum e820_type type);
void e820__update_table(struct e820_table *table);
int e820__update_table_k(struct e820_table *table);
bool e820__mapped_all(u64 start, u64 end, enum e820_type type);
bool e820__mapped_any(u64 start, u64 end, enum e820_type type);

/* ------------------------------------------------------------------ */
/* Early parameters and initcalls                                      */

struct efimap_early_param {
	const char *name;
	int (*fn)(char *);
};
#define early_param(str, func) \
	static const struct efimap_early_param efimap_ep_##func \
	__attribute__((used, section("efimap_early"), aligned(8))) = { str, func }
#define __setup(str, func)
#define arch_initcall(fn)
#define early_initcall(fn)
#define core_initcall(fn)
#define postcore_initcall(fn)
#define subsys_initcall(fn)
#define device_initcall(fn)
#define late_initcall(fn)
#define module_init(fn)

/* ------------------------------------------------------------------ */
/* EFI                                                                 */

#define EFI_SUCCESS 0
#define EFI_PAGE_SHIFT 12
#define EFI_PAGE_SIZE (1UL << EFI_PAGE_SHIFT)
#define EFI_PAGES_MAX (U64_MAX >> EFI_PAGE_SHIFT)
#define EFI_MEMORY_DESCRIPTOR_VERSION 1

#define EFI_RESERVED_TYPE 0
#define EFI_LOADER_CODE 1
#define EFI_LOADER_DATA 2
#define EFI_BOOT_SERVICES_CODE 3
#define EFI_BOOT_SERVICES_DATA 4
#define EFI_RUNTIME_SERVICES_CODE 5
#define EFI_RUNTIME_SERVICES_DATA 6
#define EFI_CONVENTIONAL_MEMORY 7
#define EFI_UNUSABLE_MEMORY 8
#define EFI_ACPI_RECLAIM_MEMORY 9
#define EFI_ACPI_MEMORY_NVS 10
#define EFI_MEMORY_MAPPED_IO 11
#define EFI_MEMORY_MAPPED_IO_PORT_SPACE 12
#define EFI_PAL_CODE 13
#define EFI_PERSISTENT_MEMORY 14
#define EFI_UNACCEPTED_MEMORY 15
#define EFI_MAX_MEMORY_TYPE 16

#define EFI_MEMORY_UC ((u64)0x0000000000000001ULL)
#define EFI_MEMORY_WC ((u64)0x0000000000000002ULL)
#define EFI_MEMORY_WT ((u64)0x0000000000000004ULL)
#define EFI_MEMORY_WB ((u64)0x0000000000000008ULL)
#define EFI_MEMORY_UCE ((u64)0x0000000000000010ULL)
#define EFI_MEMORY_WP ((u64)0x0000000000001000ULL)
#define EFI_MEMORY_RP ((u64)0x0000000000002000ULL)
#define EFI_MEMORY_XP ((u64)0x0000000000004000ULL)
#define EFI_MEMORY_NV ((u64)0x0000000000008000ULL)
#define EFI_MEMORY_MORE_RELIABLE ((u64)0x0000000000010000ULL)
#define EFI_MEMORY_RO ((u64)0x0000000000020000ULL)
#define EFI_MEMORY_SP ((u64)0x0000000000040000ULL)
#define EFI_MEMORY_CPU_CRYPTO ((u64)0x0000000000080000ULL)
#define EFI_MEMORY_HOT_PLUGGABLE BIT_ULL(20)
#define EFI_MEMORY_RUNTIME ((u64)0x8000000000000000ULL)

/* The descriptor: natural alignment, 40 bytes. */
typedef struct {
	u32 type;
	u32 pad;
	u64 phys_addr;
	u64 virt_addr;
	u64 num_pages;
	u64 attribute;
} efi_memory_desc_t;

struct efi_memory_map_data {
	phys_addr_t phys_map;
	unsigned long size;
	unsigned long desc_version;
	unsigned long desc_size;
	unsigned long flags;
};

struct efi_memory_map {
	phys_addr_t phys_map;
	void *map;
	void *map_end;
	int nr_map;
	unsigned long desc_version;
	unsigned long desc_size;
#define EFI_MEMMAP_LATE (1UL << 0)
#define EFI_MEMMAP_MEMBLOCK (1UL << 1)
#define EFI_MEMMAP_SLAB (1UL << 2)
	unsigned long flags;
};

struct efi_mem_range {
	struct range range;
	u64 attribute;
};

/* The part of struct efi the memory-map code touches. */
extern struct efi {
	unsigned long runtime;
	unsigned int runtime_version;
	struct efi_memory_map memmap;
	unsigned long flags;
} efi;

/* Bits of efi.flags (their values are efimap's own). */
#define EFI_BOOT 0
#define EFI_CONFIG_TABLES 2
#define EFI_RUNTIME_SERVICES 3
#define EFI_MEMMAP 4
#define EFI_PARAVIRT 5
#define EFI_ARCH_1 6
#define EFI_DBG 7
#define EFI_NX_PE_DATA 8
#define EFI_MEM_ATTR 9
#define EFI_MEM_NO_SOFT_RESERVE 10
#define EFI_PRESERVE_BS_REGIONS 11
#define EFI_64BIT EFI_ARCH_1

EFIMAP_INL bool efi_enabled(int feature)
{
	return test_bit(feature, &efi.flags);
}

bool __efi_soft_reserve_enabled(void);
EFIMAP_INL bool efi_soft_reserve_enabled(void)
{
	return IS_ENABLED(CONFIG_EFI_SOFT_RESERVE) && __efi_soft_reserve_enabled();
}
EFIMAP_INL bool efi_is_mixed(void)
{
	return false;
}

/* Walks the descriptors of a map, desc_size apart, while one fits. */
#define for_each_efi_memory_desc_in_map(m, md)                              \
	for ((md) = (m)->map;                                               \
	     (md) && ((void *)(md) + (m)->desc_size) <= (m)->map_end;       \
	     (md) = (void *)(md) + (m)->desc_size)
#define for_each_efi_memory_desc(md) \
	for_each_efi_memory_desc_in_map(&efi.memmap, md)

int efi_mem_desc_lookup(u64 phys_addr, efi_memory_desc_t *out_md);

/* Stubs for what the extracted functions call outside the memory map. */
void efi_unmap_pages(efi_memory_desc_t *md);
void __map_region(efi_memory_desc_t *md, u64 va);
size_t real_mode_size_needed(void);
void set_real_mode_mem(phys_addr_t mem);
extern char _text[], _end[];

#include "efimap_protos.h"

#endif /* EFIMAP_KERNEL_H */
