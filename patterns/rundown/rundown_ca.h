/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cache-aware rundown protection: the idea of Windows' EX_RUNDOWN_REF_CACHE_AWARE and of Linux's
 * percpu_ref, with per-thread shards. Same contract as rundown.h (acquire fails once wait has
 * begun; wait blocks until every holder has released; a wait on a ref already run down returns
 * at once; reinit only after a rundown), but a holder writes only its own shard, on its own cache
 * line, with plain stores: no locked instruction and no shared line written on the hot path.
 *
 * The hot path:   acquire: load state; if ACTIVE: fail (the count is left alone);
 *                          held++ (own shard); load state; if ACTIVE: held--, fail
 *                 release: held-- (own shard); load the count of waits in progress; if set:
 *                          (out of line) find the ref's wait bucket; if it has waiters, wake it
 * (held++ and held-- store the constants 1 and 0 when not nested; nesting goes out of line.)
 * Teardown:       state = ACTIVE|DRAINING (the switch to slow mode); waiters++ on the bucket and
 *                 waits++; membarrier; sum the shards until the sum is 0, sleeping on the bucket
 *                 between sums; waiters-- and waits--; state = ACTIVE.
 *
 * Why the switch is safe (the one ordering argument, used twice): each side stores, then loads
 * what the other stored; acquire: held, then state; wait: state, then held. The reader orders
 * its pair with a compiler barrier only; the writer's membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)
 * makes every running thread of the process execute a full barrier (and a thread that is not
 * running passes one when it is switched out), so in each reader that barrier falls either after
 * its store of held, which the writer's scan then sees and waits for, or before its load of
 * state, which then sees ACTIVE and turns the reader away. Release and the writer's sleep are the
 * same pair on (held, waits and waiters): both counts are stored before the writer's barrier, both
 * loaded after the reader's. Without membarrier both sides use a full fence (store-buffering).
 *
 * Why the owner may free the ref the moment wait returns: the store that drops a releaser's count
 * is what lets the wait return, so after it a releaser must not touch the ref. It does not: the
 * waiter sleeps in a bucket of a static table, chosen by the ref's address (as Linux's
 * wake_up_var() does), and a releaser reads only static words, never freed: the process-wide
 * count of waits in progress (one word that only waits write) and, if it is set, the bucket,
 * which it computes from the ref's address, kept as a number before the drop. A wake can reach
 * a waiter of another ref that hashes to the same bucket; that waiter rescans and sleeps again.
 * What the wait cannot cover is an acquire that has not stored its count yet: the ref must
 * outlive every acquire attempt, not only every holder (the owner stops handing it out, as
 * teardown's unpublish under the look-up's lock does in the lab, before it frees it).
 *
 * For ThreadSanitizer, which models neither fences nor membarrier: the edge that makes the free
 * safe is on the shard itself. The reader's decrement is a release store; the writer's scan
 * loads each shard with acquire; reading 0 after a holder's release synchronizes with it.
 *
 * Contract beyond rundown.h: a thread calls rundown_ca_register_thread() before its first
 * acquire (at most RUNDOWN_CA_MAX_THREADS at once), releases on the thread that acquired, and
 * unregisters holding nothing. A thread that holds protection on a ref must not wait for it (it
 * would wait for itself). Misuse aborts with "teardown: rundown: misuse: ...".
 */
#ifndef TEARDOWN_PATTERNS_RUNDOWN_RUNDOWN_CA_H
#define TEARDOWN_PATTERNS_RUNDOWN_RUNDOWN_CA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "patterns/common/asymmetric_fence.h"
#include "patterns/common/compiler.h"
#include "scenario/hooks.h"

#define RUNDOWN_CA_MAX_THREADS 64

#define RUNDOWN_CA_ACTIVE 1u	/* state: wait has begun; acquire fails */
#define RUNDOWN_CA_DRAINING 2u	/* state: a wait is in progress */
#define RUNDOWN_CA_BUCKETS 16

struct rundown_ca_shard {
	TEARDOWN_CACHE_ALIGNED _Atomic uint32_t held;	/* written by its thread only */
};

/* held of the shard that an unregistered thread finds: neither 0 nor 1, so both fast paths
 * leave for their slow path, which aborts. */
#define RUNDOWN_CA_NO_THREAD UINT32_MAX

