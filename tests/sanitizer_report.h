/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reads the first ThreadSanitizer or AddressSanitizer report in a program's stderr: its kind,
 * and where the use and the free happened. Shared by the race test driver and the tour.
 */
#ifndef TEARDOWN_TESTS_SANITIZER_REPORT_H
#define TEARDOWN_TESTS_SANITIZER_REPORT_H

#include <stdbool.h>

#define SANITIZER_FRAME_MAX 256

struct sanitizer_report {
	bool found;
	char sanitizer[32];	/* "ThreadSanitizer" or "AddressSanitizer" */
	char kind[64];		/* "heap-use-after-free", "data race", ... */
	/* "Read of size 8 at 0x... by thread T1 (mutexes: read M11)" */
	char use_access[192];
	/* "function file:line", first frame below the sanitizer's own interceptors */
	char use_top[SANITIZER_FRAME_MAX];
	char use_caller[SANITIZER_FRAME_MAX];	/* the frame below use_top, if any */
	/* the free: the first frame that called free() */
	char free_top[SANITIZER_FRAME_MAX];
	char free_caller[SANITIZER_FRAME_MAX];
};

/* Parses stderr text. Returns report->found. */
bool sanitizer_report_parse(const char *text, struct sanitizer_report *report);

#endif /* TEARDOWN_TESTS_SANITIZER_REPORT_H */
