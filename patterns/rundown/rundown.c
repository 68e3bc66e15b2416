/* SPDX-License-Identifier: BSD-2-Clause */
/* One-word rundown protection: the slow paths (see rundown.h for the argument). */
#include "patterns/rundown/rundown.h"

#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"

void rundown_acquire_misuse(void)
{
	teardown_misuse("rundown", "rundown_acquire: more than %u protections held at once",
			RUNDOWN_MAX_HOLDERS);
}

void rundown_release_misuse(void)
{
	teardown_misuse("rundown", "rundown_release without a matching rundown_acquire");
}

/* quote: release_slow */
void rundown_wake_waiter(struct rundown_ref *ref)
{
	SCENARIO_NOTE("rundown_release: last holder out; wakes the waiter");
	/*
	 * The decrement that got us here may already have let the wait return, and the owner may
	 * have freed the ref. This wake is the one touch left, and it uses the word's address, not
	 * its memory: for a private futex the kernel keys the waiters by (mm, address) after a
	 * range check (get_futex_key, access_ok) and futex_wake only compares keys; it never
	 * reads the word. Memory freed but mapped is not touched; an unmapped page still wakes
	 * nobody and returns 0 (only an address outside user space gives EFAULT, and the return is
	 * ignored); an address reused for another futex word can get one spurious wake, which
	 * every futex waiter re-checks in a loop, as ours do.
	 */
	futex_wake_all(&ref->word);
}
/* end quote: release_slow */

/* quote: wait */
void rundown_wait_for_release(struct rundown_ref *ref)
{
	/*
	 * The RMW that closes the door. Every acquire later in the word's order sees the bit and
	 * fails; the count in `word` is every holder admitted before it. Acquire: pairs with the
	 * release of every holder that already left, whose uses must precede the free when no
	 * holder is left to wait for. No release: a turned-away acquire reads this value relaxed.
	 */
	uint32_t word = atomic_fetch_or_explicit(&ref->word, RUNDOWN_ACTIVE, memory_order_acquire);

	if (word & RUNDOWN_ACTIVE) {
		if (word >= RUNDOWN_ONE)
			teardown_misuse("rundown", "rundown_wait_for_release called while another "
				       "wait is in progress");
		SCENARIO_NOTE("rundown_wait: already run down; returns at once");
		return;	/* Windows: no effect, and not treated as an error */
	}
	SCENARIO_NOTE("rundown_wait: rundown active; %u holder(s)", word / RUNDOWN_ONE);
	word |= RUNDOWN_ACTIVE;
	while (word != RUNDOWN_ACTIVE) {
		SCENARIO_TEARDOWN_BLOCKS();
		futex_wait_while(&ref->word, word);
		/* acquire: reading "no holders" synchronizes with every holder's release RMW. */
		word = atomic_load_explicit(&ref->word, memory_order_acquire);
		/*
		 * Only rundown_reinit clears ACTIVE, and it may run only after this wait returned.
		 * Seen here, the last release, a reinit and a new acquire came between the wake and
		 * this load: waiting on would wait for a holder of the next lifetime, forever.
		 */
		if (!(word & RUNDOWN_ACTIVE))
			teardown_misuse("rundown", "rundown_reinit called before "
				       "rundown_wait_for_release returned");
	}
	SCENARIO_NOTE("rundown_wait: every holder has released");
}
/* end quote: wait */

void rundown_completed(struct rundown_ref *ref)
{
	if (atomic_load_explicit(&ref->word, memory_order_relaxed) != RUNDOWN_ACTIVE)
		teardown_misuse("rundown", "rundown_completed before rundown_wait_for_release "
			       "returned");
	/* Already "run down, no holders": nothing to store (NT clears its wait block here). */
}

void rundown_reinit(struct rundown_ref *ref)
{
	uint32_t run_down = RUNDOWN_ACTIVE;

	/*
	 * release: the caller published the new object before this; an acquire that succeeds reads
	 * our 0 (or a later value in the release sequence) and sees it. The exchange also refuses a
	 * ref that was not run down, where clearing the word would lose holders.
	 */
	if (!atomic_compare_exchange_strong_explicit(&ref->word, &run_down, 0, memory_order_release,
						     memory_order_relaxed))
		teardown_misuse("rundown", "rundown_reinit on a ref that was not run down "
			       "(rundown_wait_for_release must return first)");
	SCENARIO_NOTE("rundown_reinit: protection can be acquired again");
}
