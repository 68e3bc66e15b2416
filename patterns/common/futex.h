/* SPDX-License-Identifier: BSD-2-Clause */
/* Blocking waits for teardown: futex on a 32-bit word, no spinning, no fixed sleeps. */
#ifndef TEARDOWN_PATTERNS_COMMON_FUTEX_H
#define TEARDOWN_PATTERNS_COMMON_FUTEX_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* syscall() */
#endif
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "patterns/common/die.h"

#ifdef TEARDOWN_FUTEX_FAULTS
/*
 * Fault injection, for torture builds only: when this returns true, futex_wait_while() returns
 * at once without sleeping, as a spurious wake-up or a signal (EINTR) would make it return.
 * The torture harness defines it.
 */
bool teardown_futex_fault(void);
#endif

/*
 * Sleeps while *word == expected. Returns early on a wake-up, a signal (EINTR) or a changed word
 * (EAGAIN), and spuriously: callers re-check in a loop. Any other error is fatal.
 */
static inline void futex_wait_while(_Atomic uint32_t *word, uint32_t expected)
{
#ifdef TEARDOWN_FUTEX_FAULTS
	if (teardown_futex_fault())
		return;
#endif
	long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);

	if (r == -1 && errno != EAGAIN && errno != EINTR)
		teardown_die("futex", errno, "FUTEX_WAIT_PRIVATE on %p", (void *)word);
}

/*
 * Wakes every waiter on word. Safe to call on a word whose memory the owner may have freed: a
 * private wake uses the address as a key and never reads the word (see rundown_wake_waiter()),
 * and its result is ignored on purpose: the only errors it could return (EFAULT, EINVAL) concern
 * the word, and a released word may already be gone.
 */
static inline void futex_wake_all(_Atomic uint32_t *word)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

#endif /* TEARDOWN_PATTERNS_COMMON_FUTEX_H */
