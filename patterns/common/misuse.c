/* SPDX-License-Identifier: BSD-2-Clause */
#include "patterns/common/misuse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void teardown_misuse(const char *pattern, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "teardown: %s: misuse: ", pattern);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}
