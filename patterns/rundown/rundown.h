/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One-word rundown protection with the semantics of Windows' EX_RUNDOWN_REF
 * (ExAcquireRundownProtection, ExReleaseRundownProtection, ExWaitForRundownProtectionRelease,
 * ExRundownCompleted, ExReInitializeRundownProtection).
 *
 * One 32-bit word holds both halves of the state: bit 0 is "rundown active", the bits above it
 * count the protections in effect. Every change is a read-modify-write of that one word, so all
 * changes fall in one modification order, and there is no store-load pair to argue about:
 *   - acquire is a compare-exchange that adds one holder only if the active bit is clear;
 *   - wait sets the active bit with fetch_or; from that point in the word's order on, every
 *     acquire sees the bit and fails, and the holders counted in the value fetch_or returned are
 *     exactly the ones wait must outlast;
 *   - release subtracts one holder; the one that leaves the word at "active, no holders" wakes
 *     the waiter (a futex on the word itself, so a wake cannot be lost between check and sleep).
 * Why the free is safe: each release is a release-RMW, and wait returns only after an acquire
 * load reads "active, no holders", which is later in the word's order than every holder's
 * release: every use a holder made happens before whatever the owner frees after wait.
 *
 * What Windows documents, and this matches: acquire returns false once wait has been called;
 * wait on an object already run down returns at once (no effect, and not an error);
 * rundown_completed and rundown_reinit must be preceded by a wait that ran the object down.
 * What Windows leaves undefined aborts with "teardown: rundown: misuse: ...": release
 * without acquire, two waits at once, completed or reinit before the rundown finished.
 */
#ifndef TEARDOWN_PATTERNS_RUNDOWN_RUNDOWN_H
#define TEARDOWN_PATTERNS_RUNDOWN_RUNDOWN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "patterns/common/compiler.h"
#include "scenario/hooks.h"

#define RUNDOWN_ACTIVE 1u	/* bit 0: wait has begun; acquire fails */
#define RUNDOWN_ONE 2u		/* one protection in effect */
#define RUNDOWN_MAX_HOLDERS (UINT32_MAX / RUNDOWN_ONE)	/* 2^31 - 1 protections at once */

struct rundown_ref {
	_Atomic uint32_t word;	/* holders * RUNDOWN_ONE | RUNDOWN_ACTIVE; also the futex */
};

#define RUNDOWN_REF_INIT { .word = 0 }

/* ExInitializeRundownProtection: no holders, not run down. */
static inline void rundown_init(struct rundown_ref *ref)
{
	atomic_init(&ref->word, 0);
}

/* private: called only by the inline functions below; not API */
/* Count overflow: more than RUNDOWN_MAX_HOLDERS protections at once. Aborts. */
void rundown_acquire_misuse(void) __attribute__((noreturn, cold));
/* A release without a matching acquire. Aborts. */
void rundown_release_misuse(void) __attribute__((noreturn, cold));
/* The last holder out of an active rundown: wakes the waiter (the ref may be freed already). */
void rundown_wake_waiter(struct rundown_ref *ref);

/*
 * ExAcquireRundownProtection. True: the object may be used until rundown_release(). False:
 * rundown has begun; the object must be treated as invalid (do not call rundown_release()).
 */
/* quote: acquire */
static inline bool rundown_acquire(struct rundown_ref *ref)
{
	uint32_t word = atomic_load_explicit(&ref->word, memory_order_relaxed);

	do {
		if (teardown_unlikely(word & RUNDOWN_ACTIVE)) {
			SCENARIO_NOTE("rundown_acquire: rundown active, turned away");
			return false;
		}
		if (teardown_unlikely(word / RUNDOWN_ONE == RUNDOWN_MAX_HOLDERS))
			rundown_acquire_misuse();
		/*
		 * acquire on success: pairs with rundown_reinit()'s release store, so a holder of
		 * the protection sees the object published before the re-initialization. Relaxed
		 * on failure: we only retry.
		 */
	} while (!atomic_compare_exchange_weak_explicit(&ref->word, &word, word + RUNDOWN_ONE,
							memory_order_acquire,
							memory_order_relaxed));
	SCENARIO_NOTE("rundown_acquire: protection granted (%u held)", word / RUNDOWN_ONE + 1);
	return true;
}
/* end quote: acquire */

/* ExReleaseRundownProtection. Release without a matching acquire aborts. */
/* quote: release */
static inline void rundown_release(struct rundown_ref *ref)
{
	/*
	 * release: everything this holder did with the object happens before the waiter's acquire
	 * load that sees the count reach zero (rundown_wait_for_release), hence before the free.
	 */
	uint32_t before = atomic_fetch_sub_explicit(&ref->word, RUNDOWN_ONE, memory_order_release);

	/* From here the wait may return and the owner free the ref: only `before` is read. */
	SCENARIO_RELEASER_TAIL();
	SCENARIO_NOTE("rundown_release: protection released");
	/* No holder before us: a release without an acquire. */
	if (teardown_unlikely(before < RUNDOWN_ONE))
		rundown_release_misuse();
	/* The last holder out of an active rundown wakes the waiter. */
	if (teardown_unlikely(before == RUNDOWN_ACTIVE + RUNDOWN_ONE))
		rundown_wake_waiter(ref);
}
/* end quote: release */

/*
 * ExWaitForRundownProtectionRelease: from now on acquire fails; blocks until every protection
 * granted before has been released. Afterwards the owner may free the object, and the ref too
 * once no acquire can still be on its way to it (the ref must outlive every acquire attempt,
 * not only every holder). On an object already run down, returns at once. A second wait while
 * the first still has holders to wait for aborts; once none is left, it returns at once.
 * A thread that waits while holding a protection it would release itself waits forever. That
 * is not detected: a protection belongs to no thread (any thread may release what another
 * acquired), so a thread that holds a count may be waiting, rightly, for another to drop it.
 */
void rundown_wait_for_release(struct rundown_ref *ref);

/* ExRundownCompleted: must follow a wait that has returned. Later waits return at once. */
void rundown_completed(struct rundown_ref *ref);

/*
 * ExReInitializeRundownProtection: associate the (run-down) ref with a new object; acquire
 * succeeds again. Aborts unless the previous object was run down. Publish the new object first.
 */
void rundown_reinit(struct rundown_ref *ref);

/* True once wait has begun: for tests and assertions, not for deciding to use the object. */
static inline bool rundown_is_active(struct rundown_ref *ref)
{
	return atomic_load_explicit(&ref->word, memory_order_relaxed) & RUNDOWN_ACTIVE;
}

#endif /* TEARDOWN_PATTERNS_RUNDOWN_RUNDOWN_H */
