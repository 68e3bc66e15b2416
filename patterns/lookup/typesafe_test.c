/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Type-stable memory's naive twin, caught by the generation check. A plain C test (not
 * Criterion), so that it runs under ThreadSanitizer and AddressSanitizer too: neither reports
 * the naive twin, which touches only live memory of the right type. One thread, no timing: a
 * reader's section finds device 2; inside that section (the update side does not wait for
 * readers) device 2 is removed and freed, and the driver attaches device 3, which the cache
 * places in the same memory; then the reader takes its reference, from where it stopped.
 *
 * A second check, for ThreadSanitizer: a reader with a stale pointer takes the count of a device
 * reinserted under the same key by another thread, and reads its fields. Nothing orders that
 * thread's device_new() before the read but the key's acquire load (ThreadSanitizer models no
 * fence), so with the key loaded relaxed ThreadSanitizer reports a data race.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

#include "patterns/common/compiler.h"

#include "patterns/lookup/lookup_typesafe.h"

#define KEY 2
#define OTHER_KEY 3

static int failures;

static void check(bool ok, const char *what)
{
	printf("%s  %s\n", ok ? "ok  " : "FAIL", what);
	if (!ok)
		failures++;
}

/* quote: ts_naive_try */
/* Naive: the reference, without the identity check (slab.h's "obj->key != key"). */
static bool naive_try(struct lookup_ts_dev *d, int key)
{
	(void)key;
	return rundown_kref_get_unless_zero(&d->ref);
}
/* end quote: ts_naive_try */

/* Returns what the reader read, or -1 if it was turned away; *recycled: the generation moved. */
static long reader_meets_a_recycled_device(bool (*try_get)(struct lookup_ts_dev *, int),
					   bool *recycled)
{
	struct lookup_ts_table t;
	struct lookup_ts_dev *d;
	uint64_t gen;
	long state = -1;

	lookup_ts_table_init(&t);
	lookup_ts_insert(&t, KEY, device_new(42));
	trcu_read_lock();
	d = trcu_dereference(t.slot[KEY]);
	gen = atomic_load_explicit(&d->gen, memory_order_relaxed);	/* what the reader found */
	lookup_ts_remove(&t, KEY);
	if (lookup_ts_insert(&t, OTHER_KEY, device_new(7)) != d)
		check(false, "the cache reuses the freed memory at once (the test's premise)");
	if (try_get(d, KEY)) {
		*recycled = atomic_load_explicit(&d->gen, memory_order_relaxed) != gen;
		state = device_read_state(lookup_ts_device(d));
		lookup_ts_put(d);
	}
	trcu_read_unlock();
	lookup_ts_remove(&t, OTHER_KEY);
	lookup_ts_table_destroy(&t);
	return state;
}

struct same_key {
	struct lookup_ts_table t;
	sem_t found;	/* the reader holds its pointer: the reinsert may begin */
	long state;
};

/* Waits for the reinsert by spinning on relaxed loads only: no edge from the writer. */
static void *same_key_reader(void *arg)
{
	struct same_key *s = arg;
	struct lookup_ts_dev *d;
	uint64_t gen;

	trcu_register_thread();
	trcu_read_lock();
	d = trcu_dereference(s->t.slot[KEY]);
	gen = atomic_load_explicit(&d->gen, memory_order_relaxed);
	sem_post(&s->found);
	while (atomic_load_explicit(&d->gen, memory_order_relaxed) == gen || !lookup_ts_try(d, KEY))
		teardown_cpu_relax();
	s->state = device_read_state(lookup_ts_device(d));	/* the new device's fields */
	lookup_ts_put(d);
	trcu_read_unlock();
	trcu_unregister_thread();
	return NULL;
}

static long reader_takes_a_device_reinserted_under_its_key(void)
{
	struct same_key s;
	pthread_t reader;

	trcu_register_thread();
	lookup_ts_table_init(&s.t);
	lookup_ts_insert(&s.t, KEY, device_new(42));
	if (sem_init(&s.found, 0, 0) || pthread_create(&reader, NULL, same_key_reader, &s))
		abort();
	sem_wait(&s.found);
	lookup_ts_remove(&s.t, KEY);
	lookup_ts_insert(&s.t, KEY, device_new(43));	/* the same memory, the same key */
	if (pthread_join(reader, NULL))
		abort();
	lookup_ts_remove(&s.t, KEY);
	lookup_ts_table_destroy(&s.t);
	sem_destroy(&s.found);
	trcu_unregister_thread();
	return s.state;
}

int main(void)
{
	bool recycled = false;
	long state;

	trcu_register_thread();
	state = reader_meets_a_recycled_device(naive_try, &recycled);
	printf("naive: read state %ld; generation %s\n", state, recycled ? "moved" : "unchanged");
	check(state == 7 && recycled, "naive: the generation check sees another device's state");

	recycled = false;
	state = reader_meets_a_recycled_device(lookup_ts_try, &recycled);
	printf("fix: %s\n", state == -1 ? "turned away" : "read a device");
	check(state == -1, "fix: lookup_ts_try refuses the recycled device");
	trcu_unregister_thread();

	state = reader_takes_a_device_reinserted_under_its_key();
	check(state == 43, "fix: a device reinserted under the same key is read through the key's "
	      "acquire");
	printf("%s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