struct rundown_ca {
	struct rundown_ca_shard no_thread;	/* offset 0; held: RUNDOWN_CA_NO_THREAD */
	TEARDOWN_CACHE_ALIGNED _Atomic uint32_t state;	/* read by every acquire */
	uint32_t wait_sleeps;	/* how often the last wait slept: for tests and benchmarks */
	struct rundown_ca_shard shard[RUNDOWN_CA_MAX_THREADS];
};

/* Where waits sleep: static, so a releaser may touch it after the ref is freed. */
struct rundown_ca_bucket {
	TEARDOWN_CACHE_ALIGNED _Atomic uint32_t waiters;	/* waits in progress here */
	_Atomic uint32_t seq;	/* futex: bumped by every wake */
};

/* Waits in progress on any ref: read by every release, written by waits only; its own line. */
struct rundown_ca_waits {
	TEARDOWN_CACHE_ALIGNED _Atomic uint32_t n;
};

/* ExAllocateCacheAwareRundownProtection / ExFreeCacheAwareRundownProtection. */
struct rundown_ca *rundown_ca_new(void);
void rundown_ca_free(struct rundown_ca *ca);
void rundown_ca_register_thread(void);
void rundown_ca_unregister_thread(void);
/* ExWaitForRundownProtectionReleaseCacheAware, ExRundownCompletedCacheAware,
 * ExReInitializeRundownProtectionCacheAware: as in rundown.h. */
void rundown_ca_wait_for_release(struct rundown_ca *ca);
void rundown_ca_completed(struct rundown_ca *ca);
void rundown_ca_reinit(struct rundown_ca *ca);
bool rundown_ca_uses_membarrier(void);

/* private: called only by the inline functions below; not API */
/* Where waits sleep (rundown_ca_bucket_of picks one). */
extern struct rundown_ca_bucket rundown_ca_buckets[RUNDOWN_CA_BUCKETS];
/* The byte offset of this thread's shard in struct rundown_ca; 0 while unregistered. */
extern _Thread_local unsigned rundown_ca_self __attribute__((tls_model("initial-exec")));
extern struct rundown_ca_waits rundown_ca_waits;
/* Decided once, before main(); the unit tests clear it to run the fenced mode. */
extern bool rundown_ca_membarrier;
/* An acquire or release on a thread that did not register. Aborts. */
void rundown_ca_unregistered_misuse(void) __attribute__((noreturn, cold));
/* A nested acquire (the shard already counts one), or misuse (an unregistered thread, count
 * overflow). */
void rundown_ca_acquire_slow(struct rundown_ca_shard *s);
/* A nested release, or misuse (an unregistered thread, release without acquire). `where`: the
 * ref's address. */
void rundown_ca_release_slow(uintptr_t where, struct rundown_ca_shard *s);
/* A wait is in progress somewhere: wakes the bucket of the ref at `where` if it has waiters. */
void rundown_ca_wake(uintptr_t where);
/* A wait sleeps in the bucket: wakes every waiter there. */
void rundown_ca_wake_waiters(struct rundown_ca_bucket *q);

/*
 * Test points, compiled in only by the unit test's build of this file (it defines the function);
 * elsewhere nothing. Where they sit: a count was just stored by acquire; a releaser has just
 * dropped its count; a wait is about to rescan before a sleep; a wait found the ref run down.
 */
enum rundown_ca_point { RUNDOWN_CA_COUNTED, RUNDOWN_CA_RELEASED, RUNDOWN_CA_RESCAN,
			RUNDOWN_CA_WAS_RUN_DOWN };
#ifdef RUNDOWN_CA_TEST_POINTS
void rundown_ca_test_point(enum rundown_ca_point at);
#define RUNDOWN_CA_TEST_POINT(at) rundown_ca_test_point(at)
#else
#define RUNDOWN_CA_TEST_POINT(at) ((void)0)
#endif

/* The reader's half of the store-load pairs: the compiler's order only, if membarrier works. */
static inline void rundown_ca_reader_fence(void)
{
	asym_fence_light(rundown_ca_membarrier);
}

/* The bucket of a ref: computed from its address only, never from what it points to. */
static inline struct rundown_ca_bucket *rundown_ca_bucket_of(uintptr_t where)
{
	return &rundown_ca_buckets[(uint32_t)((where / TEARDOWN_CACHE_LINE) * 0x9e3779b1u) >>
				   (32 - 4)];
}

/*
 * The shard's offset, not its index, is what the thread keeps: one add finds the shard. An
 * unregistered thread's offset, 0, finds no_thread, whose count sends acquire and release out of
 * line: their test for nesting is the test for this misuse too.
 */
