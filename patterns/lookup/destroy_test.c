/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The tables' destroy waits for what the grace period still holds back. A plain C test, so that
 * --config=asan and --config=tsan run it. A reader thread's section finds the device under a key;
 * the main thread removes that key (the look-up's last put queues the free; the type-stable
 * cache takes the memory back) and destroys the table while the section is still open:
 * - lookup_table_destroy() must not return before the queued free has run (trcu_barrier());
 * - lookup_ts_table_destroy() must not free the cache's memory before the section ends
 *   (trcu_synchronize()), since the reader may still read the device.
 * The reader waits, a bounded number of yields, for destroy to return. With the wait in place
 * destroy cannot return while the section is open, so the reader never sees it return; without
 * it the reader does, and the type-stable reader's next read is a use after free.
 */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "patterns/lookup/lookup.h"
#include "patterns/lookup/lookup_typesafe.h"

#define KEY 4
#define READER_YIELDS 100000	/* a bound on the reader's wait, not a timing */

static struct lookup_table table;
static struct lookup_ts_table ts_table;
static sem_t found;
static atomic_bool entered, returned;
static bool saw_return;
static int failures;

static void check(bool ok, const char *what)
{
	printf("%s  %s\n", ok ? "ok  " : "FAIL", what);
	if (!ok)
		failures++;
}

/* Inside the section: waits until destroy has begun, then for it to return, a bounded while. */
static void reader_waits_for_destroy(void)
{
	while (!atomic_load(&entered))
		sched_yield();
	for (int i = 0; i < READER_YIELDS && !atomic_load(&returned); i++)
		sched_yield();
	saw_return = atomic_load(&returned);
}

static void *reader(void *arg)
{
	(void)arg;
	trcu_register_thread();
	trcu_read_lock();
	if (!trcu_dereference(table.slot[KEY]))
		abort();
	sem_post(&found);
	reader_waits_for_destroy();
	trcu_read_unlock();
	trcu_unregister_thread();
	return NULL;
}

static long ts_key_read;

static void *ts_reader(void *arg)
{
	struct lookup_ts_dev *d;

	(void)arg;
	trcu_register_thread();
	trcu_read_lock();
	d = trcu_dereference(ts_table.slot[KEY]);
	if (!d)
		abort();
	sem_post(&found);
	reader_waits_for_destroy();
	/* Still the cache's memory while the section lasts. */
	ts_key_read = atomic_load_explicit(&d->key, memory_order_acquire);
	trcu_read_unlock();
	trcu_unregister_thread();
	return NULL;
}

static void run(void *(*fn)(void *), void (*remove_and_destroy)(void))
{
	pthread_t r;

	atomic_store(&entered, false);
	atomic_store(&returned, false);
	saw_return = false;
	if (pthread_create(&r, NULL, fn, NULL))
		abort();
	sem_wait(&found);
	remove_and_destroy();
	if (pthread_join(r, NULL))
		abort();
}

static void destroy_table(void)
{
	lookup_remove(&table, KEY);	/* the last put: trcu_call queues the free */
	atomic_store(&entered, true);
	lookup_table_destroy(&table);
	atomic_store(&returned, true);
}

static void destroy_ts_table(void)
{
	lookup_ts_remove(&ts_table, KEY);	/* the memory goes back to the cache */
	atomic_store(&entered, true);
	lookup_ts_table_destroy(&ts_table);
	atomic_store(&returned, true);
}

int main(void)
{
	if (sem_init(&found, 0, 0))
		abort();
	lookup_table_init(&table);
	lookup_insert(&table, lookup_dev_new(KEY, device_new(42)));
	run(reader, destroy_table);
	check(!saw_return, "lookup_table_destroy waits for the free that a reader holds back");

	lookup_ts_table_init(&ts_table);
	lookup_ts_insert(&ts_table, KEY, device_new(42));
	run(ts_reader, destroy_ts_table);
	check(!saw_return, "lookup_ts_table_destroy waits for the reader before freeing the cache");
	sem_destroy(&found);
	printf("%s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
