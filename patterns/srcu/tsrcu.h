/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tsrcu: sleepable read-copy update. A reader may block (sleep, take a mutex, wait for I/O)
 * inside its section, and a grace period of one domain waits only for that domain's readers:
 * a reader that sleeps for a second delays the writers of its own domain, never those of
 * another domain, nor trcu's. The shape is Linux's SRCU (include/linux/srcu.h): the lock
 * returns an index, the unlock gives it back. Every public symbol is tsrcu_*.
 *
 * A domain holds two halves, each a pair of counters per shard: locks[i] and unlocks[i]. A
 * reader loads the domain's current index i, adds 1 to locks[i] of its thread's shard, and
 * on leaving adds 1 to unlocks[i]. Readers never write shared state other than their
 * shard, never wait, and never learn of writers except to wake one that sleeps.
 *
 * A grace period (tsrcu_synchronize), as the classic SRCU does it:
 *
 *	full barrier	the caller's unpublish, then everything below (membarrier or fence)
 *	drain half !i	readers that loaded the index before the last flip and counted late
 *	flip		the index becomes !i
 *	drain half i	every reader that counted itself in the half that was current
 *
 * "Drained" is one check: sum unlocks[h] over the shards, then sum locks[h], and compare.
 * The unlocks are summed first, and each is loaded with acquire: a counted unlock brings its
 * own lock (the same thread's earlier add) into view, so the lock sum is at least the unlock
 * sum plus one for every section whose lock is seen and whose unlock is not. Equal sums mean
 * that no section the check saw a lock of is still inside.
 *
 * Why it is enough: a section S that found the object added its lock before the full
 * barrier (its pointer load did not see the unpublish, and the barrier orders the add before
 * that load for the writer too), so both drains see S's lock. S loaded its index i_S before
 * the add. If i_S is the half current at the flip, the second drain waits for S. If i_S is
 * the other half (S loaded it before the previous grace period's flip and added late), the
 * first drain waits for S. A section that loaded the index after this flip began after the
 * barrier and cannot find the object; it is not waited for, so a stream of new readers
 * cannot hold a writer (they count in the new half).
 * One drain is not enough: a reader delayed between its load of the index and its add across
 * one flip counts in the half the next flip makes new (tested:
 * grace/a_reader_delayed_across_a_flip_is_waited_for; the model's one_drain version).
 *
 * The writer sleeps on a futex after a short spin: a reader that blocks for seconds costs it
 * no CPU. The unlock that may be the last wakes it.
 *
 * Misuse aborts with "teardown: srcu: misuse: ...": an unlock with an index that no section of
 * this thread on this domain holds (a wrong index, or no lock at all); tsrcu_synchronize()
 * inside a section of the same domain (it would wait for itself); more than
 * TSRCU_MAX_HELD sections held by one thread; destroying a domain with readers inside.
 */
#ifndef TEARDOWN_PATTERNS_SRCU_TSRCU_H
#define TEARDOWN_PATTERNS_SRCU_TSRCU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "patterns/common/asymmetric_fence.h"
#include "patterns/common/compiler.h"
#include "scenario/hooks.h"

#define TSRCU_SHARDS 16		/* threads share a shard round-robin */
#define TSRCU_MAX_HELD 8	/* sections one thread may hold at once, all domains together */

#define tsrcu_assign_pointer(p, v) atomic_store_explicit(&(p), (v), memory_order_release)
#define tsrcu_dereference(p) atomic_load_explicit(&(p), memory_order_acquire)

struct tsrcu_shard {
	TEARDOWN_CACHE_ALIGNED _Atomic unsigned long locks[2];
	_Atomic unsigned long unlocks[2];
};

struct tsrcu_domain {
	struct tsrcu_shard shard[TSRCU_SHARDS];
	_Atomic unsigned idx;		/* the half new readers count in (low bit) */
	_Atomic uint32_t writer_waiting;	/* futex: a writer sleeps until an unlock */
	pthread_mutex_t gp_lock;	/* one grace period at a time */
};

void tsrcu_domain_init(struct tsrcu_domain *d);
/* Aborts (misuse) while a reader is inside. */
void tsrcu_domain_destroy(struct tsrcu_domain *d);
/* Blocks until every section of `d` that began before the call has ended. */
void tsrcu_synchronize(struct tsrcu_domain *d);
bool tsrcu_uses_membarrier(void);

/* private: called only by the inline functions below; not API */
struct tsrcu_held {
	struct tsrcu_domain *domain;
	int idx;
};
struct tsrcu_thread {
	unsigned shard;			/* 1 + the shard index; 0: not yet assigned */
	unsigned n_held;
	struct tsrcu_held held[TSRCU_MAX_HELD];
};
extern bool tsrcu_membarrier;
extern _Thread_local struct tsrcu_thread tsrcu_self __attribute__((tls_model("initial-exec")));
unsigned tsrcu_assign_shard(void);
void tsrcu_held_overflow(void) __attribute__((noreturn));
/* Unlock of a section not the innermost: removes it from the held list, or aborts (misuse). */
void tsrcu_unlock_not_innermost(struct tsrcu_domain *d, int idx);
void tsrcu_wake_writer(struct tsrcu_domain *d);

/* Where a reader preempted between its load of the index and its add stops (unit tests). */
#ifndef TSRCU_READ_LOCK_PREEMPTED
#define TSRCU_READ_LOCK_PREEMPTED() ((void)0)
#endif

static inline struct tsrcu_shard *tsrcu_my_shard(struct tsrcu_domain *d)
{
	unsigned s = tsrcu_self.shard;

	if (teardown_unlikely(!s))
		s = tsrcu_assign_shard();
	return &d->shard[s - 1];
}

/* quote: read_lock */
static inline int tsrcu_read_lock(struct tsrcu_domain *d)
{
	struct tsrcu_shard *s = tsrcu_my_shard(d);
	unsigned n = tsrcu_self.n_held;
	/* Relaxed: an index from before a flip is what the first drain waits out. */
	int idx = atomic_load_explicit(&d->idx, memory_order_relaxed) & 1;

	if (teardown_unlikely(n == TSRCU_MAX_HELD))
		tsrcu_held_overflow();
	tsrcu_self.held[n] = (struct tsrcu_held){ d, idx };
	tsrcu_self.n_held = n + 1;
	TSRCU_READ_LOCK_PREEMPTED();	/* a unit test's stop; nothing elsewhere */
	/* Relaxed add; the fence below orders it (a lock-prefixed add on x86 is one anyway). */
	atomic_fetch_add_explicit(&s->locks[idx], 1, memory_order_relaxed);
	/*
	 * The lock must be visible before this section loads any pointer: the store-load pair
	 * with the writer's unpublish-then-sum, membarrier (or a fence) on the writer's side.
	 */
	asym_fence_light(tsrcu_membarrier);
	return idx;
}
/* end quote: read_lock */

/* quote: read_unlock */
static inline void tsrcu_read_unlock(struct tsrcu_domain *d, int idx)
{
	struct tsrcu_shard *s = tsrcu_my_shard(d);
	unsigned n = tsrcu_self.n_held;

	/* The section being left is almost always the innermost. */
	if (teardown_likely(n && tsrcu_self.held[n - 1].domain == d &&
			    tsrcu_self.held[n - 1].idx == idx))
		tsrcu_self.n_held = n - 1;
	else
		tsrcu_unlock_not_innermost(d, idx);
	/* release: this section's loads happen before the writer's acquire sum, then the free. */
	atomic_fetch_add_explicit(&s->unlocks[idx], 1, memory_order_release);
	/* The writer may return and free from here on: what follows touches only the domain. */
	SCENARIO_RELEASER_TAIL();
	/* Store-load again: our unlock, then writer_waiting (writer: writer_waiting, then sums). */
	asym_fence_light(tsrcu_membarrier);
	if (teardown_unlikely(atomic_load_explicit(&d->writer_waiting, memory_order_relaxed)))
		tsrcu_wake_writer(d);
}
/* end quote: read_unlock */

#endif /* TEARDOWN_PATTERNS_SRCU_TSRCU_H */
