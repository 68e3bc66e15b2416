/* SPDX-License-Identifier: BSD-2-Clause */
#define _POSIX_C_SOURCE 200809L	/* the XSI strerror_r, whatever the compiler defaults to */
#include "patterns/common/die.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void teardown_die_at(const char *file, int line, const char *func, const char *pattern,
		     int errnum, const char *fmt, ...)
{
	char reason[128];
	va_list ap;

	fprintf(stderr, "teardown: %s: fatal: ", pattern);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " at %s:%d in %s()", file, line, func);
	if (errnum != 0) {
		/* Thread-safe, and it does not allocate. */
		if (strerror_r(errnum, reason, sizeof(reason)) != 0)
			snprintf(reason, sizeof(reason), "unknown error");
		fprintf(stderr, ": %s (errno %d)", reason, errnum);
	}
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

void *teardown_alloc_at(const char *file, int line, const char *func, const char *pattern,
			size_t align, size_t n, size_t size, bool zero)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		teardown_die_at(file, line, func, pattern, EOVERFLOW, "allocating %zu x %zu bytes",
				n, size);
	size *= n;
	if (align != 0) {
		if (size > SIZE_MAX - align)
			teardown_die_at(file, line, func, pattern, EOVERFLOW,
					"allocating %zu bytes aligned to %zu", size, align);
		size = (size + align - 1) / align * align;
		p = aligned_alloc(align, size);
		if (p && zero)
			memset(p, 0, size);
	} else {
		p = zero ? calloc(1, size) : malloc(size);
	}
	if (!p)
		teardown_die_at(file, line, func, pattern, ENOMEM, "out of memory: %zu bytes",
				size);
	return p;
}
