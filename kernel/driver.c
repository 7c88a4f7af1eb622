// SPDX-License-Identifier: GPL-2.0-only
/*
 * efimap-kernel-driver: runs the real kernel's EFI memory-map code (built
 * from a kernel tree by kernel/build.sh) on scenarios read from stdin, and
 * writes what each boot did to stdout. The line protocol is described in
 * kernel/PROTOCOL.md. The boot flow is the one of the Rust model
 * (core/src/model/boot.rs run_with), step for step.
 *
 * The same objects also make libefimap-kernel.so, whose one entry point,
 * efimap_driver_run, runs the same protocol from a buffer into a buffer
 * inside the caller's process (the efimap-kernel-ffi crate).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <efimap_kernel.h>
#include "shim.h"

struct efi efi;

/* Generated per tree by build.sh: reset the extracted files' statics. */
void efimap_reset_quirks(void);
void efimap_reset_efi(void);
void efimap_reset_x86efi(void);
void efimap_reset_efi64(void);
void efimap_dump_mapbytes(FILE *out, const char *tag);
void efimap_reset_map_tracking(void);

#ifdef EFIMAP_HAVE_FAKE_MEM
extern struct efi_mem_range efi_fake_mems[];
extern int nr_fake_mem;
#endif

extern const struct efimap_early_param __start_efimap_early[] __attribute__((weak));
extern const struct efimap_early_param __stop_efimap_early[] __attribute__((weak));

/* ------------------------------------------------------------------ */
/* Scenario                                                            */

struct desc_in {
	u32 type, pad;
	u64 phys, virt, pages, attr;
};

enum later { LATER_KEXEC, LATER_VIRTUAL };

static struct scenario {
	u64 desc_size;
	enum efimap_fill fill;
	unsigned pattern;
	bool quiet;
	char cmdline[8192];
	struct desc_in *descs;
	size_t ndescs, capdescs;
	u64 (*res)[2];
	size_t nres, capres;
	enum later later[8];
	size_t nlater;
	u64 memblock[64][2];
	size_t nmemblock;
	bool have_bgrt;
	u64 bgrt[2];
} sc;

static void scenario_clear(void)
{
	sc.desc_size = 48;
	sc.fill = EFIMAP_FILL_STALE;
	sc.pattern = 0;
	sc.quiet = false;
	sc.cmdline[0] = 0;
	sc.ndescs = 0;
	sc.nres = 0;
	sc.nlater = 0;
	sc.nmemblock = 0;
	sc.have_bgrt = false;
}

static const char *const type_names[] = {
	"Reserved", "LoaderCode", "LoaderData", "BootServicesCode",
	"BootServicesData", "RuntimeServicesCode", "RuntimeServicesData",
	"Conventional", "Unusable", "ACPIReclaim", "ACPINVS", "MMIO",
	"MMIOPortSpace", "PALCode", "Persistent", "Unaccepted",
};

