/* SPDX-License-Identifier: BSD-2-Clause */
/* trcu, general flavour: registry, membarrier set-up, and the grace period (see trcu.h). */
#define _GNU_SOURCE
#include "patterns/rcu/trcu.h"

#include <pthread.h>
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"
#include "scenario/hooks.h"

/* Scans a writer makes, a few ns each, before it sleeps: readers' sections are short. */
#define TRCU_SPIN_SCANS 1000

/* What a grace period still waits for, per reader (trcu_reader.wait). */
enum { TRCU_WAIT_NONE, TRCU_WAIT_PHASE1, TRCU_WAIT_PHASE2 };

struct trcu_state trcu_state = { .section = TRCU_REGISTERED };
_Thread_local struct trcu_reader trcu_self;

/*
 * Lock order: trcu_gp_lock, then trcu_registry_lock (trcu_synchronize() holds both;
 * registering and unregistering take trcu_registry_lock alone).
 */
static pthread_mutex_t trcu_gp_lock = PTHREAD_MUTEX_INITIALIZER;	/* one writer at a time */
/* The list. A writer drops it while it sleeps, so that threads can register meanwhile. */
static pthread_mutex_t trcu_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct trcu_reader *trcu_registry;

/*
 * Decided once, before main() and so before any reader exists: a reader that had seen "no
 * membarrier" and skipped its fence while a writer relied on it would be a real bug.
 */
__attribute__((constructor)) static void trcu_init(void)
{
	trcu_state.membarrier = asym_fence_setup("TRCU_NO_MEMBARRIER");
}

bool trcu_uses_membarrier(void)
{
	return trcu_state.membarrier;
}

/* The writer's half of both store-load pairs in trcu.h: a full barrier in every reader too. */
static void trcu_writer_fence(void)
{
	asym_fence_heavy(trcu_state.membarrier, "rcu");
}

unsigned long trcu_read_lock_slow(unsigned long w)
{
	if (!(w & TRCU_REGISTERED))
		teardown_misuse("rcu", "trcu_read_lock on a thread that did not call "
			       "trcu_register_thread");
	if ((w & TRCU_NEST_MASK) == TRCU_NEST_MASK)
		teardown_misuse("rcu", "trcu_read_lock nested more than %lu deep", TRCU_NEST_MASK);
	return w + 1;	/* nested: same section, same phase */
}

void trcu_read_unlock_misuse(unsigned long w)
{
	if (!(w & TRCU_REGISTERED))
		teardown_misuse("rcu", "trcu_read_unlock on a thread that did not call "
			       "trcu_register_thread");
	teardown_misuse("rcu", "trcu_read_unlock without a matching trcu_read_lock");
}

void trcu_wake_writer(void)
{
	if (atomic_exchange_explicit(&trcu_state.writer_waiting, 0, memory_order_relaxed))
		futex_wake_all(&trcu_state.writer_waiting);
}

void trcu_register_thread(void)
{
	if (atomic_load_explicit(&trcu_self.word, memory_order_relaxed) & TRCU_REGISTERED)
		teardown_misuse("rcu", "trcu_register_thread called twice on one thread");
	pthread_mutex_lock(&trcu_registry_lock);
	/*
	 * A grace period in progress does not wait for us: it issued its membarrier under this
	 * lock, so our sections load RCU pointers after its caller's unpublish.
	 */
	trcu_self.wait = TRCU_WAIT_NONE;
	trcu_self.prev = NULL;
	trcu_self.next = trcu_registry;
	if (trcu_registry)
		trcu_registry->prev = &trcu_self;
	trcu_registry = &trcu_self;
	atomic_store_explicit(&trcu_self.word, TRCU_REGISTERED, memory_order_relaxed);
	pthread_mutex_unlock(&trcu_registry_lock);
}

void trcu_unregister_thread(void)
{
	unsigned long w = atomic_load_explicit(&trcu_self.word, memory_order_relaxed);

	if (!(w & TRCU_REGISTERED))
		teardown_misuse("rcu", "trcu_unregister_thread on a thread that is not "
			       "registered");
	if (w & TRCU_NEST_MASK)
		teardown_misuse("rcu", "trcu_unregister_thread inside a read-side critical "
			       "section");
	pthread_mutex_lock(&trcu_registry_lock);
	if (trcu_self.prev)
		trcu_self.prev->next = trcu_self.next;
	else
		trcu_registry = trcu_self.next;
	if (trcu_self.next)
		trcu_self.next->prev = trcu_self.prev;
	atomic_store_explicit(&trcu_self.word, 0, memory_order_relaxed);
	pthread_mutex_unlock(&trcu_registry_lock);
}

