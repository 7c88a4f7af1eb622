// SPDX-License-Identifier: GPL-2.0-only
//
// The init of the initramfs that `efimap boot --kernel` builds: it prints
// what the kernel exposes of the EFI memory map and the firmware tables
// after boot, then powers the machine off.
//
// Built static (`cc -static -Os`); runs as PID 1 with /dev/console (the
// serial console) as its standard output. Every output line starts with
// "efimap-init: " and is written whole by one write(2) loop, so the
// kernel's own console messages fall between lines, not inside them:
//
//   efimap-init: begin
//   efimap-init: PATH: LINE        one per line of a text file
//   efimap-init: PATH:             (then a space) an empty file
//   efimap-init: PATH: hex HEX     a file with other bytes, lowercase hex
//   efimap-init: PATH: size N      a file not read (st_size)
//   efimap-init: error: PATH: MSG  a file that exists but cannot be read
//   efimap-init: end
//
// Directories are walked recursively (symbolic links not followed); the
// regular files of each are printed in strcmp order of their full paths.
// A path that does not exist is skipped.

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX "efimap-init: "
#define MAX_READ (1024 * 1024)

static const char *const dirs[] = {
	"/sys/firmware/efi/runtime-map",
	"/sys/firmware/memmap",
	"/sys/firmware/acpi/bgrt",
	"/sys/firmware/efi/esrt",
	"/sys/firmware/efi/mok-variables",
};

static const char *const files[] = {
	"/sys/firmware/acpi/tables/BGRT",
	"/proc/iomem",
	"/proc/cmdline",
	"/sys/firmware/efi/systab",
	"/sys/firmware/efi/fw_platform_size",
};

// Writes all of buf to standard output, retrying short writes.
static void put(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(1, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

// One output line: PREFIX, then the parts a and b (b of length blen),
// then a newline, in one buffer so that it goes out in one write.
static void line(const char *a, const char *b, size_t blen)
{
	size_t plen = strlen(PREFIX), alen = strlen(a);
	char *buf = malloc(plen + alen + blen + 1);

	if (!buf)
		return;
	memcpy(buf, PREFIX, plen);
	memcpy(buf + plen, a, alen);
	memcpy(buf + plen + alen, b, blen);
	buf[plen + alen + blen] = '\n';
	put(buf, plen + alen + blen + 1);
	free(buf);
}

// "PATH: " in a fresh buffer (freed by the caller).
static char *head(const char *path)
{
	size_t n = strlen(path);
	char *h = malloc(n + 3);

	if (h) {
		memcpy(h, path, n);
		memcpy(h + n, ": ", 3);
	}
	return h;
}

// Prints "error: PATH: MSG" for a file that could not be read.
static void unreadable(const char *path, int err)
{
	const char *msg = strerror(err);
	size_t plen = strlen(path), mlen = strlen(msg);
	char *rest = malloc(plen + 2 + mlen);

	if (!rest)
		return;
	memcpy(rest, path, plen);
	memcpy(rest + plen, ": ", 2);
	memcpy(rest + plen + 2, msg, mlen);
	line("error: ", rest, plen + 2 + mlen);
	free(rest);
}

static int printable(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\t' ||
		      p[i] == '\n'))
			return 0;
	return 1;
}

// Reads up to MAX_READ bytes of path into a fresh buffer; -1 (errno set)
// on failure.
static ssize_t slurp(const char *path, unsigned char **out)
{
	unsigned char *buf = malloc(MAX_READ);
	size_t len = 0;
	int fd;

	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		free(buf);
		errno = e;
		return -1;
	}
	while (len < MAX_READ) {
		ssize_t n = read(fd, buf + len, MAX_READ - len);

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			free(buf);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*out = buf;
	return (ssize_t)len;
}

static int not_read(const char *path)
{
	static const char mok[] = "/sys/firmware/efi/mok-variables/";

	return strcmp(path, "/sys/firmware/acpi/bgrt/image") == 0 ||
	       strncmp(path, mok, sizeof(mok) - 1) == 0;
}

// Prints one regular file (st: its lstat).
static void print_file(const char *path, const struct stat *st)
{
	char *h = head(path);
	unsigned char *data;
	ssize_t n;

	if (!h)
		return;
	if (not_read(path)) {
		unsigned long long v = (unsigned long long)st->st_size;
		char size[40], digits[24];
		int len, d = 0;

		do {
			digits[d++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		memcpy(size, "size ", 5);
		len = 5;
		while (d)
			size[len++] = digits[--d];
		line(h, size, (size_t)len);
		free(h);
		return;
	}
	n = slurp(path, &data);
	if (n < 0) {
		unreadable(path, errno);
		free(h);
		return;
	}
	if (n == 0) {
		line(h, "", 0);
	} else if (printable(data, (size_t)n)) {
		size_t start = 0;

		while (start < (size_t)n) {
			unsigned char *nl = memchr(data + start, '\n',
						   (size_t)n - start);
			size_t end = nl ? (size_t)(nl - data) : (size_t)n;

			line(h, (const char *)data + start, end - start);
			start = end + 1;
		}
	} else {
		static const char digit[] = "0123456789abcdef";
		char *hex = malloc(4 + 2 * (size_t)n);

		if (hex) {
			memcpy(hex, "hex ", 4);
			for (ssize_t i = 0; i < n; i++) {
				hex[4 + 2 * i] = digit[data[i] >> 4];
				hex[4 + 2 * i + 1] = digit[data[i] & 0xf];
			}
			line(h, hex, 4 + 2 * (size_t)n);
			free(hex);
		}
	}
	free(data);
	free(h);
}

// The regular files found under a directory, collected before printing
// so that they can be sorted by full path.
struct list {
	char **paths;
	size_t len, cap;
};

static void push(struct list *l, char *path)
{
	if (l->len == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **p = realloc(l->paths, cap * sizeof(*p));

		if (!p) {
			free(path);
			return;
		}
		l->paths = p;
		l->cap = cap;
	}
	l->paths[l->len++] = path;
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (p) {
		memcpy(p, dir, a);
		p[a] = '/';
		memcpy(p + a + 1, name, b + 1);
	}
	return p;
}

static void walk(const char *dir, struct list *l)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = join(dir, e->d_name);
		if (!p)
			continue;
		if (lstat(p, &st) != 0) {
			free(p);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			walk(p, l);
			free(p);
		} else if (S_ISREG(st.st_mode)) {
			push(l, p);
		} else {
			free(p);
		}
	}
	closedir(d);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		print_file(path, &st);
}

int main(void)
{
	// The kernel opens /dev/console as 0, 1 and 2 when the initramfs
	// has it; open it here if it did not.
	if (fcntl(1, F_GETFD) < 0) {
		int fd = open("/dev/console", O_RDWR);

		if (fd >= 0 && fd != 1)
			dup2(fd, 1);
	}
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);

	line("begin", "", 0);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct list l = { 0 };

		walk(dirs[i], &l);
		if (l.len > 1)
			qsort(l.paths, l.len, sizeof(*l.paths), by_path);
		for (size_t j = 0; j < l.len; j++) {
			print_path(l.paths[j]);
			free(l.paths[j]);
		}
		free(l.paths);
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		print_path(files[i]);
	line("end", "", 0);

	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
