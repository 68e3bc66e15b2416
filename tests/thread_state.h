/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit-test helper: is one of our threads asleep? A state, read from /proc, never a clock. */
#ifndef TEARDOWN_TESTS_THREAD_STATE_H
#define TEARDOWN_TESTS_THREAD_STATE_H

#include <stdio.h>
#include <string.h>

/*
 * The scheduler state of thread `tid` of this process ('R' running, 'S' asleep, ...), from
 * /proc/self/task/TID/stat; '?' if it cannot be read. A test that must know a waiter is asleep
 * in the kernel (so that a wake, not a re-check, is what lets it go on) polls this for 'S'.
 */
static inline char thread_state(int tid)
{
	char path[64], buf[512], *paren;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');	/* the command name may hold spaces and parentheses */
	return paren && paren[1] == ' ' ? paren[2] : '?';
}

#endif /* TEARDOWN_TESTS_THREAD_STATE_H */