/*
 * One scan of the readers still marked `stage`, against the current `phase`. A reader at depth 0
 * is done. A reader in a section that copied the current phase is done with this stage: after
 * phase 1 it waits for phase 2; after phase 2 (the flip made the current phase new) it is done.
 * A reader in a section that copied the other phase holds this stage up: counted.
 */
static unsigned trcu_scan(unsigned char stage, unsigned long phase)
{
	unsigned n = 0;

	for (struct trcu_reader *r = trcu_registry; r; r = r->next) {
		unsigned long w;

		if (r->wait != stage)
			continue;
		/* acquire: pairs with the reader's release stores; its section, then our free. */
		w = atomic_load_explicit(&r->word, memory_order_acquire);
		if (!(w & TRCU_NEST_MASK))
			r->wait = TRCU_WAIT_NONE;
		else if ((w & TRCU_PHASE) == phase)
			r->wait = stage == TRCU_WAIT_PHASE1 ? TRCU_WAIT_PHASE2 : TRCU_WAIT_NONE;
		else
			n++;
	}
	return n;
}

/* Spins a while, then sleeps until a reader's unlock wakes us, until no reader holds `stage`. */
static void trcu_wait_for_readers(unsigned char stage, unsigned long phase)
{
	unsigned n;

	for (unsigned scans = 0; (n = trcu_scan(stage, phase)) != 0; scans++) {
		if (scans < TRCU_SPIN_SCANS) {
			teardown_cpu_relax();
			continue;
		}
		SCENARIO_NOTE("trcu_synchronize: %u reader(s) still in a read-side section; sleeps",
			      n);
		SCENARIO_TEARDOWN_BLOCKS();
		atomic_store_explicit(&trcu_state.writer_waiting, 1, memory_order_relaxed);
		/* writer_waiting, then the words: pairs with the unlock (word, then flag). */
		trcu_writer_fence();
		if (trcu_scan(stage, phase)) {
			pthread_mutex_unlock(&trcu_registry_lock);
			futex_wait_while(&trcu_state.writer_waiting, 1);
			pthread_mutex_lock(&trcu_registry_lock);
		}
		atomic_store_explicit(&trcu_state.writer_waiting, 0, memory_order_relaxed);
	}
}

/* quote: synchronize */
void trcu_synchronize(void)
{
	unsigned long phase;

	if (atomic_load_explicit(&trcu_self.word, memory_order_relaxed) & TRCU_NEST_MASK)
		teardown_misuse("rcu", "trcu_synchronize inside a read-side critical section "
			       "(it would wait for itself forever)");
	pthread_mutex_lock(&trcu_gp_lock);	/* lock order: gp_lock, then registry_lock */
	pthread_mutex_lock(&trcu_registry_lock);
	/* The caller's unpublish, then our scans and flip: pairs with trcu_reader_fence(). */
	trcu_writer_fence();
	phase = atomic_load_explicit(&trcu_state.section, memory_order_relaxed) & TRCU_PHASE;
	for (struct trcu_reader *r = trcu_registry; r; r = r->next)
		r->wait = TRCU_WAIT_PHASE1;
	/* Phase 1: sections that copied the phase before the last flip (a delayed store). */
	trcu_wait_for_readers(TRCU_WAIT_PHASE1, phase);
	/*
	 * The flip. Sections that load the new phase began after the membarrier and cannot find
	 * the object; we do not wait for them, so a stream of readers cannot hold us. Relaxed: we
	 * alone store it (under trcu_gp_lock); a reader that does not see it yet copies the old
	 * phase once more, which costs at most a wait for that section too.
	 */
	phase ^= TRCU_PHASE;
	atomic_store_explicit(&trcu_state.section, TRCU_REGISTERED | phase, memory_order_relaxed);
	/* Phase 2: sections seen in phase 1 that copied the phase the flip made old. */
	trcu_wait_for_readers(TRCU_WAIT_PHASE2, phase);
	pthread_mutex_unlock(&trcu_registry_lock);
	pthread_mutex_unlock(&trcu_gp_lock);
	SCENARIO_NOTE("trcu_synchronize: grace period over");
}
/* end quote: synchronize */
