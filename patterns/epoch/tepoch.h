/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tepoch: a minimal epoch-based reclamation, in the spirit of Concurrency Kit's ck_epoch and
 * FreeBSD's epoch(9). Every public symbol is tepoch_*, so it links beside ck_epoch_*.
 *
 * A domain (struct tepoch, like a ck_epoch_t or an epoch_t) has one global epoch. Each thread
 * registers a record. tepoch_enter() copies the global epoch into the record's word with depth
 * 1 (nested enters only count); tepoch_exit() drops the depth. The epoch moves from e to e+1
 * only when every record is outside any section or inside one that began at e. An object is
 * unpublished, then retired with tepoch_call(), which tags it with the current epoch t; its
 * destructor runs once the epoch has reached t + 2 (tepoch_poll() drives it, never waiting).
 * tepoch_synchronize() moves the epoch one step with a read-modify-write after the caller's
 * unpublish, then blocks (spin, then futex) until no section older than the new epoch remains;
 * without membarrier it first tries the fenced check below, and ends there, with no step, when
 * every other record is outside any section. tepoch_barrier() does that, then runs every
 * destructor retired through the record (and the domain's orphans).
 *
 * Why t + 2 is enough (ck_epoch.c argues the same, with a fence on the read side):
 *  1. tepoch_call() reads the epoch with a seq_cst read-modify-write after the unpublish, and
 *     every write of the epoch is a read-modify-write, so they form one release sequence: a
 *     reader whose enter loads (acquire) an epoch > t happens after the unpublish, and cannot
 *     find the object.
 *  2. The step from t + 1 to t + 2 needed every record to be outside any section (seen after a
 *     membarrier, see 3) or inside one that began at t + 1 (which by 1 cannot hold the object).
 *     A reader that found the object began at t or earlier and still blocks that step.
 *  3. A record seen outside any section may be a reader whose enter store is still in its store
 *     buffer while it loads the object. The advancer rules that out with membarrier(2): a full
 *     barrier in every running thread; so either the scan sees the enter, or the reader's later
 *     loads see everything that happened before the membarrier, the unpublish included. The
 *     reader then needs only a compiler barrier: tepoch_enter() is a load and a plain store.
 *     A record whose word already shows the current epoch needs no membarrier: it has moved on.
 *  4. The advancer's scan loads each word with acquire, and the reader's exit is a release
 *     store: everything a reader did in its section happens before the destructor runs.
 * ThreadSanitizer sees 1 and 4 (edges on the variables themselves) and needs no annotation;
 * it does not model membarrier, which only decides which values the scan reads.
 *
 * Without membarrier (old kernel, seccomp) the reader pays a full fence instead (store-load,
 * as in ck_epoch_begin). TEPOCH_NO_MEMBARRIER=1 forces that mode at start-up. The fence buys
 * the advancer ck_epoch's shortcut: a record seen outside any section after the advancer's own
 * fence is settled, so a tepoch_synchronize() with a scan after that fence that sees every other
 * record outside (it tries a few) ends there, without a step or a wait for a reader's next enter.
 *
 * The epoch wraps. Its field has TEPOCH_EPOCH_BITS bits (47 on a 64-bit target, 15 on a 32-bit
 * one), and the step after the last epoch leads to 0. Every comparison counts steps on that
 * circle, as Linux's ULONG_CMP_LT() and rcu_seq_done() do: an entry retired at t is safe once
 * (now - t) mod 2^BITS >= 2. A record in a section holds the epoch within one step of its own,
 * so nothing that can still be in use is more than a step old; what is a whole lap older only
 * looks young, and waits a step or two longer. One thing a lap can fake: an idle record that
 * shows the current epoch. A word the advancers saw unchanged across a step is known to be a
 * lap old, and is settled with a membarrier like any idle record behind the epoch.
 *
 * Reclamation runs outside any section of its domain. tepoch_synchronize() and
 * tepoch_barrier() would wait for the caller's own section forever; tepoch_poll() never waits,
 * and does not count the caller's own section either, so it could free what that section
 * holds. All three abort when called inside a section through the same record. A thread that
 * holds a section through one record and waits through another of the same domain is caught
 * when the wait would sleep on it.
 *
 * Records come and go with their threads. What a record retired and did not see destroyed
 * becomes the domain's orphans when it unregisters; the next tepoch_poll() or tepoch_barrier()
 * adopts them into its own list, tagged with the epoch of the adoption (later than their own,
 * so they only wait longer), and destroys them with its own.
 *
 * Misuse aborts with "teardown: epoch: misuse: ...": entering on an unregistered record,
 * exit without enter, nesting deeper than 65535, synchronize/barrier/poll/unregister inside a
 * section, registering twice, unregistering twice, destroying a domain still in use.
 */
#ifndef TEARDOWN_PATTERNS_EPOCH_TEPOCH_H
#define TEARDOWN_PATTERNS_EPOCH_TEPOCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patterns/common/asymmetric_fence.h"
#include "patterns/common/compiler.h"
#include "scenario/hooks.h"

/* A record's word and the domain's section word: epoch, registered bit, nesting depth. */
#define TEPOCH_NEST_MASK 0xffffUL
#define TEPOCH_REGISTERED 0x10000UL
#define TEPOCH_EPOCH_SHIFT 17
#define TEPOCH_EPOCH_ONE (1UL << TEPOCH_EPOCH_SHIFT)
/* The epoch's width: the rest of the word. A test build may narrow it to see the wrap sooner. */
#ifndef TEPOCH_EPOCH_BITS
#define TEPOCH_EPOCH_BITS (sizeof(unsigned long) * 8 - TEPOCH_EPOCH_SHIFT)
#endif
#define TEPOCH_EPOCH_MASK (~0UL >> (sizeof(unsigned long) * 8 - TEPOCH_EPOCH_BITS))

/* Embedded in an object retired with tepoch_call(), like ck_epoch_entry or epoch_context. */
struct tepoch_entry {
	struct tepoch_entry *next;
	void (*destroy)(struct tepoch_entry *entry);
	unsigned long epoch;	/* the epoch it was retired in */
};

/* A FIFO of retired entries; epochs never decrease along it. */
struct tepoch_list {
	struct tepoch_entry *head, **tail;
};

/*
 * The first line is what readers load; advancers' locks and lists live on the next ones.
 * Lock order: gp_lock, then registry_lock (an advancer's step and tepoch_synchronize() hold
 * both; registration, unregistration and adopting orphans take registry_lock alone).
 */
struct tepoch {
	/* REGISTERED | epoch << SHIFT: what an outermost tepoch_enter() stores (plus depth 1). */
	TEARDOWN_CACHE_ALIGNED _Atomic unsigned long section;
	_Atomic uint32_t writer_waiting;	/* futex: an advancer sleeps until readers leave */
	TEARDOWN_CACHE_ALIGNED pthread_mutex_t gp_lock;	/* one advancer at a time; first */
	pthread_mutex_t registry_lock;		/* the records, and the orphans; second */
	struct tepoch_record *records;
	struct tepoch_list orphans;		/* retired by records since unregistered */
	_Atomic size_t n_orphans;		/* written under registry_lock */
	uint64_t n_fences;	/* membarriers (or fences) advancers issued, under registry_lock */
	uint64_t n_scans;	/* registry scans in advancers' waits, under registry_lock */
};

/* One cache line (or two) per record: its word is written on every enter and exit. */
struct tepoch_record {
	TEARDOWN_CACHE_ALIGNED _Atomic unsigned long word;	/* its thread's only */
	struct tepoch *domain;
	struct tepoch_record *prev, *next;	/* the registry */
	pthread_t owner;		/* the thread that registered it, the only one to use it */
	struct tepoch_list pending;	/* retired through this record, not yet destroyed */
	size_t n_pending;
	unsigned long newest_pending;	/* the epoch of the last entry retired or adopted */
	uint64_t n_retired, n_destroyed;	/* n_destroyed counts adopted orphans too */
	/* The advancers' memory of the word, under registry_lock: a word a lap old looks new. */
	unsigned long seen_word, seen_at;
	bool seen_a_lap_ago;
};

void tepoch_init(struct tepoch *d);
/* Starts the epoch at `epoch` instead of 1: how the tests see it wrap. */
void tepoch_init_at(struct tepoch *d, unsigned long epoch);
/* Aborts if a record is still registered or an orphan is still pending. */
void tepoch_destroy(struct tepoch *d);

void tepoch_register(struct tepoch *d, struct tepoch_record *r);
/* Outside any section. Entries still pending become the domain's orphans (see above). */
void tepoch_unregister(struct tepoch_record *r);

/*
 * Queues entry->destroy(entry) for after every section that could have found it. O(1). A
 * destructor may itself call tepoch_call() on the same record: that entry gets a grace period of
 * its own, and is run by a later poll or barrier, not by the run that queued it.
 */
void tepoch_call(struct tepoch_record *r, struct tepoch_entry *entry,
		 void (*destroy)(struct tepoch_entry *entry));
/*
 * Outside any section. Never waits: adopts the domain's orphans, tries to move the epoch on (at
 * most two steps) and runs the destructors of r's pending entries that are now safe. Returns
 * how many it ran.
 */
size_t tepoch_poll(struct tepoch_record *r);
/* Blocks until every section that began before the call has ended. */
void tepoch_synchronize(struct tepoch_record *r);
/* Adopts the orphans, tepoch_synchronize(), then runs every destructor pending on r before it. */
void tepoch_barrier(struct tepoch_record *r);

unsigned long tepoch_epoch(struct tepoch *d);
bool tepoch_uses_membarrier(void);

/* private: called only by the inline functions below; not API */
/* Out of line: nested or unregistered enter; misuse; waking an advancer. */
unsigned long tepoch_enter_slow(unsigned long word);
void tepoch_exit_misuse(unsigned long word) __attribute__((noreturn));
void tepoch_wake_advancer(struct tepoch *d);

extern bool tepoch_membarrier;	/* decided once, before main() */

/* The reader's half of the store-load pairs with the advancer's membarrier (or fence). */
static inline void tepoch_reader_fence(void)
{
	asym_fence_light(tepoch_membarrier);
}

/* quote: enter */
static inline void tepoch_enter(struct tepoch_record *r)
{
	unsigned long w = atomic_load_explicit(&r->word, memory_order_relaxed);

	/*
	 * Outermost: copy the global epoch, depth 1. Acquire pairs with the read-modify-writes
	 * that moved the epoch (argument 1): a reader that sees an epoch after an object's
	 * retirement also sees its unpublish. A plain mov on x86.
	 */
	if (teardown_likely((w & (TEPOCH_REGISTERED | TEPOCH_NEST_MASK)) == TEPOCH_REGISTERED))
		w = atomic_load_explicit(&r->domain->section, memory_order_acquire) + 1;
	else
		w = tepoch_enter_slow(w);
	/*
	 * Release: an advancer that reads this word also acquires our previous exit. The store
	 * must be visible before this section loads any protected pointer: the store-load pair
	 * with the advancer's unpublish-then-scan (argument 3), ordered by the fence below.
	 */
	atomic_store_explicit(&r->word, w, memory_order_release);
	tepoch_reader_fence();
}
/* end quote: enter */

/* quote: exit */
static inline void tepoch_exit(struct tepoch_record *r)
{
	unsigned long w = atomic_load_explicit(&r->word, memory_order_relaxed);

	if (teardown_unlikely(!(w & TEPOCH_NEST_MASK)))
		tepoch_exit_misuse(w);
	/* Release: the section's loads happen before the advancer's acquire scan (argument 4). */
	atomic_store_explicit(&r->word, w - 1, memory_order_release);
	/*
	 * An outermost exit has let the advancer go: what the section used may be freed from here
	 * on. What follows touches only the record and the domain, which outlive every section.
	 */
	if (!((w - 1) & TEPOCH_NEST_MASK))
		SCENARIO_RELEASER_TAIL();
	/* Store-load: our word, then writer_waiting (the advancer: writer_waiting, then words). */
	tepoch_reader_fence();
	if (teardown_unlikely(atomic_load_explicit(&r->domain->writer_waiting,
						   memory_order_relaxed)))
		tepoch_wake_advancer(r->domain);
}
/* end quote: exit */

#endif /* TEARDOWN_PATTERNS_EPOCH_TEPOCH_H */
