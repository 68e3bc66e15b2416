/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Last reference frees: Linux kref, FreeBSD refcount(9), macOS os_ref, and the lagg author's
 * proposed if_freed. The count lives in the object; whoever drops the last reference runs the
 * destructor, exactly once, on its own thread. Nobody waits.
 *
 * Why it is enough: every put is an acq_rel RMW on the count; the put that takes it to zero is
 * later in the count's modification order than all the others and reads from that chain, so
 * every use by every former holder happens before the destructor runs.
 *
 * What it does not do by itself: make it safe to take a reference to an object you do not
 * already hold a reference to. rundown_kref_get() requires a reference in hand (it aborts on a
 * zero count); rundown_kref_get_unless_zero() refuses a dying object (count zero, destructor
 * running or about to), but it still reads the count, so the memory must be valid when it runs.
 * The caller guarantees that with whatever guards its lookup structure: a lock that the
 * destructor also takes before freeing (kref.rst, refcount(9), os_ref's retain_try), or RCU.
 * A bare pointer load followed by get_unless_zero is the check-then-increment bug, not a fix.
 *
 * Misuse aborts with "teardown: rundown: misuse: ...": get on a zero count, put on a zero
 * count (a put without a get, or one put too many), count overflow.
 */
#ifndef TEARDOWN_PATTERNS_RUNDOWN_RUNDOWN_KREF_H
#define TEARDOWN_PATTERNS_RUNDOWN_RUNDOWN_KREF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "patterns/common/compiler.h"
#include "scenario/hooks.h"

struct rundown_kref {
	_Atomic uint32_t refcount;
};

/* kref_init: the creator holds the first reference. */
static inline void rundown_kref_init(struct rundown_kref *k)
{
	atomic_init(&k->refcount, 1);
}

/* private: called only by the inline functions below; not API */
/* A get (named by what) on a zero count (count == 0), or past the largest count. Aborts. */
void rundown_kref_get_misuse(const char *what, uint32_t count) __attribute__((noreturn, cold));
/* A put on a zero count: a put without a matching get. Aborts. */
void rundown_kref_put_misuse(void) __attribute__((noreturn, cold));

/* kref_get / refcount_acquire: the caller already holds a reference, so the count is >= 1. */
static inline void rundown_kref_get(struct rundown_kref *k)
{
	/* relaxed: holding a reference already keeps the object; this orders nothing. */
	uint32_t before = atomic_fetch_add_explicit(&k->refcount, 1, memory_order_relaxed);

	if (teardown_unlikely(before == 0 || before == UINT32_MAX))
		rundown_kref_get_misuse("rundown_kref_get", before);
}

/*
 * kref_get_unless_zero / refcount_acquire_if_not_zero / os_ref_retain_try: false if the count
 * is zero, i.e. the object is dying and must not be revived. The memory must be valid: see above.
 */
/* quote: get_unless_zero */
static inline bool rundown_kref_get_unless_zero(struct rundown_kref *k)
{
	uint32_t count = atomic_load_explicit(&k->refcount, memory_order_relaxed);

	do {
		if (count == 0) {
			SCENARIO_NOTE("rundown_kref_get_unless_zero: count is 0, object dying");
			return false;
		}
		if (teardown_unlikely(count == UINT32_MAX))
			rundown_kref_get_misuse("rundown_kref_get_unless_zero", count);
		/* relaxed: whatever keeps the memory valid (the lookup lock) orders the use. */
	} while (!atomic_compare_exchange_weak_explicit(&k->refcount, &count, count + 1,
							memory_order_relaxed,
							memory_order_relaxed));
	SCENARIO_NOTE("rundown_kref_get_unless_zero: %u -> %u", count, count + 1);
	return true;
}
/* end quote: get_unless_zero */

/*
 * kref_put / refcount_release: drops a reference; the last one calls release(k) on this thread
 * and returns true. The object must not be touched after a put, whatever it returned.
 */
/* quote: put */
static inline bool rundown_kref_put(struct rundown_kref *k, void (*release)(struct rundown_kref *k))
{
	/*
	 * acq_rel. Release: this holder's uses happen before the last put. Acquire: the last put
	 * sees every other holder's uses before it destroys. (Linux puts with release and adds an
	 * acquire fence on the last one only; on x86 both are the same locked instruction, and
	 * ThreadSanitizer, which does not model fences, sees this one.)
	 */
	uint32_t before = atomic_fetch_sub_explicit(&k->refcount, 1, memory_order_acq_rel);

	/* Unless this was the last put, another holder may free the object from here on. */
	SCENARIO_RELEASER_TAIL();
	if (teardown_likely(before > 1)) {
		SCENARIO_NOTE("rundown_kref_put: %u -> %u", before, before - 1);
		return false;
	}
	if (teardown_unlikely(before == 0))
		rundown_kref_put_misuse();
	SCENARIO_NOTE("rundown_kref_put: 1 -> 0, last reference; runs the destructor");
	release(k);
	return true;
}
/* end quote: put */

static inline uint32_t rundown_kref_read(struct rundown_kref *k)
{
	return atomic_load_explicit(&k->refcount, memory_order_relaxed);
}

#endif /* TEARDOWN_PATTERNS_RUNDOWN_RUNDOWN_KREF_H */