static u64 num(const char *s)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (!strcmp(s, type_names[i]))
			return i;
	return strtoull(s, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* parse_early_param                                                   */

static bool parameq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;

		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

static char unknown_text[8192];

static void add_unknown(char **argv, size_t *nargv, char **envp, size_t *nenvp,
			const char *param, const char *val)
{
	if (!val) {
		argv[(*nargv)++] = strdup(param);
		return;
	}
	size_t pl = strlen(param);
	char *entry = malloc(pl + strlen(val) + 2);

	sprintf(entry, "%s=%s", param, val);
	for (size_t i = 0; i < *nenvp; i++)
		if (!strncmp(envp[i], param, pl) && envp[i][pl] == '=') {
			free(envp[i]);
			envp[i] = entry;
			return;
		}
	envp[(*nenvp)++] = entry;
}

/*
 * The kernel's parse_early_param over a copy of the command line cut to
 * COMMAND_LINE_SIZE - 1: next_arg (lib/cmdline.c) splits it, and each
 * early_param handler registered under a matching name runs. Returns
 * whether an unknown-parameters notice is due (text in unknown_text).
 */
static bool parse_early_param(const char *cmdline)
{
	static char buf[2048];
	char *argv[256], *envp[256];
	size_t nargv = 0, nenvp = 0;
	char *args, *param, *val;

	snprintf(buf, sizeof(buf), "%s", cmdline);
	args = skip_spaces(buf);
	while (*args) {
		args = next_arg(args, &param, &val);
		if (!val && !strcmp(param, "--"))
			break;
		bool known = false;

		for (const struct efimap_early_param *p = __start_efimap_early;
		     p && p < __stop_efimap_early; p++) {
			if (!parameq(param, p->name))
				continue;
			known = true;
			if (p->fn(val) != 0)
				pr_warn("Malformed early option '%s'\n", param);
		}
		/* As the model: of the parameters init would get, efi_fake_mem only. */
		if (!known && parameq(param, "efi_fake_mem") && nargv < 256 && nenvp < 256)
			add_unknown(argv, &nargv, envp, &nenvp, param, val);
	}
	if (!nargv && !nenvp)
		return false;
	size_t o = 0;

	for (size_t i = 0; i < nargv + nenvp; i++) {
		char *w = i < nargv ? argv[i] : envp[i - nargv];

		o += snprintf(unknown_text + o, sizeof(unknown_text) - o, "%s%s", i ? " " : "", w);
		if (o >= sizeof(unknown_text))
			o = sizeof(unknown_text) - 1;
		free(w);
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* The boot                                                            */

static void reserve_range(void)
{
	size_t ds = sc.desc_size, len = sc.ndescs * ds;
	uint8_t *bytes = calloc(1, len ? len : 1);
	struct efi_memory_map_data data;

	efimap_push("efi_memblock_x86_reserve_range");
	for (size_t i = 0; i < sc.ndescs; i++) {
		efi_memory_desc_t md = {
			sc.descs[i].type, sc.descs[i].pad, sc.descs[i].phys,
			sc.descs[i].virt, sc.descs[i].pages, sc.descs[i].attr,
		};
		uint8_t *d = bytes + i * ds;

		memset(d, 0x80 | (i & 0x7f), ds);
		memcpy(d, &md, ds < sizeof(md) ? ds : sizeof(md));
	}
	efimap_place_firmware(bytes, len);
	free(bytes);
	data.phys_map = EFIMAP_FIRMWARE_MAP_PHYS;
	data.size = len;
	data.desc_version = EFI_MEMORY_DESCRIPTOR_VERSION;
	data.desc_size = ds;
	data.flags = 0;
	if (efi_memmap_init_early(&data) == 0) {
#ifdef EFIMAP_HAVE_X86_FAKE_MEM
		efi_fake_memmap_early();
#endif
	}
	efimap_pop();
}

static void kexec_step(void)
{
	efimap_push("kexec_enter_virtual_mode");
	efi_memmap_unmap();
	if (efi_memmap_init_late(efi.memmap.phys_map,
				 efi.memmap.desc_size * efi.memmap.nr_map))
		efimap_event(EFIMAP_L_ERR, "efi: Failed to remap late EFI memory map");
	efimap_pop();
}

static void virtual_mode_step(void)
{
	int count = 0, pg_shift = 0;
	void *new_memmap;
	unsigned long pa;

	efimap_push("efi_enter_virtual_mode");
	efimap_push("__efi_enter_virtual_mode");
	efi_merge_regions();
	new_memmap = efi_map_regions(&count, &pg_shift);
	if (!new_memmap) {
		efimap_event(EFIMAP_L_ERR,
			     "efi: Error reallocating memory, EFI runtime non-functional!");
		goto out;
	}
	pa = __pa(new_memmap);
	efimap_virtual_mode = true;
	efi_memmap_unmap();
	if (efi_memmap_init_late(pa, efi.memmap.desc_size * count)) {
		efimap_event(EFIMAP_L_ERR, "efi: Failed to remap late EFI memory map");
		goto out;
	}
	if (efi_enabled(EFI_DBG) && !efimap_quiet) {
		efimap_event(EFIMAP_L_INFO, "efi: EFI runtime memory map:");
		efi_print_memmap();
	}
#ifdef EFIMAP_HAVE_UNMAP_BS
	efi_unmap_boot_services();
#else
	efi_free_boot_services();
#endif
out:
	efimap_pop();
	efimap_pop();
}

static void reset_kernel(void)
{
	memset(&efi, 0, sizeof(efi));
	set_bit(EFI_BOOT, &efi.flags);
	set_bit(EFI_64BIT, &efi.flags);
	set_bit(EFI_RUNTIME_SERVICES, &efi.flags);
#ifdef EFIMAP_HAVE_FAKE_MEM
	nr_fake_mem = 0;
	memset(efi_fake_mems, 0, sizeof(struct efi_mem_range) * CONFIG_EFI_MAX_FAKE_MEM);
#endif
	efimap_reset_quirks();
	efimap_reset_efi();
	efimap_reset_x86efi();
	efimap_reset_efi64();
	efimap_reset_map_tracking();
}

static sigjmp_buf crash_jb;
static volatile sig_atomic_t in_boot;
static pthread_t boot_thread;

/* The signals a crash of the kernel code raises, and who had them before. */
static const int crash_sigs[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP };
#define N_CRASH_SIGS (sizeof(crash_sigs) / sizeof(crash_sigs[0]))
static struct sigaction prev_action[N_CRASH_SIGS];

/*
 * A signal during a boot, on the thread running it, ends that boot (the
 * answer then gets its crash record). Any other goes to whoever handled
 * the signal before install_handlers: the default action in the driver
 * process, the host program's own handler in the shared library.
 */
static void on_signal(int sig, siginfo_t *info, void *ctx)
{
	if (in_boot && pthread_equal(pthread_self(), boot_thread)) {
		in_boot = 0;
		siglongjmp(crash_jb, sig);
	}
	for (size_t i = 0; i < N_CRASH_SIGS; i++) {
		if (crash_sigs[i] != sig)
			continue;
		const struct sigaction *old = &prev_action[i];

		if (old->sa_flags & SA_SIGINFO) {
			old->sa_sigaction(sig, info, ctx);
			return;
		}
		if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
			old->sa_handler(sig);
			return;
		}
		sigaction(sig, old, NULL);
		raise(sig);
		return;
	}
}

static void boot_body(bool *have_bootmap, FILE *out)
{
	bool unknown;

	/* What memblock holds before the EFI code asks (the memory
	 * attributes table, ...). */
	for (size_t j = 0; j < sc.nmemblock; j++)
		memblock_reserve(sc.memblock[j][0], sc.memblock[j][1]);

	efimap_phase("parse_early_param");
	unknown = parse_early_param(sc.cmdline);

	reserve_range();

	efimap_phase("efi_init");
	if (efi_runtime_disabled()) {
		efi_memmap_unmap();
	} else {
		efi_clean_memmap();
#ifdef EFIMAP_HAVE_REMOVE_E820_MMIO
		efi_remove_e820_mmio();
#endif
		if (efi_enabled(EFI_DBG))
			efi_print_memmap();
	}

	efimap_phase("setup_arch");
	/* setup_arch calls it on every EFI boot; it looks for the map itself. */
#ifdef EFIMAP_HAVE_FAKE_MEM
	efi_fake_memmap();
	if (efi_enabled(EFI_MEMMAP))
		efimap_stage.ranges = nr_fake_mem;
#endif
	if (efi_enabled(EFI_MEMMAP)) {
		for (size_t j = 0; j < sc.nres; j++) {
			efimap_stage.reservations = j + 1;
			efi_mem_reserve(sc.res[j][0], sc.res[j][1]);
		}
	}
	{
		bool kept = efi_enabled(EFI_MEMMAP) && efi.memmap.map;

		efi_reserve_boot_services();
		if (kept)
			efimap_stage.kept = true;
	}
	/* The BGRT image, reserved from acpi_boot_init. */
	if (sc.have_bgrt && efi_enabled(EFI_MEMMAP)) {
		efimap_phase("efi_bgrt_init");
		/* The last of the boot's efi_mem_reserve calls. */
		efimap_stage.reservations = sc.nres + 1;
		efi_mem_reserve(sc.bgrt[0], sc.bgrt[1]);
	}
	efimap_phase("start_kernel");
	if (unknown)
		efimap_printk("\0015Unknown kernel command line parameters \"%s\", will be passed to user space.\n",
			      unknown_text);

	/* mm_init */
	efimap_slab_available = true;
	*have_bootmap = efi.memmap.map != NULL;
	if (*have_bootmap)
		efimap_dump_mapbytes(out, "bootmap");
	else
		fputs("bootmap -\n", out);

	bool runtime = efi_enabled(EFI_MEMMAP) && !efi_runtime_disabled();

	for (size_t i = 0; i < sc.nlater && runtime; i++) {
		if (sc.later[i] == LATER_KEXEC)
			kexec_step();
		else
			virtual_mode_step();
	}

	efimap_phase("do_initcalls");
#ifdef EFIMAP_HAVE_UNMAP_BS
	efi_free_boot_services();
#endif

	efimap_phase("efi_runtime_map_init");
	/* Self-test of the crash path: EFIMAP_TEST_CRASH=1 faults here. */
	if (getenv("EFIMAP_TEST_CRASH"))
		*(volatile int *)(uintptr_t)8 = 0;
	if (efi.memmap.map) {
		efi_memory_desc_t *md;

		for_each_efi_memory_desc(md)
			efimap_check_read(md, sizeof(*md));
	}
}

static void run_boot(FILE *out)
{
	bool have_bootmap = false;
	int sig;

	efimap_reset(sc.fill, sc.pattern, sc.quiet);
	reset_kernel();
	fflush(out);
	sig = sigsetjmp(crash_jb, 1);
	if (sig == 0) {
		boot_thread = pthread_self();
		in_boot = 1;
		boot_body(&have_bootmap, out);
		in_boot = 0;
	}
	efimap_dump(out);
#ifdef EFIMAP_HAVE_FAKE_MEM
	for (int i = 0; i < nr_fake_mem && i < CONFIG_EFI_MAX_FAKE_MEM; i++)
		fprintf(out, "fakemem 0x%llx 0x%llx 0x%llx\n", efi_fake_mems[i].range.start,
			efi_fake_mems[i].range.end, efi_fake_mems[i].attribute);
#endif
	fprintf(out, "stage %lu %lu %d\n", efimap_stage.ranges, efimap_stage.reservations,
		efimap_stage.kept);
	efimap_dump_mapbytes(out, "mapbytes");
	if (sig) {
		const char *name = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" :
				   sig == SIGABRT ? "SIGABRT" : sig == SIGFPE ? "SIGFPE" :
				   sig == SIGILL ? "SIGILL" : sig == SIGTRAP ? "SIGTRAP" : "SIGNAL";
		fprintf(out, "crash %s %s\n", name, efimap_innermost_raw());
	}
	fputs("end\n", out);
	fflush(out);
}

/* ------------------------------------------------------------------ */
/* Input                                                               */

static char altstack[1 << 16];

/*
 * Installs the crash handlers, remembering the previous ones, and gives the
 * calling thread an alternate signal stack unless it has one already.
 * Returns whether it installed that stack.
 */
static bool install_handlers(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) }, cur;
	struct sigaction sa;
	bool own_stack = false;

	if (sigaltstack(NULL, &cur) != 0 || (cur.ss_flags & SS_DISABLE)) {
		sigaltstack(&ss, NULL);
		own_stack = true;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_CRASH_SIGS; i++)
		sigaction(crash_sigs[i], &sa, &prev_action[i]);
	return own_stack;
}

