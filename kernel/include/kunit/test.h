// SPDX-License-Identifier: GPL-2.0-only
/*
 * efimap's small stand-in for KUnit, enough to build and run a test case
 * written against the kernel's KUnit API (as `efimap export --as kunit`
 * writes them) in userspace, against the shim.
 *
 * A suite is registered by kunit_test_suites() or
 * kunit_test_init_section_suites(): a pointer to it is placed in the
 * efimap_kunit section, which the runner (kernel/kunit.c) walks. Each
 * expectation that does not hold is reported by the runner as it fails;
 * an assertion that does not hold also ends the case there. Memory from
 * kunit_kzalloc() and its kin is the shim's simulated slab memory, so an
 * access past it by the kernel code under test is recorded as a fault,
 * and the runner fails the case for it.
 *
 * Every check evaluates each of its operands once. Integers are reported
 * in decimal and hexadecimal.
 */
#ifndef EFIMAP_KUNIT_TEST_H
#define EFIMAP_KUNIT_TEST_H

#include <efimap_kernel.h>

struct kunit {
	const char *name; /* the running case's */
	bool failed;
	void *priv;
};

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
};

struct kunit_suite {
	const char *name;
	int (*suite_init)(struct kunit_suite *suite);
	void (*suite_exit)(struct kunit_suite *suite);
	int (*init)(struct kunit *test);
	void (*exit)(struct kunit *test);
	struct kunit_case *test_cases;
};

#define KUNIT_CASE(fn) { .run_case = fn, .name = #fn }

/* Placed in efimap_kunit, in the order given, for the runner. */
#define EFIMAP_KUNIT_PASTE2(a, b) a##b
#define EFIMAP_KUNIT_PASTE(a, b) EFIMAP_KUNIT_PASTE2(a, b)
#define kunit_test_suites(...)                                                \
	static struct kunit_suite *const EFIMAP_KUNIT_PASTE(efimap_kunit_reg_, __LINE__)[] \
	__attribute__((used, section("efimap_kunit"), aligned(8))) = { __VA_ARGS__ }
#define kunit_test_suite(suite) kunit_test_suites(&(suite))
#define kunit_test_init_section_suites(...) kunit_test_suites(__VA_ARGS__)
#define kunit_test_init_section_suite(suite) kunit_test_suites(&(suite))

#ifndef MODULE_LICENSE
#define MODULE_LICENSE(text)
#endif
#ifndef MODULE_DESCRIPTION
#define MODULE_DESCRIPTION(text)
#endif
#ifndef MODULE_AUTHOR
#define MODULE_AUTHOR(text)
#endif
#ifndef MODULE_IMPORT_NS
#define MODULE_IMPORT_NS(ns)
#endif

/* Managed memory: the shim's kmalloc, freed when the case ends. */
void *kunit_kmalloc(struct kunit *test, size_t size, gfp_t gfp);
void *kunit_kzalloc(struct kunit *test, size_t size, gfp_t gfp);
void *kunit_kcalloc(struct kunit *test, size_t n, size_t size, gfp_t gfp);
void *kunit_kmalloc_array(struct kunit *test, size_t n, size_t size, gfp_t gfp);
void kunit_kfree(struct kunit *test, const void *ptr);

/* What the runner does when a check fails (kernel/kunit.c). */
enum efimap_kunit_kind { EFIMAP_KUNIT_EXPECT, EFIMAP_KUNIT_ASSERT };

void efimap_kunit_binary(struct kunit *test, enum efimap_kunit_kind kind,
			 const char *file, int line, const char *left,
			 const char *op, const char *right,
			 unsigned long long lval, bool lsigned,
			 unsigned long long rval, bool rsigned, const char *fmt, ...)
	__attribute__((format(printf, 12, 13)));
