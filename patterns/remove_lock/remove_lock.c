/* SPDX-License-Identifier: BSD-2-Clause */
#include "patterns/remove_lock/remove_lock.h"

#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"
#include "scenario/hooks.h"

void remove_lock_init(struct remove_lock *lock)
{
	atomic_init(&lock->word, 0);
}

int32_t remove_lock_acquire_slow(struct remove_lock *lock, uint32_t old)
{
	if ((old & REMOVE_LOCK_COUNT_MASK) == REMOVE_LOCK_COUNT_MASK)
		teardown_misuse("remove_lock", "more than %u outstanding acquisitions",
				REMOVE_LOCK_COUNT_MASK);
	/*
	 * Removal has begun: take back our increment. The remover may be waiting for it, and may
	 * free the lock once it is gone: nothing of *lock is touched after this release.
	 */
	remove_lock_release(lock, NULL);
	return REMOVE_LOCK_DELETE_PENDING;
}

void remove_lock_release_slow(struct remove_lock *lock, uint32_t old)
{
	if ((old & REMOVE_LOCK_COUNT_MASK) == 0)
		teardown_misuse("remove_lock",
				"remove_lock_release without a matching remove_lock_acquire");
	/*
	 * old == REMOVED | 1: we released the last acquisition, and the remover may already
	 * have seen the count at 0 (it re-checks before it sleeps) and freed the memory holding
	 * the lock. So from our fetch_sub on, nothing reads or writes *lock; the wake only
	 * passes its address:
	 *   - FUTEX_WAKE_PRIVATE never reads the user word: get_futex_key() checks the address is
	 *     aligned and in user space and keys it as (mm, address); futex_wake() then looks only
	 *     in the hash bucket for waiters with that key.
	 *   - an address whose page is unmapped by now is still a user address: the private wake
	 *     returns 0 (only a shared futex would look the page up and fail with EFAULT), and
	 *     futex_wake_all() ignores the result either way.
	 *   - an address reused for another futex gets at worst a spurious wake-up, which every
	 *     futex waiter must tolerate (futex_wait_while() callers re-check in a loop).
	 */
	futex_wake_all(&lock->word);
}

/* quote: release_and_wait */
void remove_lock_release_and_wait(struct remove_lock *lock, const void *tag)
{
	uint32_t old, word;

	/*
	 * relaxed: the mark and the count share the word, so its modification order alone
	 * decides which acquires the wait must wait for; the ordering for the free is the acquire
	 * load below.
	 */
	old = atomic_fetch_or_explicit(&lock->word, REMOVE_LOCK_REMOVED, memory_order_relaxed);
	if (old & REMOVE_LOCK_REMOVED)
		teardown_misuse("remove_lock", "remove_lock_release_and_wait called twice");
	if ((old & REMOVE_LOCK_COUNT_MASK) == 0)
		teardown_misuse("remove_lock", "remove_lock_release_and_wait without holding an "
				"acquisition (the remove handler must acquire once more first)");
	SCENARIO_NOTE("IoReleaseRemoveLockAndWait: marks the lock removed; releases its own");
	remove_lock_release(lock, tag);
	/* acquire: reading count 0 synchronizes with every holder's release (see remove_lock.h). */
	while ((word = atomic_load_explicit(&lock->word, memory_order_acquire)) !=
	       REMOVE_LOCK_REMOVED) {
		SCENARIO_NOTE("IoReleaseRemoveLockAndWait: %u acquisition(s) outstanding",
			      word & REMOVE_LOCK_COUNT_MASK);
		SCENARIO_TEARDOWN_BLOCKS();
		futex_wait_while(&lock->word, word);
	}
	SCENARIO_NOTE("IoReleaseRemoveLockAndWait: no acquisition outstanding; returns");
}
/* end quote: release_and_wait */
