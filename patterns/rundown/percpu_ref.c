/* SPDX-License-Identifier: BSD-2-Clause */
/* percpu_ref: thread slots, the atomic mode, and kill's switch (see percpu_ref.h). */
#define _GNU_SOURCE
#include "patterns/rundown/percpu_ref.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "patterns/common/die.h"
#include "patterns/common/misuse.h"

_Thread_local unsigned percpu_ref_self;
bool percpu_ref_membarrier;
struct percpu_ref_slot percpu_ref_slots[PERCPU_REF_MAX_THREADS];
static _Atomic uint64_t percpu_ref_used;	/* bit i: slot i belongs to a registered thread */

/* Polls of an open section before the scan yields the CPU to it. */
#define PERCPU_REF_SPIN 100

/*
 * Decided before main(), before any get: both sides must agree on who pays the fence. The
 * lab's one variable turns membarrier off for the cache-aware rundown and this alike.
 */
__attribute__((constructor)) static void percpu_ref_setup(void)
{
	percpu_ref_membarrier = asym_fence_setup("RUNDOWN_CA_NO_MEMBARRIER");
}

bool percpu_ref_uses_membarrier(void)
{
	return percpu_ref_membarrier;
}

void percpu_ref_init(struct percpu_ref *ref, percpu_ref_func_t *release)
{
	size_t size = PERCPU_REF_MAX_THREADS * sizeof(*ref->counters);

	ref->counters = teardown_aligned_alloc("rundown", TEARDOWN_CACHE_LINE, size);
	memset(ref->counters, 0, size);
	ref->release = release;
	/* The initial reference, and the bias that keeps the count above zero while percpu. */
	atomic_init(&ref->count, PERCPU_REF_BIAS + 1);
	atomic_init(&ref->mode, 0);
}

void percpu_ref_reinit(struct percpu_ref *ref)
{
	if (!percpu_ref_is_zero(ref))
		teardown_misuse("rundown", "percpu_ref_reinit on a ref that is still live "
				"(kill it and wait for release first)");
	/* No section counts in atomic mode: the counters are ours until the store of mode. */
	for (unsigned i = 0; i < PERCPU_REF_MAX_THREADS; i++)
		atomic_store_explicit(&ref->counters[i].n, 0, memory_order_relaxed);
	atomic_store_explicit(&ref->count, PERCPU_REF_BIAS + 1, memory_order_relaxed);
	/* release: pairs with the gets' acquire load of mode; counters and count come first. */
	atomic_store_explicit(&ref->mode, 0, memory_order_release);
}

void percpu_ref_exit(struct percpu_ref *ref)
{
	if (!percpu_ref_is_zero(ref))
		teardown_misuse("rundown", "percpu_ref_exit on a ref that is still live "
				"(kill it and wait for release first)");
	free(ref->counters);
}

void percpu_ref_register_thread(void)
{
	uint64_t used = atomic_load_explicit(&percpu_ref_used, memory_order_relaxed);
	unsigned slot;

	if (percpu_ref_self)
		teardown_misuse("rundown", "percpu_ref_register_thread called twice on one thread");
	do {
		if (used == UINT64_MAX)
			teardown_misuse("rundown", "more than %d threads registered with "
					"percpu_ref", PERCPU_REF_MAX_THREADS);
		slot = (unsigned)__builtin_ctzll(~used);
		/*
		 * acquire: pairs with unregister's release. The slot's counters in every ref pass
		 * to us with their values: our first load of one must see the leaver's last store.
		 */
	} while (!atomic_compare_exchange_weak_explicit(&percpu_ref_used, &used,
							used | (1ull << slot), memory_order_acquire,
							memory_order_relaxed));
	percpu_ref_self = slot + 1;
}

void percpu_ref_unregister_thread(void)
{
	if (!percpu_ref_self)
		teardown_misuse("rundown", "percpu_ref_unregister_thread on a thread that is not "
				"registered");
	/* release: our counter stores happen before the next owner's (see register). */
	atomic_fetch_and_explicit(&percpu_ref_used, ~(1ull << (percpu_ref_self - 1)),
				  memory_order_release);
	percpu_ref_self = 0;
}

void percpu_ref_unregistered_misuse(void)
{
	teardown_misuse("rundown", "percpu_ref get or put on a thread that did not call "
			"percpu_ref_register_thread");
}

bool percpu_ref_get_atomic(struct percpu_ref *ref, bool live_only)
{
	int64_t old;

	/* acquire: as the inline path's load; a reinit's count is seen with its mode. */
	if (live_only && (atomic_load_explicit(&ref->mode, memory_order_acquire) &
			  PERCPU_REF_DEAD))
		return false;
	/* Relaxed, as refcount_inc: the caller's reference keeps the object. */
	old = atomic_fetch_add_explicit(&ref->count, 1, memory_order_relaxed);
	if (old <= 0)
		teardown_misuse("rundown", "percpu_ref_get on a ref whose count reached zero "
				"(release has run; a look-up must use percpu_ref_tryget_live)");
	return true;
}

