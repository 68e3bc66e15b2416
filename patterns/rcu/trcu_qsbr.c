/* SPDX-License-Identifier: BSD-2-Clause */
/* trcu, QSBR flavour: quiescent states and the grace period (see trcu_qsbr.h). */
#include "patterns/rcu/trcu_qsbr.h"

#include <pthread.h>

#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"
#include "scenario/hooks.h"

#define TRCU_QSBR_SPIN_SCANS 1000

/* Lock order: gp_lock, then lock (trcu_qsbr_synchronize() holds both). */
static struct {
	pthread_mutex_t gp_lock;		/* one writer at a time */
	pthread_mutex_t lock;			/* the registry; a sleeping writer drops it */
	struct trcu_qsbr_reader *readers;
	/* Grace-period counter: odd, stepping by 2, so never OFFLINE (0), even when it wraps. */
	_Atomic unsigned long ctr;
	_Atomic uint32_t writer_waiting;	/* futex */
} trcu_qsbr = { .gp_lock = PTHREAD_MUTEX_INITIALIZER, .lock = PTHREAD_MUTEX_INITIALIZER,
		.ctr = 1 };

static _Thread_local struct trcu_qsbr_reader trcu_qsbr_self;

static void trcu_qsbr_check_registered(const char *what)
{
	if (!atomic_load_explicit(&trcu_qsbr_self.registered, memory_order_relaxed))
		teardown_misuse("rcu", "%s on a thread that did not call trcu_qsbr_register_thread",
				what);
}

/* Stores our word, then checks for a sleeping writer. */
static void trcu_qsbr_store_word(unsigned long v)
{
	/*
	 * release: what we read before this quiescent state happens before the writer's acquire
	 * load of our word. The fence: our word, then writer_waiting (writer: the flag, then the
	 * words), and our word, then our next loads of RCU pointers (writer: counter, then words).
	 */
	atomic_store_explicit(&trcu_qsbr_self.ctr, v, memory_order_release);
	/* The writer may return and free from here on: what follows touches only trcu_qsbr. */
	SCENARIO_RELEASER_TAIL();
	teardown_smp_mb();
	if (atomic_load_explicit(&trcu_qsbr.writer_waiting, memory_order_relaxed) &&
	    atomic_exchange_explicit(&trcu_qsbr.writer_waiting, 0, memory_order_relaxed))
		futex_wake_all(&trcu_qsbr.writer_waiting);
}

/* quote: qsbr_quiescent_state */
void trcu_qsbr_quiescent_state(void)
{
	trcu_qsbr_check_registered("trcu_qsbr_quiescent_state");
	/* acquire: pairs with the writer's bump; the unpublish before it is visible to us. */
	trcu_qsbr_store_word(atomic_load_explicit(&trcu_qsbr.ctr, memory_order_acquire));
}
/* end quote: qsbr_quiescent_state */

void trcu_qsbr_thread_offline(void)
{
	trcu_qsbr_check_registered("trcu_qsbr_thread_offline");
	trcu_qsbr_store_word(TRCU_QSBR_OFFLINE);
}

void trcu_qsbr_thread_online(void)
{
	trcu_qsbr_check_registered("trcu_qsbr_thread_online");
	trcu_qsbr_store_word(atomic_load_explicit(&trcu_qsbr.ctr, memory_order_acquire));
}

void trcu_qsbr_register_thread(void)
{
	if (atomic_load_explicit(&trcu_qsbr_self.registered, memory_order_relaxed))
		teardown_misuse("rcu", "trcu_qsbr_register_thread called twice on one thread");
	pthread_mutex_lock(&trcu_qsbr.lock);
	trcu_qsbr_self.prev = NULL;
	trcu_qsbr_self.next = trcu_qsbr.readers;
	if (trcu_qsbr.readers)
		trcu_qsbr.readers->prev = &trcu_qsbr_self;
	trcu_qsbr.readers = &trcu_qsbr_self;
	atomic_store_explicit(&trcu_qsbr_self.registered, 1, memory_order_relaxed);
	/* Online, at the current counter: a grace period in progress bumped it under this lock. */
	atomic_store_explicit(&trcu_qsbr_self.ctr, atomic_load(&trcu_qsbr.ctr),
			      memory_order_relaxed);
	teardown_smp_mb();
	pthread_mutex_unlock(&trcu_qsbr.lock);
}

