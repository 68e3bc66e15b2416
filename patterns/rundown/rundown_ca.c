/* SPDX-License-Identifier: BSD-2-Clause */
/* Cache-aware rundown: thread slots, membarrier set-up, and the wait (see rundown_ca.h). */
#define _GNU_SOURCE
#include "patterns/rundown/rundown_ca.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"

_Thread_local unsigned rundown_ca_self;
bool rundown_ca_membarrier;
static _Atomic uint64_t rundown_ca_slots;	/* bit i: shard i belongs to a registered thread */
struct rundown_ca_bucket rundown_ca_buckets[RUNDOWN_CA_BUCKETS];
struct rundown_ca_waits rundown_ca_waits;

/* The offset of shard `slot` in struct rundown_ca (never 0: the state comes first), and back. */
static unsigned rundown_ca_offset_of(unsigned slot)
{
	return (unsigned)(offsetof(struct rundown_ca, shard) +
			  slot * sizeof(struct rundown_ca_shard));
}

static unsigned rundown_ca_my_slot(void)
{
	return (unsigned)((rundown_ca_self - offsetof(struct rundown_ca, shard)) /
			  sizeof(struct rundown_ca_shard));
}

/* Scans of the shards (about 30 ns each) a waiter makes before it sleeps. */
#define RUNDOWN_CA_SPIN_SCANS 100

/*
 * Decided before main(), before any reader exists: a reader that skipped its fence because it
 * saw "membarrier" while a writer saw "no membarrier" and skipped its syscall would be a bug.
 */
__attribute__((constructor)) static void rundown_ca_init(void)
{
	rundown_ca_membarrier = asym_fence_setup("RUNDOWN_CA_NO_MEMBARRIER");
}

bool rundown_ca_uses_membarrier(void)
{
	return rundown_ca_membarrier;
}

/* The writer's half of both store-load pairs: a full barrier in every thread of the process. */
static void rundown_ca_writer_fence(void)
{
	asym_fence_heavy(rundown_ca_membarrier, "rundown");
}

struct rundown_ca *rundown_ca_new(void)
{
	struct rundown_ca *ca = teardown_aligned_alloc("rundown", TEARDOWN_CACHE_LINE,
						       sizeof(*ca));

	memset(ca, 0, sizeof(*ca));
	/* What sends an unregistered thread's acquire or release out of line (rundown_ca.h). */
	atomic_init(&ca->no_thread.held, RUNDOWN_CA_NO_THREAD);
	return ca;
}

void rundown_ca_free(struct rundown_ca *ca)
{
	free(ca);
}

/* quote: ca_register */
void rundown_ca_register_thread(void)
{
	uint64_t used = atomic_load_explicit(&rundown_ca_slots, memory_order_relaxed);
	unsigned slot;

	if (rundown_ca_self)
		teardown_misuse("rundown", "rundown_ca_register_thread called twice on one thread");
	do {
		if (used == UINT64_MAX)
			teardown_misuse("rundown", "more than %d threads registered with "
					"rundown_ca", RUNDOWN_CA_MAX_THREADS);
		slot = (unsigned)__builtin_ctzll(~used);
		/*
		 * acquire: pairs with the release in rundown_ca_unregister_thread(). A slot's shard
		 * passes from a thread that left to one that arrives, and a waiter that reads the
		 * newcomer's 0 synchronizes with the newcomer only: without this edge the leaver's
		 * last uses would not happen before the free. (TSan caught it with relaxed here: a
		 * reader turned away and gone, its slot re-taken in the same teardown.)
		 */
	} while (!atomic_compare_exchange_weak_explicit(&rundown_ca_slots, &used,
							used | (1ull << slot), memory_order_acquire,
							memory_order_relaxed));
	rundown_ca_self = rundown_ca_offset_of(slot);
}

