/* trcu, general flavour: registry, membarrier set-up, and the grace period (see trcu.h). */
#define _GNU_SOURCE
#include "patterns/rcu/trcu.h"

#include <pthread.h>
#include <stdlib.h>

#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"
#include "scenario/hooks.h"

/* Scans a writer makes, a few ns each, before it sleeps: readers' sections are short. */
#define TRCU_SPIN_SCANS 1000

struct trcu_state trcu_state = { .section = TRCU_REGISTERED };
_Thread_local struct trcu_reader trcu_self;

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
		teardown_misuse("rcu", "trcu_read_lock nested more than %lu deep", TRCU_NEST_MASK - 1);
	return w + 1;	/* nested: same section, same sequence */
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
	trcu_self.snapshot = 0;	/* a grace period in progress does not wait for us */
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
		teardown_misuse("rcu", "trcu_unregister_thread on a thread that is not registered");
	if (w & TRCU_NEST_MASK)
		teardown_misuse("rcu", "trcu_unregister_thread inside a read-side critical section");
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

/* Is r still inside the critical section it was in at the snapshot? Clears r->snapshot if not. */
static bool trcu_reader_blocks(struct trcu_reader *r)
{
	/* acquire: pairs with the reader's release stores; its section happens before our free. */
	unsigned long w = atomic_load_explicit(&r->word, memory_order_acquire);

	if ((w & TRCU_NEST_MASK) && (w & ~TRCU_NEST_MASK) == (r->snapshot & ~TRCU_NEST_MASK))
		return true;
	r->snapshot = 0;
	return false;
}

static unsigned trcu_readers_blocking(void)
{
	unsigned n = 0;

	for (struct trcu_reader *r = trcu_registry; r; r = r->next)
		if (r->snapshot && trcu_reader_blocks(r))
			n++;
	return n;
}

/* quote: synchronize */
void trcu_synchronize(void)
{
	unsigned n;

	if (atomic_load_explicit(&trcu_self.word, memory_order_relaxed) & TRCU_NEST_MASK)
		teardown_misuse("rcu", "trcu_synchronize inside a read-side critical section "
			       "(it would wait for itself forever)");
	pthread_mutex_lock(&trcu_gp_lock);
	pthread_mutex_lock(&trcu_registry_lock);
	/*
	 * New sections from here on store a new sequence, so a reader that leaves and re-enters
	 * is seen to have moved on. A reader still storing the old one only makes us wait for its
	 * next exit: safe. After the membarrier below, every reader's next lock loads the new one.
	 */
	atomic_fetch_add_explicit(&trcu_state.section, TRCU_SEQ_ONE, memory_order_relaxed);
	/* The caller's unpublish, then our scan: pairs with trcu_reader_fence() in every reader. */
	trcu_writer_fence();
	for (struct trcu_reader *r = trcu_registry; r; r = r->next) {
		/* acquire: a reader seen outside any section left its last one before our free. */
		unsigned long w = atomic_load_explicit(&r->word, memory_order_acquire);

		r->snapshot = (w & TRCU_NEST_MASK) ? w : 0;
	}
	for (unsigned scans = 0; (n = trcu_readers_blocking()) != 0; scans++) {
		if (scans < TRCU_SPIN_SCANS) {
			teardown_cpu_relax();
			continue;
		}
		SCENARIO_NOTE("trcu_synchronize: %u reader(s) still in a read-side section; sleeps", n);
		SCENARIO_TEARDOWN_BLOCKS();
		atomic_store_explicit(&trcu_state.writer_waiting, 1, memory_order_relaxed);
		/* writer_waiting, then the words: pairs with the reader's unlock (word, then flag). */
		trcu_writer_fence();
		if (trcu_readers_blocking()) {
			pthread_mutex_unlock(&trcu_registry_lock);
			futex_wait_while(&trcu_state.writer_waiting, 1);
			pthread_mutex_lock(&trcu_registry_lock);
		}
		atomic_store_explicit(&trcu_state.writer_waiting, 0, memory_order_relaxed);
	}
	pthread_mutex_unlock(&trcu_registry_lock);
	pthread_mutex_unlock(&trcu_gp_lock);
	SCENARIO_NOTE("trcu_synchronize: grace period over");
}
/* end quote: synchronize */
