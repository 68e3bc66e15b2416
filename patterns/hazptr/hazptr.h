/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hazptr: hazard pointers (Michael, 2004), in the shape of folly's hazptr and C++26's
 * std::hazard_pointer. Every public symbol is hazptr_*, so it links beside Concurrency Kit's
 * ck_hp_*.
 *
 * A domain (struct hazptr_domain) has HAZPTR_MAX_RECORDS records, one per registered thread,
 * each with HAZPTR_SLOTS hazard slots. A reader protects a pointer it loads from a shared
 * location: it loads it, publishes it in one of its slots, and loads the location again; if
 * the location still holds the pointer, the object is protected until the reader clears the
 * slot. A writer unpublishes an object (the shared location no longer leads to it) and retires
 * it onto its record's list; once that list reaches the domain's threshold, a scan reads every
 * slot of every record and reclaims each retired object that no slot holds.
 *
 * Why a protected object is never reclaimed:
 *  1. The reader's slot store comes before its re-validating load; the writer's unpublish
 *     comes before its scan's loads of the slots. A store-load pair on each side: one of the
 *     two must see the other. Either the scan sees the slot (the object stays), or the
 *     re-validating load sees the unpublish (the reader gives up on that pointer and retries).
 *     The store-load order is paid by the scan: membarrier(2) in the scanner, a compiler
 *     barrier in the reader (folly's asymmetric fences make the same trade). Without
 *     membarrier (old kernel, seccomp, HAZPTR_NO_MEMBARRIER=1) both sides pay a full fence.
 *  2. The scan loads each slot with acquire and the reader clears it with a release store:
 *     everything the reader did with the object happens before its reclamation.
 *  3. The re-validating load is an acquire: it pairs with the release that published the
 *     object, so the reader sees the object initialised.
 * ThreadSanitizer sees 2 and 3, edges on the variables themselves; it models neither fences
 * nor membarrier, which only decide which values the scan reads (1).
 *
 * Memory stays bounded whatever the readers do: a stalled reader holds back at most the
 * HAZPTR_SLOTS objects its slots name, never what is retired after them. A record's list is
 * scanned when it reaches hazptr_threshold() (twice the slots of the records in use, at least
 * HAZPTR_SCAN_MIN); after a scan at most as many objects as there are slots remain on it.
 *
 * Records come and go with their threads: hazptr_unregister() scans once more, and what its
 * record could not reclaim becomes the domain's orphans, which the next scan adopts.
 * hazptr_domain_destroy() reclaims whatever is left.
 *
 * Misuse aborts with "teardown: hazptr: misuse: ...": retiring NULL, retiring an object still
 * waiting on a list, more threads than records, a slot index out of range, clearing a slot
 * that holds nothing, unregistering or destroying the domain while a slot is held, destroying
 * it while a record is registered.
 */
#ifndef TEARDOWN_PATTERNS_HAZPTR_HAZPTR_H
#define TEARDOWN_PATTERNS_HAZPTR_HAZPTR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patterns/common/asymmetric_fence.h"
#include "patterns/common/compiler.h"
#include "scenario/hooks.h"

#define HAZPTR_SLOTS 2		/* hazard slots per record (a list walk needs two) */
#define HAZPTR_MAX_RECORDS 128	/* registered threads per domain */
#define HAZPTR_SCAN_MIN 16	/* the smallest threshold */

/* Embedded in an object retired with hazptr_retire(), like folly's hazptr_obj_base. */
struct hazptr_obj {
	struct hazptr_obj *next;
	const void *ptr;	/* what readers protect: the object's published address */
	void (*reclaim)(struct hazptr_obj *obj);
	bool retired;		/* on a list, not yet reclaimed: a second retire is misuse */
};

/* One cache line per record: its slots are written on every protect and clear. */
struct hazptr_rec {
	TEARDOWN_CACHE_ALIGNED _Atomic(void *) slot[HAZPTR_SLOTS];	/* its thread's only */
	struct hazptr_domain *domain;
	_Atomic bool in_use;		/* registered; claimed with an exchange */
	struct hazptr_obj *retired;	/* retired through this record, not yet reclaimed */
	size_t n_retired;
	uint64_t n_reclaimed, n_scans;
};

struct hazptr_domain {
	struct hazptr_rec rec[HAZPTR_MAX_RECORDS];
	_Atomic unsigned n_recs;	/* records ever claimed: a scan reads rec[0 .. n_recs) */
	_Atomic unsigned n_in_use;	/* records registered now: the threshold's measure */
	pthread_mutex_t orphan_lock;
	struct hazptr_obj *orphans;	/* left by records since unregistered */
	size_t n_orphans;
};

void hazptr_domain_init(struct hazptr_domain *d);
/* Reclaims every retired object. Aborts if a record is registered or a slot held. */
void hazptr_domain_destroy(struct hazptr_domain *d);

/* A record for the calling thread; aborts when all HAZPTR_MAX_RECORDS are in use. */
struct hazptr_rec *hazptr_register(struct hazptr_domain *d);
/* With every slot clear. Scans; what is still protected becomes the domain's orphans. */
void hazptr_unregister(struct hazptr_rec *r);

/*
 * ptr is unpublished: no shared location leads to it any more. obj (embedded in it, or beside
 * it) carries it on the list; obj->reclaim(obj) runs once no slot holds ptr, in a later scan of
 * this record (or of one that adopts it). Scans when the list reaches hazptr_threshold().
 */
void hazptr_retire(struct hazptr_rec *r, struct hazptr_obj *obj, const void *ptr,
		   void (*reclaim)(struct hazptr_obj *obj));
/* Reclaims what no slot holds; never waits. Returns how many it reclaimed. */
size_t hazptr_scan(struct hazptr_rec *r);
size_t hazptr_threshold(struct hazptr_domain *d);
bool hazptr_uses_membarrier(void);

/* private: called only by the inline functions below; not API */
void hazptr_slot_misuse(struct hazptr_rec *r, unsigned i) __attribute__((noreturn));
void hazptr_clear_misuse(struct hazptr_rec *r, unsigned i) __attribute__((noreturn));

extern bool hazptr_membarrier;	/* decided once, before main() */

/* The reader's half of the store-load pair with the scan's membarrier (or fence): argument 1. */
static inline void hazptr_reader_fence(void)
{
	asym_fence_light(hazptr_membarrier);
}

/*
 * Loads *src and protects what it points to in slot i. Returns it, protected until
 * hazptr_clear(r, i), or NULL (then nothing is held).
 */
/* quote: protect */
static inline void *hazptr_protect(struct hazptr_rec *r, unsigned i, _Atomic(void *) *src)
{
	void *p = atomic_load_explicit(src, memory_order_relaxed), *again;

	if (teardown_unlikely(i >= HAZPTR_SLOTS))
		hazptr_slot_misuse(r, i);
	for (;;) {
		if (!p)
			return NULL;
		SCENARIO_READER_WINDOW();
		/* Publish the hazard. Relaxed: the fence below orders it before the re-load. */
		atomic_store_explicit(&r->slot[i], p, memory_order_relaxed);
		/* Store-load: our slot, then *src; the scan: its unpublish, then the slots (1). */
		hazptr_reader_fence();
		/* Acquire pairs with the release that published the object (argument 3). */
		again = atomic_load_explicit(src, memory_order_acquire);
		if (teardown_likely(again == p))
			return p;
		/* Unpublished or replaced meanwhile: the scan may have missed the slot. */
		if (!again) {
			atomic_store_explicit(&r->slot[i], NULL, memory_order_relaxed);
			return NULL;
		}
		p = again;
	}
}
/* end quote: protect */

/* quote: clear */
static inline void hazptr_clear(struct hazptr_rec *r, unsigned i)
{
	if (teardown_unlikely(i >= HAZPTR_SLOTS ||
			      !atomic_load_explicit(&r->slot[i], memory_order_relaxed)))
		hazptr_clear_misuse(r, i);
	/* Release: our use of the object happens before a scan that reads NULL here (2). */
	atomic_store_explicit(&r->slot[i], NULL, memory_order_release);
	SCENARIO_RELEASER_TAIL();
}
/* end quote: clear */

#endif /* TEARDOWN_PATTERNS_HAZPTR_HAZPTR_H */
