/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The look-up idiom's contract: a look-up returns the published device with a reference, or
 * NULL; a dying device (count zero) is never revived; a reader inside its section keeps the
 * memory of a device whose last reference is gone; and the misuse checks. Deterministic: the
 * concurrent test bounds counts, not times.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>

#include "patterns/lookup/lookup.h"
#include "patterns/lookup/lookup_typesafe.h"
#include "tests/misuse.h"

static struct lookup_table table;

static void table_setup(void)
{
	trcu_register_thread();
	lookup_table_init(&table);
}

static void table_teardown(void)
{
	for (int key = 0; key < LOOKUP_SLOTS; key++)
		lookup_remove(&table, key);
	lookup_table_destroy(&table);
	trcu_unregister_thread();
}

TestSuite(lookup, .init = table_setup, .fini = table_teardown);

Test(lookup, get_returns_the_published_device_with_a_reference)
{
	struct device *dev = device_new(7);
	struct lookup_dev *d;

	cr_assert_null(lookup_get(&table, 3), "nothing is published yet");
	lookup_insert(&table, lookup_dev_new(3, dev));
	d = lookup_get(&table, 3);
	cr_assert_not_null(d);
	cr_assert_eq(lookup_device(d), dev);
	cr_assert_eq(rundown_kref_read(&d->ref), 2, "the table's reference and ours");
	lookup_put(d);
	cr_assert_eq(rundown_kref_read(&d->ref), 1, "the table's reference only");
	cr_assert_null(lookup_get(&table, 4), "another key finds nothing");
}

Test(lookup, remove_unpublishes_and_a_holder_keeps_the_device)
{
	struct lookup_dev *d;

	lookup_insert(&table, lookup_dev_new(1, device_new(11)));
	d = lookup_get(&table, 1);
	cr_assert(lookup_remove(&table, 1));
	cr_assert_not(lookup_remove(&table, 1), "a second remove finds nothing");
	cr_assert_null(lookup_get(&table, 1), "a removed device must not be found");
	cr_assert_eq(rundown_kref_read(&d->ref), 1, "the holder's reference is left");
	cr_assert_eq(device_read_state(lookup_device(d)), 11, "the holder still uses it");
	lookup_put(d);	/* the last: queues the free */
	trcu_barrier();	/* and it has run (AddressSanitizer would see a use after this) */
}

/*
 * A reader that found the device inside its section, where the last put runs before its get:
 * the memory is still there (the free waits for a grace period) and the get refuses it.
 */
Test(lookup, a_dying_device_is_not_revived_and_its_memory_outlives_the_section)
{
	struct lookup_dev *d;

	lookup_insert(&table, lookup_dev_new(5, device_new(55)));
	trcu_read_lock();
	d = trcu_dereference(table.slot[5]);
	cr_assert(lookup_remove(&table, 5), "the last put, while this section holds d");
	cr_assert_eq(rundown_kref_read(&d->ref), 0, "count zero: the free is queued");
	cr_assert_eq(d->key, 5, "d's memory outlives the section that found it");
	cr_assert_not(rundown_kref_get_unless_zero(&d->ref), "a dying device is not revived");
	cr_assert_null(lookup_get(&table, 5), "nested look-up: nothing is published");
	trcu_read_unlock();
	trcu_barrier();
}

#define LOOKUP_READERS 3
#define LOOKUP_CYCLES 2000

static atomic_bool readers_stop;

static void *reader_loop(void *arg)
{
	unsigned long *served = arg;

	trcu_register_thread();
	while (!atomic_load_explicit(&readers_stop, memory_order_relaxed)) {
		struct lookup_dev *d = lookup_get(&table, 0);

		if (!d)
			continue;
		/*
		 * Every device published under key 0 has state 100, a freed and reallocated one too:
		 * a use after free here is for the sanitizer builds to report, not for this check.
		 */
		if (device_read_state(lookup_device(d)) != 100)
			abort();
		lookup_put(d);
		(*served)++;
	}
	trcu_unregister_thread();
	return NULL;
}

Test(lookup, readers_against_remove_and_reinsert)
{
	pthread_t t[LOOKUP_READERS];
	unsigned long served[LOOKUP_READERS] = { 0 };

	atomic_store(&readers_stop, false);
	lookup_insert(&table, lookup_dev_new(0, device_new(100)));
	for (int i = 0; i < LOOKUP_READERS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, reader_loop, &served[i]), 0);
	for (int cycle = 0; cycle < LOOKUP_CYCLES; cycle++) {
		cr_assert(lookup_remove(&table, 0));
		lookup_insert(&table, lookup_dev_new(0, device_new(100)));
		if (cycle % 256 == 255)
			trcu_barrier();	/* bound the queue of frees */
	}
	atomic_store(&readers_stop, true);
	for (int i = 0; i < LOOKUP_READERS; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
}

/* ---- Misuse ---- */

#define ASSERT_MISUSE(fn, arg, message) \
	do { \
		char err_[512]; \
		cr_assert(misuse_aborts_with(fn, arg, message, err_, sizeof(err_)), "stderr: %s", \
			  err_); \
	} while (0)

static void get_bad_key(void *arg)
{
	(void)arg;
	lookup_get(&table, LOOKUP_SLOTS);
}

Test(lookup, misuse_key_outside_the_table_aborts)
{
	ASSERT_MISUSE(get_bad_key, NULL, "lookup: misuse: lookup_get: key 8 outside the table "
		      "(0 to 7)");
}

static void insert_twice(void *arg)
{
	(void)arg;
	lookup_insert(&table, lookup_dev_new(2, device_new(1)));
	lookup_insert(&table, lookup_dev_new(2, device_new(2)));
}