void rundown_ca_unregister_thread(void)
{
	if (!rundown_ca_self)
		teardown_misuse("rundown", "rundown_ca_unregister_thread on a thread that is not "
			       "registered");
	/* release: our uses, under this shard, happen before the next owner's (see register). */
	atomic_fetch_and_explicit(&rundown_ca_slots, ~(1ull << rundown_ca_my_slot()),
				  memory_order_release);
	rundown_ca_self = 0;
}
/* end quote: ca_register */

void rundown_ca_unregistered_misuse(void)
{
	teardown_misuse("rundown", "rundown_ca_acquire or rundown_ca_release on a thread that did "
		       "not call rundown_ca_register_thread");
}

void rundown_ca_acquire_slow(struct rundown_ca_shard *s)
{
	uint32_t held;

	rundown_ca_check_registered();	/* if not, s is no_thread (rundown_ca.h) */
	held = atomic_load_explicit(&s->held, memory_order_relaxed);
	if (held == UINT32_MAX)
		teardown_misuse("rundown", "rundown_ca_acquire: more than %u protections held on "
				"one thread (count overflow)", UINT32_MAX);
	atomic_store_explicit(&s->held, held + 1, memory_order_relaxed);	/* as in acquire */
}

void rundown_ca_release_slow(uintptr_t where, struct rundown_ca_shard *s)
{
	uint32_t held;

	rundown_ca_check_registered();	/* as in rundown_ca_acquire_slow() */
	held = atomic_load_explicit(&s->held, memory_order_relaxed);
	if (held == 0)
		teardown_misuse("rundown", "rundown_ca_release without a matching "
			       "rundown_ca_acquire on this thread");
	/* Nested: the same steps as rundown_ca_release(), with held - 1. */
	atomic_store_explicit(&s->held, held - 1, memory_order_release);
	rundown_ca_released(where);
}

void rundown_ca_wake(uintptr_t where)
{
	struct rundown_ca_bucket *q = rundown_ca_bucket_of(where);

	/*
	 * Relaxed, as the load of waits before it: the reader fence in rundown_ca_released() orders
	 * both after our drop, and a wait stores both counts before its writer fence.
	 */
	if (atomic_load_explicit(&q->waiters, memory_order_relaxed) != 0)
		rundown_ca_wake_waiters(q);
}

/* quote: ca_wake */
void rundown_ca_wake_waiters(struct rundown_ca_bucket *q)
{
	/*
	 * release: pairs with the waiter's acquire load of seq; a waiter that reads this bump then
	 * sees our count drop in its scan. A waiter that read seq before it finds the futex changed
	 * or is woken. The wake is a system call on the bucket's address: no touch of the ref.
	 */
	atomic_fetch_add_explicit(&q->seq, 1, memory_order_release);
	futex_wake_all(&q->seq);
}
/* end quote: ca_wake */

/* Protections still held, as of this scan: in 64 bits, since each shard holds up to 2^32 - 1. */
static uint64_t rundown_ca_holders(struct rundown_ca *ca)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < RUNDOWN_CA_MAX_THREADS; i++)
		/* acquire: reading a holder's dropped count synchronizes with its release store. */
		sum += atomic_load_explicit(&ca->shard[i].held, memory_order_acquire);
	return sum;
}

/*
 * Sets ACTIVE|DRAINING. Returns false if the ref was already run down (nothing to do). A wait
 * on a ref already run down changes nothing, so any number of them may run at once, beside
 * rundown_ca_completed() and rundown_ca_reinit(); only a second wait while one drains aborts.
 */
static bool rundown_ca_begin_wait(struct rundown_ca *ca)
{
	/* acquire: pairs with the release that ended the first wait (see the end of the wait). */
	uint32_t state = atomic_load_explicit(&ca->state, memory_order_acquire);

	do {
		if (state == RUNDOWN_CA_ACTIVE)
			return false;
		if (state & RUNDOWN_CA_DRAINING)
			teardown_misuse("rundown", "rundown_ca_wait_for_release called while "
				       "another wait is in progress");
		/*
		 * The writer fence that follows orders this store before the scan; acquire on
		 * failure, as the load above, in case the value read is a finished drain.
		 */
	} while (!atomic_compare_exchange_weak_explicit(&ca->state, &state,
							RUNDOWN_CA_ACTIVE | RUNDOWN_CA_DRAINING,
							memory_order_acquire,
							memory_order_acquire));
	return true;
}