int64_t percpu_ref_put_atomic(struct percpu_ref *ref)
{
	/* release: our uses before the free; acquire: the last put sees everyone's uses. */
	return atomic_fetch_sub_explicit(&ref->count, 1, memory_order_acq_rel);
}

void percpu_ref_put_done(struct percpu_ref *ref, int64_t old)
{
	if (old < 1)
		teardown_misuse("rundown", "percpu_ref_put without a reference (the count went "
				"below zero)");
	SCENARIO_NOTE("percpu_ref_put: the count reached zero; runs release");
	ref->release(ref);
}

/* quote: percpu_fold */
void percpu_ref_fold(struct percpu_ref *ref)
{
	uint64_t sum = 0;
	int64_t old, now;

	for (unsigned i = 0; i < PERCPU_REF_MAX_THREADS; i++)
		sum += atomic_load_explicit(&ref->counters[i].n, memory_order_relaxed);
	/* acq_rel: the counted uses join the atomic count's release sequence. */
	old = atomic_fetch_add_explicit(&ref->count, (int64_t)sum - PERCPU_REF_BIAS,
					memory_order_acq_rel);
	now = old + (int64_t)sum - PERCPU_REF_BIAS;
	SCENARIO_NOTE("percpu_ref: counters sum to %lld; count = %lld",
		      (long long)(int64_t)sum, (long long)now);
	if (now < 1)	/* the switch's own reference is still in it */
		teardown_misuse("rundown", "percpu_ref_put without a reference (more puts than "
				"gets: the count went below zero)");
}
/* end quote: percpu_fold */

/* Waits until slot i's section (odd seq) has ended. */
static void percpu_ref_wait_section(unsigned i, uint32_t seq)
{
	SCENARIO_NOTE("percpu_ref_kill: a get or put is between its mode load and its count");
	SCENARIO_TEARDOWN_BLOCKS();
	PERCPU_REF_TEST_POINT(PERCPU_REF_SCAN_WAITS);
	/* acquire: pairs with section_end's release; the section's counter update is ours. */
	for (unsigned spins = 0; atomic_load_explicit(&percpu_ref_slots[i].seq,
						      memory_order_acquire) == seq; spins++) {
		if (spins < PERCPU_REF_SPIN)
			teardown_cpu_relax();
		else
			sched_yield();	/* it was preempted inside the section */
	}
}

/* quote: percpu_grace_period */
static void percpu_ref_grace_period(void)
{
	/* mode, then every seq: pairs with each section's seq, then mode (top of percpu_ref.h). */
	asym_fence_heavy(percpu_ref_membarrier, "rundown");
	for (unsigned i = 0; i < PERCPU_REF_MAX_THREADS; i++) {
		/* acquire: an even seq was stored by a section's end; its update is ours. */
		uint32_t seq = atomic_load_explicit(&percpu_ref_slots[i].seq, memory_order_acquire);

		if (seq & 1)
			percpu_ref_wait_section(i, seq);
	}
}
/* end quote: percpu_grace_period */

/* quote: percpu_kill */
void percpu_ref_kill_and_confirm(struct percpu_ref *ref, percpu_ref_func_t *confirm)
{
	uint32_t old = atomic_fetch_or_explicit(&ref->mode, PERCPU_REF_ATOMIC | PERCPU_REF_DEAD,
						memory_order_relaxed);	/* the grace period orders it */
	int64_t last;

	if (old & PERCPU_REF_DEAD)
		teardown_misuse("rundown", "percpu_ref_kill called twice on one ref");
	SCENARIO_NOTE("percpu_ref_kill: mode = ATOMIC|DEAD; new gets fail");
	/*
	 * The initial reference is the switch's until confirm has run (Linux takes one and drops
	 * the other, in atomic mode, which is the same): the count stays above zero till then.
	 */
	percpu_ref_grace_period();
	percpu_ref_fold(ref);
	if (confirm)
		confirm(ref);
	last = percpu_ref_put_atomic(ref);
	if (last <= 1)
		percpu_ref_put_done(ref, last);
}
/* end quote: percpu_kill */

void percpu_ref_kill(struct percpu_ref *ref)
{
	percpu_ref_kill_and_confirm(ref, NULL);
}

bool percpu_ref_is_zero(struct percpu_ref *ref)
{
	/* acquire: pairs with the last put's release, for a caller that frees next. */
	return (atomic_load_explicit(&ref->mode, memory_order_relaxed) & PERCPU_REF_ATOMIC) &&
	       atomic_load_explicit(&ref->count, memory_order_acquire) == 0;
}
