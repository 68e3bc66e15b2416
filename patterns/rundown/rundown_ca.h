/*
 * Cache-aware rundown protection: the idea of Windows' EX_RUNDOWN_REF_CACHE_AWARE and of Linux's
 * percpu_ref, with per-thread shards. Same contract as rundown.h (acquire fails once wait has
 * begun; wait blocks until every holder has released; a second wait returns at once; reinit
 * only after a rundown), but a holder writes only its own shard, on its own cache line, with
 * plain stores: no locked instruction and no shared line written on the hot path.
 *
 * The hot path:   acquire: held++ (own shard); load state; if ACTIVE: held--, fail
 *                 release: held-- (own shard); load waiting; if set: wake the waiter
 * (held++ and held-- store the constants 1 and 0 when not nested; nesting goes out of line.)
 * Teardown:       state |= ACTIVE (the switch to slow mode); membarrier; sum the shards; until
 *                 the sum is 0: waiting = 1; membarrier; sum again; sleep on `waiting`.
 *
 * Why the switch is safe (the one ordering argument, used twice): each side stores, then loads
 * what the other stored; acquire: held, then state; wait: state, then held. The reader orders
 * its pair with a compiler barrier only; the writer's membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)
 * makes every running thread of the process execute a full barrier (and a thread that is not
 * running passes one when it is switched out), so in each reader that barrier falls either after
 * its store of held, which the writer's scan then sees and waits for, or before its load of
 * state, which then sees ACTIVE and turns the reader away. Release and the writer's sleep are the
 * same pair on (held, waiting). Without membarrier both sides use a full fence (store-buffering).
 *
 * For ThreadSanitizer, which models neither fences nor membarrier: the edge that makes the free
 * safe is on the shard itself. The reader's decrement is a release store; the writer's scan
 * loads each shard with acquire; reading 0 after a holder's release synchronizes with it.
 *
 * Contract beyond rundown.h: a thread calls rundown_ca_register_thread() before its first
 * acquire (at most RUNDOWN_CA_MAX_THREADS at once), releases on the thread that acquired, and
 * unregisters holding nothing. Misuse aborts with "teardown: rundown: misuse: ...".
 */
#ifndef TEARDOWN_PATTERNS_RUNDOWN_RUNDOWN_CA_H
#define TEARDOWN_PATTERNS_RUNDOWN_RUNDOWN_CA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "patterns/common/asymmetric_fence.h"
#include "scenario/hooks.h"

#define RUNDOWN_CA_MAX_THREADS 64
#define RUNDOWN_CA_CACHE_LINE 64

#define RUNDOWN_CA_ACTIVE 1u	/* state: wait has begun; acquire fails */
#define RUNDOWN_CA_DRAINING 2u	/* state: a wait is in progress */

struct rundown_ca_shard {
	_Alignas(RUNDOWN_CA_CACHE_LINE) _Atomic uint32_t held;	/* written by its thread only */
};

struct rundown_ca {
	_Alignas(RUNDOWN_CA_CACHE_LINE) _Atomic uint32_t state;	/* read by every acquire */
	_Atomic uint32_t waiting;	/* futex: set while the waiter may sleep */
	struct rundown_ca_shard shard[RUNDOWN_CA_MAX_THREADS];
};

/* This thread's shard index plus one; 0 while unregistered. */
extern _Thread_local unsigned rundown_ca_self __attribute__((tls_model("initial-exec")));
extern bool rundown_ca_membarrier;	/* decided once, before main() */

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

/* Out of line: misuse, and waking the waiter. */
void rundown_ca_unregistered(void) __attribute__((noreturn));
void rundown_ca_acquire_nested(struct rundown_ca_shard *s);
void rundown_ca_release_other(struct rundown_ca *ca, struct rundown_ca_shard *s);
void rundown_ca_wake_waiter(struct rundown_ca *ca);

/* The reader's half of the store-load pairs: the compiler's order only, if membarrier works. */
static inline void rundown_ca_reader_fence(void)
{
	asym_fence_light(rundown_ca_membarrier);
}

static inline struct rundown_ca_shard *rundown_ca_my_shard(struct rundown_ca *ca)
{
	unsigned self = rundown_ca_self;

	if (__builtin_expect(self == 0, 0))
		rundown_ca_unregistered();
	return &ca->shard[self - 1];
}

/* ExReleaseRundownProtectionCacheAware. On the thread that acquired; aborts if it holds none. */
/* quote: ca_release */
static inline void rundown_ca_release(struct rundown_ca *ca)
{
	struct rundown_ca_shard *s = rundown_ca_my_shard(ca);

	/* Nested, or not held at all (misuse): out of line. The common case stores a constant. */
	if (__builtin_expect(atomic_load_explicit(&s->held, memory_order_relaxed) != 1, 0)) {
		rundown_ca_release_other(ca, s);
		return;
	}
	/* release (a plain mov): our uses of the object happen before the waiter's acquire scan. */
	atomic_store_explicit(&s->held, 0, memory_order_release);
	/* held, then waiting: pairs with the waiter's waiting, then held (membarrier there). */
	rundown_ca_reader_fence();
	if (__builtin_expect(atomic_load_explicit(&ca->waiting, memory_order_relaxed), 0))
		rundown_ca_wake_waiter(ca);
	SCENARIO_NOTE("rundown_ca_release: own shard 1 -> 0");
}
/* end quote: ca_release */

/* ExAcquireRundownProtectionCacheAware: false once wait has begun. */
/* quote: ca_acquire */
static inline bool rundown_ca_acquire(struct rundown_ca *ca)
{
	struct rundown_ca_shard *s = rundown_ca_my_shard(ca);

	/*
	 * Not nested: store the constant 1. The load only picks the branch, so back-to-back
	 * acquire/release pairs do not chain through store-to-load forwarding (see trcu_read_lock).
	 * A plain store to our own line: no other thread writes it, so no locked instruction.
	 */
	if (__builtin_expect(atomic_load_explicit(&s->held, memory_order_relaxed) != 0, 0))
		rundown_ca_acquire_nested(s);
	else
		atomic_store_explicit(&s->held, 1, memory_order_relaxed);
	/* held, then state: the reader's half of the switch (see the top of this file). */
	rundown_ca_reader_fence();
	/* acquire: pairs with rundown_ca_reinit()'s release store, for a re-published object. */
	if (__builtin_expect(!(atomic_load_explicit(&ca->state, memory_order_acquire) &
			       RUNDOWN_CA_ACTIVE), 1)) {
		SCENARIO_NOTE("rundown_ca_acquire: own shard now %u; not active",
			      atomic_load_explicit(&s->held, memory_order_relaxed));
		return true;
	}
	SCENARIO_NOTE("rundown_ca_acquire: rundown active; undoes its count, turned away");
	rundown_ca_release(ca);
	return false;
}
/* end quote: ca_acquire */

#endif