/* quote: ca_wait */
void rundown_ca_wait_for_release(struct rundown_ca *ca)
{
	struct rundown_ca_bucket *q = rundown_ca_bucket_of((uintptr_t)ca);
	uint64_t holders;

	if (!rundown_ca_begin_wait(ca)) {
		RUNDOWN_CA_TEST_POINT(RUNDOWN_CA_WAS_RUN_DOWN);
		SCENARIO_NOTE("rundown_ca_wait: already run down; returns at once");
		return;	/* Windows: no effect, and not treated as an error */
	}
	/* Cheap to see, and it would never end: a thread waiting for its own protection. */
	if (rundown_ca_self &&
	    atomic_load_explicit(&rundown_ca_my_shard(ca)->held, memory_order_relaxed))
		teardown_misuse("rundown", "rundown_ca_wait_for_release on a thread that holds "
			       "protection on this ref (it would wait for itself)");
	ca->wait_sleeps = 0;
	SCENARIO_NOTE("rundown_ca_wait: sets ACTIVE; membarrier");
	/* Announce the wait (both counts) before the barrier, so one barrier serves both pairs. */
	atomic_fetch_add_explicit(&q->waiters, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rundown_ca_waits.n, 1, memory_order_relaxed);
	/*
	 * The switch: state and the two counts, then the shards. After this barrier every reader
	 * either sees ACTIVE or has its count where our scan will find it, and every releaser whose
	 * drop our scans miss sees both counts and wakes the bucket (see the top of rundown_ca.h).
	 */
	rundown_ca_writer_fence();
	/* Holders' sections are short: rescan a while before sleeping. */
	for (unsigned scans = 0; (holders = rundown_ca_holders(ca)) != 0 &&
	     scans < RUNDOWN_CA_SPIN_SCANS; scans++)
		teardown_cpu_relax();
	if (holders) {
		SCENARIO_NOTE("rundown_ca_wait: %llu holder(s) in the shards",
			      (unsigned long long)holders);
		SCENARIO_TEARDOWN_BLOCKS();
	}
	while (holders) {
		/* acquire: pairs with the wake's release bump; see rundown_ca_wake_waiters(). */
		uint32_t seq;

		RUNDOWN_CA_TEST_POINT(RUNDOWN_CA_RESCAN);
		seq = atomic_load_explicit(&q->seq, memory_order_acquire);
		if ((holders = rundown_ca_holders(ca)) == 0)
			break;
		ca->wait_sleeps++;
		futex_wait_while(&q->seq, seq);
	}
	atomic_fetch_sub_explicit(&rundown_ca_waits.n, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&q->waiters, 1, memory_order_relaxed);
	/* release: a later wait that finds the ref run down returns after this drain. */
	atomic_store_explicit(&ca->state, RUNDOWN_CA_ACTIVE, memory_order_release);
	SCENARIO_NOTE("rundown_ca_wait: every shard is zero");
}
/* end quote: ca_wait */

void rundown_ca_completed(struct rundown_ca *ca)
{
	if (atomic_load_explicit(&ca->state, memory_order_relaxed) != RUNDOWN_CA_ACTIVE)
		teardown_misuse("rundown", "rundown_ca_completed before "
				"rundown_ca_wait_for_release returned");
}

void rundown_ca_reinit(struct rundown_ca *ca)
{
	uint32_t run_down = RUNDOWN_CA_ACTIVE;

	/* release: pairs with acquire's load of state; the new object was published before. */
	if (!atomic_compare_exchange_strong_explicit(&ca->state, &run_down, 0, memory_order_release,
						     memory_order_relaxed))
		teardown_misuse("rundown", "rundown_ca_reinit on a ref that was not run down "
			       "(rundown_ca_wait_for_release must return first)");
	SCENARIO_NOTE("rundown_ca_reinit: protection can be acquired again");
}
