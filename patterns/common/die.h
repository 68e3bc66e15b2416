/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fatal errors that are not the caller's fault: out of memory, a failed pthread_create or
 * membarrier, a futex error other than EAGAIN or EINTR. Reported with errno and the place, then
 * abort (in the manner of liburcu's urcu_die):
 *
 *	teardown: <pattern>: fatal: <what> at <file>:<line> in <function>(): <strerror> (errno N)
 *
 * A contract violation by the caller (exit without enter, teardown twice) is not fatal in this
 * sense: it goes through teardown_misuse() (misuse.h) instead.
 */
#ifndef TEARDOWN_PATTERNS_COMMON_DIE_H
#define TEARDOWN_PATTERNS_COMMON_DIE_H

#include <stdbool.h>
#include <stddef.h>

/* errnum: the errno value that explains the failure, or 0 if there is none to print. */
#define teardown_die(pattern, errnum, ...) \
	teardown_die_at(__FILE__, __LINE__, __func__, (pattern), (errnum), __VA_ARGS__)

__attribute__((noreturn, format(printf, 6, 7)))
void teardown_die_at(const char *file, int line, const char *func, const char *pattern,
		     int errnum, const char *fmt, ...);

/*
 * Allocation that cannot fail silently: each returns the memory or dies with the place of the
 * call ("out of memory: N bytes", ENOMEM). Every allocation in the catalog goes through these.
 * teardown_aligned_alloc rounds the size up to a multiple of the alignment, as C11 requires.
 */
#define teardown_malloc(pattern, size) \
	teardown_alloc_at(__FILE__, __LINE__, __func__, (pattern), 0, 1, (size), false)
#define teardown_calloc(pattern, n, size) \
	teardown_alloc_at(__FILE__, __LINE__, __func__, (pattern), 0, (n), (size), true)
#define teardown_aligned_alloc(pattern, align, size) \
	teardown_alloc_at(__FILE__, __LINE__, __func__, (pattern), (align), 1, (size), false)

void *teardown_alloc_at(const char *file, int line, const char *func, const char *pattern,
			size_t align, size_t n, size_t size, bool zero);

#endif /* TEARDOWN_PATTERNS_COMMON_DIE_H */