/* Puts back what install_handlers replaced. */
static void restore_handlers(bool own_stack)
{
	for (size_t i = 0; i < N_CRASH_SIGS; i++)
		sigaction(crash_sigs[i], &prev_action[i], NULL);
	if (own_stack) {
		stack_t off = { .ss_flags = SS_DISABLE };

		sigaltstack(&off, NULL);
	}
}

/* Reads scenarios from `in` until its end, answering each on `out`. */
static void run_stream(FILE *in, FILE *out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	scenario_clear();
	while ((n = getline(&line, &cap, in)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		char word[32] = "";
		int used = 0;

		sscanf(p, "%31s%n", word, &used);
		char *rest = p + used;

		if (!strcmp(word, "boot")) {
			scenario_clear();
		} else if (!strcmp(word, "desc_size")) {
			sc.desc_size = strtoull(rest, NULL, 0);
		} else if (!strcmp(word, "fill")) {
			char how[32] = "", pat[32] = "";

			sscanf(rest, "%31s %31s", how, pat);
			if (!strcmp(how, "zero"))
				sc.fill = EFIMAP_FILL_ZERO;
			else if (!strcmp(how, "pattern"))
				sc.fill = EFIMAP_FILL_PATTERN, sc.pattern = strtoul(pat, NULL, 0);
			else
				sc.fill = EFIMAP_FILL_STALE;
		} else if (!strcmp(word, "quiet")) {
			sc.quiet = strtoul(rest, NULL, 0) != 0;
		} else if (!strcmp(word, "cmdline")) {
			if (*rest == ' ')
				rest++;
			snprintf(sc.cmdline, sizeof(sc.cmdline), "%s", rest);
		} else if (!strcmp(word, "desc")) {
			char f[6][64] = { "" };
			struct desc_in d;

			sscanf(rest, "%63s %63s %63s %63s %63s %63s", f[0], f[1], f[2], f[3], f[4], f[5]);
			d.type = (u32)num(f[0]);
			d.pad = (u32)num(f[1]);
			d.phys = num(f[2]);
			d.virt = num(f[3]);
			d.pages = num(f[4]);
			d.attr = num(f[5]);
			if (sc.ndescs == sc.capdescs) {
				sc.capdescs = sc.capdescs ? 2 * sc.capdescs : 64;
				sc.descs = realloc(sc.descs, sc.capdescs * sizeof(*sc.descs));
			}
			sc.descs[sc.ndescs++] = d;
		} else if (!strcmp(word, "reserve")) {
			char a[64] = "", b[64] = "";

			sscanf(rest, "%63s %63s", a, b);
			if (sc.nres == sc.capres) {
				sc.capres = sc.capres ? 2 * sc.capres : 16;
				sc.res = realloc(sc.res, sc.capres * sizeof(*sc.res));
			}
			sc.res[sc.nres][0] = strtoull(a, NULL, 0);
			sc.res[sc.nres][1] = strtoull(b, NULL, 0);
			sc.nres++;
		} else if (!strcmp(word, "memblock")) {
			char a[64] = "", b[64] = "";

			sscanf(rest, "%63s %63s", a, b);
			if (sc.nmemblock < 64) {
				sc.memblock[sc.nmemblock][0] = strtoull(a, NULL, 0);
				sc.memblock[sc.nmemblock][1] = strtoull(b, NULL, 0);
				sc.nmemblock++;
			}
		} else if (!strcmp(word, "bgrt")) {
			char a[64] = "", b[64] = "";

			sscanf(rest, "%63s %63s", a, b);
			sc.bgrt[0] = strtoull(a, NULL, 0);
			sc.bgrt[1] = strtoull(b, NULL, 0);
			sc.have_bgrt = true;
		} else if (!strcmp(word, "later")) {
			char how[32] = "";

			sscanf(rest, "%31s", how);
			if (sc.nlater < 8)
				sc.later[sc.nlater++] = strcmp(how, "kexec") ? LATER_VIRTUAL : LATER_KEXEC;
		} else if (!strcmp(word, "go")) {
			run_boot(out);
			scenario_clear();
		} else {
			fprintf(out, "error unknown directive %s\n", word);
			fflush(out);
		}
	}
	free(line);
}

int main(void)
{
	efimap_init();
	install_handlers();
	run_stream(stdin, stdout);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The shared library's entry points                                   */

int efimap_driver_run(const char *in, size_t len, char **out, size_t *out_len)
	__attribute__((visibility("default")));
void efimap_driver_free(char *out) __attribute__((visibility("default")));

/*
 * Runs the protocol text in[0 .. len) as the driver process would run it
 * from stdin, and sets *out to a malloc'd buffer of what it would have
 * written to stdout (*out_len bytes, NUL-terminated; free it with
 * efimap_driver_free). The crash handlers are installed for the call only.
 * The kernel code and the shim keep global state: calls must not overlap
 * (one thread at a time, in the whole process). Returns 0, or -1 (errno
 * set) when the streams cannot be opened.
 */
int efimap_driver_run(const char *in, size_t len, char **out, size_t *out_len)
{
	static bool initialised;
	FILE *fin = NULL, *fout;
	bool own_stack;

	*out = NULL;
	*out_len = 0;
	if (!initialised) {
		efimap_init();
		initialised = true;
	}
	fout = open_memstream(out, out_len);
	if (!fout)
		return -1;
	if (len) {
		fin = fmemopen((void *)in, len, "r");
		if (!fin) {
			fclose(fout);
			free(*out);
			*out = NULL;
			*out_len = 0;
			return -1;
		}
	}
	own_stack = install_handlers();
	if (fin)
		run_stream(fin, fout);
	restore_handlers(own_stack);
	if (fin)
		fclose(fin);
	fclose(fout);
	return 0;
}

void efimap_driver_free(char *out)
{
	free(out);
}
