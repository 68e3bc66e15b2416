/* SPDX-License-Identifier: BSD-2-Clause */
/* Blocking waits for teardown: futex on a 32-bit word, no spinning, no fixed sleeps. */
#ifndef TEARDOWN_PATTERNS_COMMON_FUTEX_H
#define TEARDOWN_PATTERNS_COMMON_FUTEX_H

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Sleeps while *word == expected. Spurious returns are allowed: callers re-check in a loop. */
static inline void futex_wait_while(_Atomic uint32_t *word, uint32_t expected)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

/*
 * Wakes every waiter on word. Safe to call on a word whose memory the owner may have freed: a
 * private wake uses the address as a key and never reads the word (see rundown_release_slow()),
 * and its result is ignored on purpose.
 */
static inline void futex_wake_all(_Atomic uint32_t *word)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

#endif /* TEARDOWN_PATTERNS_COMMON_FUTEX_H */
