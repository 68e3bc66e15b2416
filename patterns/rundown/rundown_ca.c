/* Cache-aware rundown: thread slots, membarrier set-up, and the wait (see rundown_ca.h). */
#define _GNU_SOURCE
#include "patterns/rundown/rundown_ca.h"

#include <stdlib.h>
#include <string.h>

#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"

_Thread_local unsigned rundown_ca_self;
bool rundown_ca_membarrier;
static _Atomic uint64_t rundown_ca_slots;	/* bit i: shard i belongs to a registered thread */

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
	struct rundown_ca *ca = aligned_alloc(RUNDOWN_CA_CACHE_LINE, sizeof(*ca));

	if (!ca)
		teardown_misuse("rundown", "rundown_ca_new: out of memory");
	memset(ca, 0, sizeof(*ca));
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
			teardown_misuse("rundown", "more than %d threads registered with rundown_ca",
					RUNDOWN_CA_MAX_THREADS);
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
	rundown_ca_self = slot + 1;
}

void rundown_ca_unregister_thread(void)
{
	if (!rundown_ca_self)
		teardown_misuse("rundown", "rundown_ca_unregister_thread on a thread that is not "
			       "registered");
	/* release: our uses, under this shard, happen before the next owner's (see register). */
	atomic_fetch_and_explicit(&rundown_ca_slots, ~(1ull << (rundown_ca_self - 1)),
				  memory_order_release);
	rundown_ca_self = 0;
}
/* end quote: ca_register */

void rundown_ca_unregistered(void)
{
	teardown_misuse("rundown", "rundown_ca_acquire or rundown_ca_release on a thread that did "
		       "not call rundown_ca_register_thread");
}

void rundown_ca_acquire_nested(struct rundown_ca_shard *s)
{
	uint32_t held = atomic_load_explicit(&s->held, memory_order_relaxed);

	if (held == UINT32_MAX)
		teardown_misuse("rundown", "rundown_ca_acquire: count overflow");
	atomic_store_explicit(&s->held, held + 1, memory_order_relaxed);	/* as in acquire */
}

void rundown_ca_release_other(struct rundown_ca *ca, struct rundown_ca_shard *s)
{
	uint32_t held = atomic_load_explicit(&s->held, memory_order_relaxed);

	if (held == 0)
		teardown_misuse("rundown", "rundown_ca_release without a matching "
			       "rundown_ca_acquire on this thread");
	/* Nested: the same three steps as rundown_ca_release(), with held - 1. */
	atomic_store_explicit(&s->held, held - 1, memory_order_release);
	rundown_ca_reader_fence();
	if (atomic_load_explicit(&ca->waiting, memory_order_relaxed))
		rundown_ca_wake_waiter(ca);
}

void rundown_ca_wake_waiter(struct rundown_ca *ca)
{
	if (atomic_exchange_explicit(&ca->waiting, 0, memory_order_relaxed))
		futex_wake_all(&ca->waiting);
}

/* Protections still held, as of this scan. */
static uint32_t rundown_ca_holders(struct rundown_ca *ca)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < RUNDOWN_CA_MAX_THREADS; i++)
		/* acquire: reading a holder's released count synchronizes with its release store. */
		sum += atomic_load_explicit(&ca->shard[i].held, memory_order_acquire);
	return sum;
}

/* quote: ca_wait */
void rundown_ca_wait_for_release(struct rundown_ca *ca)
{
	uint32_t state = atomic_fetch_or_explicit(&ca->state, RUNDOWN_CA_ACTIVE | RUNDOWN_CA_DRAINING,
						  memory_order_relaxed);
	uint32_t holders;

	if (state & RUNDOWN_CA_DRAINING)
		teardown_misuse("rundown", "rundown_ca_wait_for_release called while another wait "
			       "is in progress");
	if (state & RUNDOWN_CA_ACTIVE) {
		atomic_fetch_and_explicit(&ca->state, ~RUNDOWN_CA_DRAINING, memory_order_relaxed);
		SCENARIO_NOTE("rundown_ca_wait: already run down; returns at once");
		return;	/* Windows: no effect, and not treated as an error */
	}
	SCENARIO_NOTE("rundown_ca_wait: sets ACTIVE; membarrier");
	/*
	 * The switch: state, then the shards. After this barrier every reader either sees ACTIVE
	 * or has its count where our scan will find it (see the top of rundown_ca.h).
	 */
	rundown_ca_writer_fence();
	/* Holders' sections are short: rescan a while before paying a second membarrier and a sleep. */
	for (unsigned scans = 0; (holders = rundown_ca_holders(ca)) != 0 &&
	     scans < RUNDOWN_CA_SPIN_SCANS; scans++)
		teardown_cpu_relax();
	while ((holders = rundown_ca_holders(ca)) != 0) {
		SCENARIO_NOTE("rundown_ca_wait: %u holder(s) in the shards", holders);
		SCENARIO_TEARDOWN_BLOCKS();
		atomic_store_explicit(&ca->waiting, 1, memory_order_relaxed);
		/* waiting, then the shards: pairs with release's held, then waiting. */
		rundown_ca_writer_fence();
		if (rundown_ca_holders(ca) == 0)
			break;
		futex_wait_while(&ca->waiting, 1);
	}
	atomic_store_explicit(&ca->waiting, 0, memory_order_relaxed);
	atomic_fetch_and_explicit(&ca->state, ~RUNDOWN_CA_DRAINING, memory_order_relaxed);
	SCENARIO_NOTE("rundown_ca_wait: every shard is zero");
}
/* end quote: ca_wait */

void rundown_ca_completed(struct rundown_ca *ca)
{
	if (atomic_load_explicit(&ca->state, memory_order_relaxed) != RUNDOWN_CA_ACTIVE)
		teardown_misuse("rundown", "rundown_ca_completed before rundown_ca_wait_for_release "
			       "returned");
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