static inline struct rundown_ca_shard *rundown_ca_my_shard(struct rundown_ca *ca)
{
	return (struct rundown_ca_shard *)((char *)ca + rundown_ca_self);
}

/* Called where a path has left the common case (slow paths, a turned-away acquire). */
static inline void rundown_ca_check_registered(void)
{
	if (teardown_unlikely(rundown_ca_self == 0))
		rundown_ca_unregistered_misuse();
}

/*
 * What a releaser does once its count is down. The ref may be freed from here on (the wait can
 * have seen the 0 and returned), so it touches only static words: the count of waits and, if a
 * wait is in progress, the bucket of `where`, the ref's address as a number.
 */
/* quote: ca_released */
static inline void rundown_ca_released(uintptr_t where)
{
	RUNDOWN_CA_TEST_POINT(RUNDOWN_CA_RELEASED);
	SCENARIO_RELEASER_TAIL();
	/* held, then waits: pairs with the waiter's waits, then held (membarrier there). */
	rundown_ca_reader_fence();
	if (teardown_unlikely(atomic_load_explicit(&rundown_ca_waits.n, memory_order_relaxed)))
		rundown_ca_wake(where);
}
/* end quote: ca_released */

/* ExReleaseRundownProtectionCacheAware. On the thread that acquired; aborts if it holds none. */
/* quote: ca_release */
static inline void rundown_ca_release(struct rundown_ca *ca)
{
	struct rundown_ca_shard *s = rundown_ca_my_shard(ca);
	uintptr_t where = (uintptr_t)ca;	/* before the count drops; the bucket's key */

	/* Nested, or not held, or unregistered (misuse): out of line. The common case stores 0. */
	if (teardown_unlikely(atomic_load_explicit(&s->held, memory_order_relaxed) != 1)) {
		rundown_ca_release_slow(where, s);
		return;
	}
	/* release (a plain mov): our uses of the object happen before the waiter's acquire scan. */
	atomic_store_explicit(&s->held, 0, memory_order_release);
	SCENARIO_NOTE("rundown_ca_release: own shard 1 -> 0");
	rundown_ca_released(where);	/* from here on, `ca` may be freed */
}
/* end quote: ca_release */

/* ExAcquireRundownProtectionCacheAware: false once wait has begun. */
/* quote: ca_acquire */
static inline bool rundown_ca_acquire(struct rundown_ca *ca)
{
	struct rundown_ca_shard *s = rundown_ca_my_shard(ca);

	/*
	 * Once the wait has begun, fail before touching the count: a thread retrying in a loop
	 * never shows the waiter a count that it must then wait for. Relaxed: on this path nothing
	 * of the object is used.
	 */
	if (teardown_unlikely(atomic_load_explicit(&ca->state, memory_order_relaxed) &
			      RUNDOWN_CA_ACTIVE)) {
		rundown_ca_check_registered();
		SCENARIO_NOTE("rundown_ca_acquire: rundown active, turned away");
		return false;
	}
	/*
	 * Not nested (nor unregistered): store the constant 1. The load only picks the branch, so
	 * back-to-back acquire/release pairs do not chain through store-to-load forwarding (see
	 * trcu_read_lock). A plain store to our own line: no other thread writes it, so no locked
	 * instruction.
	 */
	if (teardown_unlikely(atomic_load_explicit(&s->held, memory_order_relaxed) != 0))
		rundown_ca_acquire_slow(s);
	else
		atomic_store_explicit(&s->held, 1, memory_order_relaxed);
	RUNDOWN_CA_TEST_POINT(RUNDOWN_CA_COUNTED);
	/* held, then state: the reader's half of the switch (see the top of this file). */
	rundown_ca_reader_fence();
	/* acquire: pairs with rundown_ca_reinit()'s release store, for a re-published object. */
	if (teardown_likely(!(atomic_load_explicit(&ca->state, memory_order_acquire) &
			      RUNDOWN_CA_ACTIVE))) {
		SCENARIO_NOTE("rundown_ca_acquire: own shard now %u; not active",
			      atomic_load_explicit(&s->held, memory_order_relaxed));
		return true;
	}
	/* The wait began between our two loads: at most once per thread and wait. */
	SCENARIO_NOTE("rundown_ca_acquire: rundown active; undoes its count, turned away");
	rundown_ca_release(ca);
	return false;
}
/* end quote: ca_acquire */

#endif /* TEARDOWN_PATTERNS_RUNDOWN_RUNDOWN_CA_H */
