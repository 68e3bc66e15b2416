/* SPDX-License-Identifier: BSD-2-Clause */
/* tsrcu: shards, the drain check, and the grace period (see tsrcu.h). */
#define _GNU_SOURCE
#include "patterns/srcu/tsrcu.h"

#include <pthread.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"
#include "scenario/hooks.h"

/* Checks a writer makes, each a few cache lines, before it sleeps. */
#define TSRCU_SPIN_CHECKS 1000

bool tsrcu_membarrier;
_Thread_local struct tsrcu_thread tsrcu_self;
static _Atomic unsigned tsrcu_next_shard;

/* Decided once, before main() and so before any reader exists (as in trcu.c). */
__attribute__((constructor)) static void tsrcu_init(void)
{
	tsrcu_membarrier = asym_fence_setup("TSRCU_NO_MEMBARRIER");
}

bool tsrcu_uses_membarrier(void)
{
	return tsrcu_membarrier;
}

unsigned tsrcu_assign_shard(void)
{
	/* Relaxed: any spread will do; only this thread reads its own choice. */
	unsigned s = atomic_fetch_add_explicit(&tsrcu_next_shard, 1, memory_order_relaxed);

	tsrcu_self.shard = s % TSRCU_SHARDS + 1;
	return tsrcu_self.shard;
}

void tsrcu_held_overflow(void)
{
	teardown_misuse("srcu", "tsrcu_read_lock: more than %d sections held by one thread",
			TSRCU_MAX_HELD);
}

void tsrcu_unlock_not_innermost(struct tsrcu_domain *d, int idx)
{
	unsigned n = tsrcu_self.n_held;

	for (unsigned i = n; i-- > 0;) {
		if (tsrcu_self.held[i].domain != d || tsrcu_self.held[i].idx != idx)
			continue;
		for (; i + 1 < n; i++)
			tsrcu_self.held[i] = tsrcu_self.held[i + 1];
		tsrcu_self.n_held = n - 1;
		return;
	}
	teardown_misuse("srcu", "tsrcu_read_unlock with index %d, which no section of this "
			"thread holds on this domain", idx);
}

void tsrcu_wake_writer(struct tsrcu_domain *d)
{
	if (atomic_exchange_explicit(&d->writer_waiting, 0, memory_order_relaxed))
		futex_wake_all(&d->writer_waiting);
}

void tsrcu_domain_init(struct tsrcu_domain *d)
{
	int err;

	for (int i = 0; i < TSRCU_SHARDS; i++) {
		for (int h = 0; h < 2; h++) {
			atomic_init(&d->shard[i].locks[h], 0);
			atomic_init(&d->shard[i].unlocks[h], 0);
		}
	}
	atomic_init(&d->idx, 0);
	atomic_init(&d->writer_waiting, 0);
	err = pthread_mutex_init(&d->gp_lock, NULL);
	if (err)
		teardown_die("srcu", err, "pthread_mutex_init");
}

/* Sections of half h seen inside: unlocks summed first, then locks (see tsrcu.h). */
/* quote: readers_inside */
static unsigned long tsrcu_readers_inside(struct tsrcu_domain *d, int h)
{
	unsigned long unlocks = 0, locks = 0;

	/* acquire: pairs with the unlock's release: its section, then our free, and its lock. */
	for (int i = 0; i < TSRCU_SHARDS; i++)
		unlocks += atomic_load_explicit(&d->shard[i].unlocks[h], memory_order_acquire);
	/* After the acquire loads above: every counted unlock's lock is counted below. */
	for (int i = 0; i < TSRCU_SHARDS; i++)
		locks += atomic_load_explicit(&d->shard[i].locks[h], memory_order_relaxed);
	return locks - unlocks;
}
/* end quote: readers_inside */

void tsrcu_domain_destroy(struct tsrcu_domain *d)
{
	unsigned long n = tsrcu_readers_inside(d, 0) + tsrcu_readers_inside(d, 1);

	if (n)
		teardown_misuse("srcu", "tsrcu_domain_destroy with %lu reader(s) inside", n);
	pthread_mutex_destroy(&d->gp_lock);
}

/* The writer's half of both store-load pairs in tsrcu.h. */
static void tsrcu_writer_fence(void)
{
	asym_fence_heavy(tsrcu_membarrier, "srcu");
}

/* Spins a while, then sleeps until an unlock wakes it, until half h has no reader inside. */
static void tsrcu_drain(struct tsrcu_domain *d, int h)
{
	unsigned long n;

	for (unsigned checks = 0; (n = tsrcu_readers_inside(d, h)) != 0; checks++) {
		if (checks < TSRCU_SPIN_CHECKS) {
			teardown_cpu_relax();
			continue;
		}
		SCENARIO_NOTE("tsrcu_synchronize: %lu reader(s) of this domain inside; sleeps", n);
		SCENARIO_TEARDOWN_BLOCKS();
		atomic_store_explicit(&d->writer_waiting, 1, memory_order_relaxed);
		/* writer_waiting, then the sums: pairs with the unlock (count, then flag). */
		tsrcu_writer_fence();
		if (tsrcu_readers_inside(d, h))
			futex_wait_while(&d->writer_waiting, 1);
		atomic_store_explicit(&d->writer_waiting, 0, memory_order_relaxed);
	}
}

/* quote: synchronize */
void tsrcu_synchronize(struct tsrcu_domain *d)
{
	int idx;

	for (unsigned i = 0; i < tsrcu_self.n_held; i++)
		if (tsrcu_self.held[i].domain == d)
			teardown_misuse("srcu", "tsrcu_synchronize inside a read-side section of "
					"the same domain (it would wait for itself forever)");
	pthread_mutex_lock(&d->gp_lock);
	/* The caller's unpublish, then our sums and flip: pairs with the readers' light fence. */
	tsrcu_writer_fence();
	idx = atomic_load_explicit(&d->idx, memory_order_relaxed) & 1;
	/* First drain: readers that loaded the index before the last flip and counted late. */
	tsrcu_drain(d, !idx);
	/*
	 * The flip. Readers that load the new index began after the barrier and cannot find the
	 * object. Relaxed: only we store it (under gp_lock); a reader that misses it counts in
	 * the old half once more, which the second drain waits for.
	 */
	atomic_store_explicit(&d->idx, !idx, memory_order_relaxed);
	/* Second drain: every reader that counted in the half that was current. */
	tsrcu_drain(d, idx);
	pthread_mutex_unlock(&d->gp_lock);
	SCENARIO_NOTE("tsrcu_synchronize: grace period over");
}
/* end quote: synchronize */
