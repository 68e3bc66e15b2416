/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Remove lock: an emulation of Windows' IO_REMOVE_LOCK (IoInitializeRemoveLock,
 * IoAcquireRemoveLock, IoReleaseRemoveLock, IoReleaseRemoveLockAndWait).
 *
 * The contract, as Microsoft documents it ("Using Remove Locks" and the routines' pages):
 *   - remove_lock_acquire() counts one acquisition. Once remove_lock_release_and_wait() has been
 *     called it fails with REMOVE_LOCK_DELETE_PENDING (Windows: STATUS_DELETE_PENDING), and the
 *     caller must not start the operation.
 *   - every successful acquire is matched by one remove_lock_release(), with the same tag.
 *   - the IRP_MN_REMOVE_DEVICE handler acquires once more, then calls
 *     remove_lock_release_and_wait(), which releases that acquisition and returns only when every
 *     outstanding acquisition has been released. Afterwards the device may be detached and freed,
 *     lock and all, once no acquire can still be on its way to it: the lock must outlive every
 *     acquire attempt, not only every holder (in Windows the I/O manager's reference on the
 *     device object keeps a dispatch routine that is about to acquire from seeing it freed).
 *
 * One 32-bit word holds the count of acquisitions (low 31 bits) and REMOVED (bit 31).
 *
 * Why it is enough: an acquire is one fetch_add on the word, and release-and-wait marks REMOVED
 * with one fetch_or on the same word. The word's modification order puts every acquire either
 * before the mark (the count includes it, so the wait waits for it) or after (it reads REMOVED
 * and backs out). No store-load pair, so nothing needs seq_cst. The wait ends when an acquire
 * load reads the count at 0. Every release is a release read-modify-write of the word, and every
 * later operation on the word is a read-modify-write too, so that load synchronizes with every
 * holder's release: all their uses of the device happen before whatever the remover frees next.
 *
 * Tags are accepted and ignored, as in a free build of Windows (which checks them only on
 * checked builds). Misuse aborts with "teardown: remove_lock: misuse: ...": release without a
 * matching acquire, release-and-wait twice, release-and-wait while no acquisition is held,
 * more than 2^31 - 1 acquisitions. Release-and-wait by a caller that holds nothing while another
 * thread holds one cannot be told apart from correct use without tags: it waits for that holder.
 */
#ifndef TEARDOWN_PATTERNS_REMOVE_LOCK_REMOVE_LOCK_H
#define TEARDOWN_PATTERNS_REMOVE_LOCK_REMOVE_LOCK_H

#include <stdatomic.h>
#include <stdint.h>

#include "patterns/common/compiler.h"

#define REMOVE_LOCK_REMOVED 0x80000000u	/* set by remove_lock_release_and_wait() */
#define REMOVE_LOCK_COUNT_MASK 0x7fffffffu	/* outstanding acquisitions */

/* What remove_lock_acquire() returns: Windows' STATUS_SUCCESS and STATUS_DELETE_PENDING. */
#define REMOVE_LOCK_SUCCESS ((int32_t)0)
#define REMOVE_LOCK_DELETE_PENDING ((int32_t)0xC0000056u)

struct remove_lock {
	_Atomic uint32_t word;	/* REMOVED | count; also the futex the remover sleeps on */
};

#define REMOVE_LOCK_INIT { .word = 0 }

/* IoInitializeRemoveLock: no acquisitions, not removed. */
void remove_lock_init(struct remove_lock *lock);

/* private: called only by the inline functions below; not API */
/* Out of line: backing out after REMOVED, waking the remover, and misuse. */
int32_t remove_lock_acquire_slow(struct remove_lock *lock, uint32_t old);
void remove_lock_release_slow(struct remove_lock *lock, uint32_t old);

/*
 * IoAcquireRemoveLock. Returns REMOVE_LOCK_SUCCESS, and the device may be used until the matching
 * remove_lock_release(); or REMOVE_LOCK_DELETE_PENDING once removal has begun (release nothing).
 */
/* quote: acquire */
static inline int32_t remove_lock_acquire(struct remove_lock *lock, const void *tag)
{
	/* acquire: the caller's uses of the device cannot move above the count that guards them. */
	uint32_t old = atomic_fetch_add_explicit(&lock->word, 1, memory_order_acquire);

	(void)tag;
	/* REMOVED, or the count is full */
	if (teardown_unlikely(old >= REMOVE_LOCK_COUNT_MASK))
		return remove_lock_acquire_slow(lock, old);
	return REMOVE_LOCK_SUCCESS;
}
/* end quote: acquire */

/* IoReleaseRemoveLock. The last release after removal began wakes the remover. */
/* quote: release */
static inline void remove_lock_release(struct remove_lock *lock, const void *tag)
{
	/*
	 * release: the holder's uses of the device happen before the remover's wait ends. After
	 * this decrement the lock may be freed: only `old` is used, and the wake in the slow path
	 * passes the address alone (remove_lock.c says why that is safe).
	 */
	uint32_t old = atomic_fetch_sub_explicit(&lock->word, 1, memory_order_release);

	(void)tag;
	if (teardown_unlikely((old & REMOVE_LOCK_COUNT_MASK) == 0 ||
			      old == (REMOVE_LOCK_REMOVED | 1)))
		remove_lock_release_slow(lock, old);
}
/* end quote: release */

/*
 * IoReleaseRemoveLockAndWait: marks the lock removed (from now on every acquire fails), releases
 * the caller's own acquisition, and blocks until no acquisition is outstanding. The caller must
 * hold one (the remove handler acquires "once more" first). Calling it twice aborts.
 */
void remove_lock_release_and_wait(struct remove_lock *lock, const void *tag);

/* Outstanding acquisitions, for tests and narration (relaxed: a snapshot, no ordering). */
static inline uint32_t remove_lock_count(struct remove_lock *lock)
{
	return atomic_load_explicit(&lock->word, memory_order_relaxed) & REMOVE_LOCK_COUNT_MASK;
}

#endif /* TEARDOWN_PATTERNS_REMOVE_LOCK_REMOVE_LOCK_H */