void efimap_kunit_fact(struct kunit *test, enum efimap_kunit_kind kind,
		       const char *file, int line, const char *what,
		       const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void efimap_kunit_log(struct kunit *test, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Whether an integer's type is signed (false for pointers and bool). */
#define EFIMAP_KUNIT_SIGNED(x) ((__typeof__(x))-1 < (__typeof__(x))0)

#define EFIMAP_KUNIT_BINARY(test, kind, l, op, r, lstr, rstr, ...)           \
	do {                                                                 \
		__typeof__(l) efimap_kunit_l = (l);                          \
		__typeof__(r) efimap_kunit_r = (r);                          \
		if (!(efimap_kunit_l op efimap_kunit_r))                      \
			efimap_kunit_binary(test, kind, __FILE__, __LINE__,  \
					    lstr, #op, rstr,                 \
					    (unsigned long long)efimap_kunit_l, \
					    EFIMAP_KUNIT_SIGNED(efimap_kunit_l), \
					    (unsigned long long)efimap_kunit_r, \
					    EFIMAP_KUNIT_SIGNED(efimap_kunit_r), \
					    __VA_ARGS__);                    \
	} while (0)

#define EFIMAP_KUNIT_FACT(test, kind, cond, what, ...)                       \
	do {                                                                 \
		if (!(cond))                                                 \
			efimap_kunit_fact(test, kind, __FILE__, __LINE__,    \
					  what, __VA_ARGS__);                \
	} while (0)

/*
 * The checks, as EXPECT and ASSERT: the operands are spelled out here, at
 * the outermost macro, so that a report names them as the case wrote them.
 */
#define KUNIT_EXPECT_EQ_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, ==, r, #l, #r, __VA_ARGS__)
#define KUNIT_EXPECT_NE_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, !=, r, #l, #r, __VA_ARGS__)
#define KUNIT_EXPECT_LT_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, <, r, #l, #r, __VA_ARGS__)
#define KUNIT_EXPECT_LE_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, <=, r, #l, #r, __VA_ARGS__)
#define KUNIT_EXPECT_GT_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, >, r, #l, #r, __VA_ARGS__)
#define KUNIT_EXPECT_GE_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, >=, r, #l, #r, __VA_ARGS__)
#define KUNIT_EXPECT_PTR_EQ_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, ==, r, #l, #r, __VA_ARGS__)
#define KUNIT_EXPECT_PTR_NE_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, !=, r, #l, #r, __VA_ARGS__)
#define KUNIT_EXPECT_TRUE_MSG(t, c, ...) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_EXPECT, c, #c " is true", __VA_ARGS__)
#define KUNIT_EXPECT_FALSE_MSG(t, c, ...) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_EXPECT, !(c), #c " is false", __VA_ARGS__)
#define KUNIT_EXPECT_NULL_MSG(t, p, ...) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_EXPECT, (p) == NULL, #p " is NULL", __VA_ARGS__)
#define KUNIT_EXPECT_NOT_NULL_MSG(t, p, ...) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_EXPECT, (p) != NULL, #p " is not NULL", __VA_ARGS__)

#define KUNIT_ASSERT_EQ_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, ==, r, #l, #r, __VA_ARGS__)
#define KUNIT_ASSERT_NE_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, !=, r, #l, #r, __VA_ARGS__)
#define KUNIT_ASSERT_LT_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, <, r, #l, #r, __VA_ARGS__)
#define KUNIT_ASSERT_LE_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, <=, r, #l, #r, __VA_ARGS__)
#define KUNIT_ASSERT_GT_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, >, r, #l, #r, __VA_ARGS__)
#define KUNIT_ASSERT_GE_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, >=, r, #l, #r, __VA_ARGS__)
#define KUNIT_ASSERT_PTR_EQ_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, ==, r, #l, #r, __VA_ARGS__)
#define KUNIT_ASSERT_PTR_NE_MSG(t, l, r, ...) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, !=, r, #l, #r, __VA_ARGS__)
#define KUNIT_ASSERT_TRUE_MSG(t, c, ...) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_ASSERT, c, #c " is true", __VA_ARGS__)
#define KUNIT_ASSERT_FALSE_MSG(t, c, ...) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_ASSERT, !(c), #c " is false", __VA_ARGS__)
#define KUNIT_ASSERT_NULL_MSG(t, p, ...) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_ASSERT, (p) == NULL, #p " is NULL", __VA_ARGS__)
#define KUNIT_ASSERT_NOT_NULL_MSG(t, p, ...) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_ASSERT, (p) != NULL, #p " is not NULL", __VA_ARGS__)

#define KUNIT_EXPECT_EQ(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, ==, r, #l, #r, NULL)
#define KUNIT_EXPECT_NE(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, !=, r, #l, #r, NULL)
#define KUNIT_EXPECT_LT(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, <, r, #l, #r, NULL)
#define KUNIT_EXPECT_LE(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, <=, r, #l, #r, NULL)
#define KUNIT_EXPECT_GT(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, >, r, #l, #r, NULL)
#define KUNIT_EXPECT_GE(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, >=, r, #l, #r, NULL)
#define KUNIT_EXPECT_PTR_EQ(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, ==, r, #l, #r, NULL)
#define KUNIT_EXPECT_PTR_NE(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_EXPECT, l, !=, r, #l, #r, NULL)
#define KUNIT_EXPECT_TRUE(t, c) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_EXPECT, c, #c " is true", NULL)
#define KUNIT_EXPECT_FALSE(t, c) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_EXPECT, !(c), #c " is false", NULL)
#define KUNIT_EXPECT_NULL(t, p) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_EXPECT, (p) == NULL, #p " is NULL", NULL)
#define KUNIT_EXPECT_NOT_NULL(t, p) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_EXPECT, (p) != NULL, #p " is not NULL", NULL)

#define KUNIT_ASSERT_EQ(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, ==, r, #l, #r, NULL)
#define KUNIT_ASSERT_NE(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, !=, r, #l, #r, NULL)
#define KUNIT_ASSERT_LT(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, <, r, #l, #r, NULL)
#define KUNIT_ASSERT_LE(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, <=, r, #l, #r, NULL)
#define KUNIT_ASSERT_GT(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, >, r, #l, #r, NULL)
#define KUNIT_ASSERT_GE(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, >=, r, #l, #r, NULL)
#define KUNIT_ASSERT_PTR_EQ(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, ==, r, #l, #r, NULL)
#define KUNIT_ASSERT_PTR_NE(t, l, r) EFIMAP_KUNIT_BINARY(t, EFIMAP_KUNIT_ASSERT, l, !=, r, #l, #r, NULL)
#define KUNIT_ASSERT_TRUE(t, c) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_ASSERT, c, #c " is true", NULL)
#define KUNIT_ASSERT_FALSE(t, c) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_ASSERT, !(c), #c " is false", NULL)
#define KUNIT_ASSERT_NULL(t, p) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_ASSERT, (p) == NULL, #p " is NULL", NULL)
#define KUNIT_ASSERT_NOT_NULL(t, p) EFIMAP_KUNIT_FACT(t, EFIMAP_KUNIT_ASSERT, (p) != NULL, #p " is not NULL", NULL)

/* A failure without a condition, and what a case prints. */
#define KUNIT_FAIL(t, ...) efimap_kunit_fact(t, EFIMAP_KUNIT_EXPECT, __FILE__, __LINE__, NULL, __VA_ARGS__)
#define KUNIT_SUCCEED(t) do { } while (0)
#define kunit_info(t, ...) efimap_kunit_log(t, __VA_ARGS__)
#define kunit_warn(t, ...) efimap_kunit_log(t, __VA_ARGS__)
#define kunit_err(t, ...) efimap_kunit_log(t, __VA_ARGS__)

#endif /* EFIMAP_KUNIT_TEST_H */