Test(lookup, misuse_insert_into_a_taken_slot_aborts)
{
	ASSERT_MISUSE(insert_twice, NULL, "lookup: misuse: lookup_insert: key 2 already holds a "
		      "device");
}

/* The section keeps the memory valid, so the check can see the count the last put left. */
static void use_after_last_put(void *arg)
{
	struct lookup_dev *d;

	(void)arg;
	lookup_insert(&table, lookup_dev_new(6, device_new(6)));
	trcu_read_lock();
	d = lookup_get(&table, 6);
	lookup_remove(&table, 6);
	lookup_put(d);	/* the last */
	lookup_device(d);
}

Test(lookup, misuse_use_after_the_last_put_aborts)
{
	ASSERT_MISUSE(use_after_last_put, NULL, "lookup: misuse: lookup_device on device 6 with "
		      "no reference left (used after its last lookup_put)");
}

static void put_without_reference(void *arg)
{
	struct lookup_dev *d;

	(void)arg;
	lookup_insert(&table, lookup_dev_new(4, device_new(4)));
	trcu_read_lock();
	d = trcu_dereference(table.slot[4]);
	lookup_remove(&table, 4);
	lookup_put(d);	/* no look-up gave us this one */
}

Test(lookup, misuse_put_without_a_reference_aborts)
{
	ASSERT_MISUSE(put_without_reference, NULL, "rundown: misuse: rundown_kref_put on a zero "
		      "count (a put without a matching get)");
}

static void destroy_published(void *arg)
{
	(void)arg;
	lookup_insert(&table, lookup_dev_new(1, device_new(1)));
	lookup_table_destroy(&table);
}

Test(lookup, misuse_destroy_with_a_published_device_aborts)
{
	ASSERT_MISUSE(destroy_published, NULL, "lookup: misuse: lookup_table_destroy with key 1 "
		      "still published (lookup_remove it first)");
}

/* ---- Type-stable memory ---- */

Test(lookup_ts, the_cache_reuses_memory_and_a_get_checks_identity)
{
	struct lookup_ts_table t;
	struct lookup_ts_dev *d, *e;

	trcu_register_thread();
	lookup_ts_table_init(&t);
	d = lookup_ts_insert(&t, 1, device_new(10));
	e = lookup_ts_get(&t, 1);
	cr_assert_eq(e, d);
	cr_assert_eq(device_read_state(lookup_ts_device(e)), 10);
	lookup_ts_put(e);
	cr_assert(lookup_ts_remove(&t, 1));
	cr_assert_eq(rundown_kref_read(&d->ref), 0, "freed at the last put: count 0 in the cache");
	cr_assert_not(lookup_ts_try(d, 1), "a free device is not revived");
	cr_assert_eq(lookup_ts_insert(&t, 2, device_new(20)), d, "the memory is reused at once");
	cr_assert_not(lookup_ts_try(d, 1), "the memory holds device 2 now, not device 1");
	cr_assert_eq(rundown_kref_read(&d->ref), 1, "a refused identity puts its reference back");
	cr_assert_null(lookup_ts_get(&t, 1));
	cr_assert(lookup_ts_remove(&t, 2));
	lookup_ts_table_destroy(&t);
	trcu_unregister_thread();
}

static struct lookup_ts_table ts_table;

static void ts_use_after_last_put(void *arg)
{
	struct lookup_ts_dev *d;

	(void)arg;
	trcu_register_thread();
	lookup_ts_table_init(&ts_table);
	lookup_ts_insert(&ts_table, 6, device_new(6));
	d = lookup_ts_get(&ts_table, 6);
	lookup_ts_remove(&ts_table, 6);
	lookup_ts_put(d);	/* the last: the memory is back in the cache */
	lookup_ts_device(d);
}

Test(lookup_ts, misuse_use_after_the_last_put_aborts)
{
	ASSERT_MISUSE(ts_use_after_last_put, NULL, "lookup: misuse: lookup_ts_device on device 6 "
		      "with no reference left (used after its last lookup_ts_put)");
}

static void ts_destroy_published(void *arg)
{
	(void)arg;
	lookup_ts_table_init(&ts_table);
	lookup_ts_insert(&ts_table, 1, device_new(1));
	lookup_ts_table_destroy(&ts_table);
}

Test(lookup_ts, misuse_destroy_with_a_published_device_aborts)
{
	ASSERT_MISUSE(ts_destroy_published, NULL, "lookup: misuse: lookup_ts_table_destroy with "
		      "key 1 still published (lookup_ts_remove it first)");
}

/* Removed, not yet put: the holder's put would touch memory that destroy gave back. */
static void ts_destroy_referenced(void *arg)
{
	(void)arg;
	trcu_register_thread();
	lookup_ts_table_init(&ts_table);
	lookup_ts_insert(&ts_table, 3, device_new(3));
	lookup_ts_get(&ts_table, 3);	/* held */
	lookup_ts_remove(&ts_table, 3);
	lookup_ts_table_destroy(&ts_table);
}

Test(lookup_ts, misuse_destroy_with_a_device_still_referenced_aborts)
{
	ASSERT_MISUSE(ts_destroy_referenced, NULL, "lookup: misuse: lookup_ts_table_destroy with "
		      "device 3 still referenced (lookup_ts_put it first)");
}

static void ts_insert_twice(void *arg)
{
	(void)arg;
	lookup_ts_table_init(&ts_table);
	lookup_ts_insert(&ts_table, 2, device_new(1));
	lookup_ts_insert(&ts_table, 2, device_new(2));
}

Test(lookup_ts, misuse_insert_into_a_taken_slot_aborts)
{
	ASSERT_MISUSE(ts_insert_twice, NULL, "lookup: misuse: lookup_ts_insert: key 2 already "
		      "holds a device");
}
