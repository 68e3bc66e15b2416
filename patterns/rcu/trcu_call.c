/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trcu_call() and trcu_barrier(): deferred freeing on one callback thread, as liburcu's
 * default call_rcu thread and the kernel's rcuc threads do it.
 *
 * Why it is enough: the thread takes a batch of callbacks, then runs a full grace period, then
 * invokes them. Every callback in the batch was queued after its object was unpublished, so
 * the grace period covers every reader that could have found the object. trcu_barrier() notes
 * how many callbacks were queued when it was called and waits until that many have been
 * invoked: callbacks run in queue order, so those are exactly the ones queued before it.
 */
#include <pthread.h>
#include <stdint.h>

#include "patterns/common/die.h"
#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"
#include "patterns/rcu/trcu.h"

static struct {
	pthread_mutex_t lock;
	struct trcu_head *head, **tail;	/* FIFO, under lock */
	uint64_t queued, invoked;	/* totals, under lock */
	bool started;
	_Atomic uint32_t work;		/* futex: bumped by every trcu_call() */
	_Atomic uint32_t progress;	/* futex: bumped after every batch */
} trcu_calls = { .lock = PTHREAD_MUTEX_INITIALIZER, .tail = &trcu_calls.head };

static _Thread_local bool trcu_on_callback_thread;

static struct trcu_head *trcu_take_batch(void)
{
	struct trcu_head *batch;

	pthread_mutex_lock(&trcu_calls.lock);
	batch = trcu_calls.head;
	trcu_calls.head = NULL;
	trcu_calls.tail = &trcu_calls.head;
	pthread_mutex_unlock(&trcu_calls.lock);
	return batch;
}

/* quote: callback_thread */
static void *trcu_callback_thread(void *unused)
{
	(void)unused;
	trcu_on_callback_thread = true;
	for (;;) {
		uint32_t work = atomic_load_explicit(&trcu_calls.work, memory_order_relaxed);
		struct trcu_head *batch = trcu_take_batch();
		uint64_t n = 0;

		if (!batch) {
			/* A trcu_call() after our look bumps work first: no lost wake-up. */
			futex_wait_while(&trcu_calls.work, work);
			continue;
		}
		/* Every object in the batch was unpublished before this. */
		trcu_synchronize();
		while (batch) {
			struct trcu_head *next = batch->next;

			/* The callback's code must still be mapped: see the chapter. */
			batch->func(batch);
			batch = next;
			n++;
		}
		pthread_mutex_lock(&trcu_calls.lock);
		trcu_calls.invoked += n;
		pthread_mutex_unlock(&trcu_calls.lock);
		atomic_fetch_add_explicit(&trcu_calls.progress, 1, memory_order_relaxed);
		futex_wake_all(&trcu_calls.progress);
	}
	return NULL;
}
/* end quote: callback_thread */

/* Out of memory or threads is fatal: a callback queued with no thread to run it would leak. */
static void trcu_start_callback_thread(void)
{
	pthread_t thread;
	pthread_attr_t attr;
	int err;

	err = pthread_attr_init(&attr);
	if (err)
		teardown_die("rcu", err, "pthread_attr_init (the callback thread)");
	err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (err)
		teardown_die("rcu", err, "pthread_attr_setdetachstate (the callback thread)");
	err = pthread_create(&thread, &attr, trcu_callback_thread, NULL);
	if (err)
		teardown_die("rcu", err, "cannot start the callback thread");
	pthread_attr_destroy(&attr);
}

void trcu_call(struct trcu_head *head, void (*func)(struct trcu_head *head))
{
	if (!func)
		teardown_misuse("rcu", "trcu_call with a NULL callback");
	head->func = func;
	head->next = NULL;
	pthread_mutex_lock(&trcu_calls.lock);
	*trcu_calls.tail = head;
	trcu_calls.tail = &head->next;
	trcu_calls.queued++;
	if (!trcu_calls.started) {
		trcu_start_callback_thread();
		trcu_calls.started = true;
	}
	pthread_mutex_unlock(&trcu_calls.lock);
	atomic_fetch_add_explicit(&trcu_calls.work, 1, memory_order_relaxed);
	futex_wake_all(&trcu_calls.work);
}

/* quote: barrier */
void trcu_barrier(void)
{
	uint64_t target;
	bool done;

	if (atomic_load_explicit(&trcu_self.word, memory_order_relaxed) & TRCU_NEST_MASK)
		teardown_misuse("rcu", "trcu_barrier inside a read-side critical section "
			       "(it would wait for itself forever)");
	if (trcu_on_callback_thread)
		teardown_misuse("rcu", "trcu_barrier from a trcu_call callback (it would wait for "
			       "itself forever)");
	pthread_mutex_lock(&trcu_calls.lock);
	target = trcu_calls.queued;
	pthread_mutex_unlock(&trcu_calls.lock);
	for (;;) {
		uint32_t progress = atomic_load_explicit(&trcu_calls.progress,
							 memory_order_relaxed);

		/* The lock orders the callbacks' work before our return (and is TSan's edge). */
		pthread_mutex_lock(&trcu_calls.lock);
		done = trcu_calls.invoked >= target;
		pthread_mutex_unlock(&trcu_calls.lock);
		if (done)
			return;
		futex_wait_while(&trcu_calls.progress, progress);
	}
}
/* end quote: barrier */