void trcu_qsbr_unregister_thread(void)
{
	trcu_qsbr_check_registered("trcu_qsbr_unregister_thread");
	trcu_qsbr_thread_offline();
	pthread_mutex_lock(&trcu_qsbr.lock);
	if (trcu_qsbr_self.prev)
		trcu_qsbr_self.prev->next = trcu_qsbr_self.next;
	else
		trcu_qsbr.readers = trcu_qsbr_self.next;
	if (trcu_qsbr_self.next)
		trcu_qsbr_self.next->prev = trcu_qsbr_self.prev;
	atomic_store_explicit(&trcu_qsbr_self.registered, 0, memory_order_relaxed);
	pthread_mutex_unlock(&trcu_qsbr.lock);
}

void trcu_qsbr_set_counter(unsigned long ctr)
{
	if (!(ctr & 1))
		teardown_misuse("rcu", "trcu_qsbr_set_counter(%lu): the counter must be odd", ctr);
	atomic_store_explicit(&trcu_qsbr.ctr, ctr, memory_order_relaxed);
}

bool trcu_qsbr_writer_sleeps(void)
{
	return atomic_load_explicit(&trcu_qsbr.writer_waiting, memory_order_relaxed);
}

static unsigned trcu_qsbr_readers_blocking(unsigned long gp)
{
	unsigned n = 0;

	for (struct trcu_qsbr_reader *r = trcu_qsbr.readers; r; r = r->next) {
		/* acquire: pairs with trcu_qsbr_store_word(): the reader's past reads first. */
		unsigned long c = atomic_load_explicit(&r->ctr, memory_order_acquire);

		n += c != TRCU_QSBR_OFFLINE && c != gp;
	}
	return n;
}

/* quote: qsbr_synchronize */
void trcu_qsbr_synchronize(void)
{
	unsigned long gp;
	unsigned n;

	if (atomic_load_explicit(&trcu_qsbr_self.registered, memory_order_relaxed) &&
	    atomic_load_explicit(&trcu_qsbr_self.ctr, memory_order_relaxed) != TRCU_QSBR_OFFLINE)
		teardown_misuse("rcu", "trcu_qsbr_synchronize on an online reader thread (it would "
			       "wait for itself forever; call trcu_qsbr_thread_offline first)");
	pthread_mutex_lock(&trcu_qsbr.gp_lock);	/* lock order: gp_lock, then lock */
	pthread_mutex_lock(&trcu_qsbr.lock);
	/* The caller's unpublish, then the bump (release), then the scan (the fence). */
	gp = atomic_fetch_add_explicit(&trcu_qsbr.ctr, 2, memory_order_release) + 2;
	teardown_smp_mb();
	for (unsigned scans = 0; (n = trcu_qsbr_readers_blocking(gp)) != 0; scans++) {
		if (scans < TRCU_QSBR_SPIN_SCANS) {
			teardown_cpu_relax();
			continue;
		}
		SCENARIO_NOTE("trcu_qsbr_synchronize: %u reader(s) yet to pass a quiescent state; "
			      "sleeps", n);
		SCENARIO_TEARDOWN_BLOCKS();
		atomic_store_explicit(&trcu_qsbr.writer_waiting, 1, memory_order_relaxed);
		teardown_smp_mb();	/* the flag, then the words */
		if (trcu_qsbr_readers_blocking(gp)) {
			pthread_mutex_unlock(&trcu_qsbr.lock);
			futex_wait_while(&trcu_qsbr.writer_waiting, 1);
			pthread_mutex_lock(&trcu_qsbr.lock);
		}
		atomic_store_explicit(&trcu_qsbr.writer_waiting, 0, memory_order_relaxed);
	}
	pthread_mutex_unlock(&trcu_qsbr.lock);
	pthread_mutex_unlock(&trcu_qsbr.gp_lock);
	SCENARIO_NOTE("trcu_qsbr_synchronize: grace period over");
}
/* end quote: qsbr_synchronize */
