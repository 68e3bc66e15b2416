/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The look-up lab: a driver's table of devices, read under RCU. The hot path looks its device up
 * and takes a reference inside a read-side section, leaves the section, and uses the device;
 * teardown unpublishes it and drops the table's reference; the last put frees it with trcu_call.
 * Naive: the reference is taken with a plain increment, without the not-zero check.
 * Type-stable: the last put frees at once into a cache that reuses the memory for the next
 * device; the reader checks the identity of what it got a reference to.
 */
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/lookup/lookup.h"
#include "patterns/lookup/lookup_typesafe.h"
#include "scenario/scenario.h"

#define LOOKUP_KEY 2	/* the device the hot path looks up, and teardown removes */
#define PREEMPTED_BOUND_MS 3000

/*
 * The race binary's scheduling points (lookup.h). window_before_get: the forced schedule stops
 * the reader between finding the device and taking its reference, instead of after.
 */
static struct {
	atomic_bool window_before_get;
	atomic_ulong queued, freed;	/* relaxed: no happens-before edge for the reader's wait */
} race;

void lookup_race_found(void)
{
	if (!atomic_load_explicit(&race.window_before_get, memory_order_relaxed))
		return;
	SCENARIO_NOTE("found the device; about to take a reference");
	SCENARIO_READER_WINDOW();
}

void lookup_race_queued(void)
{
	atomic_fetch_add_explicit(&race.queued, 1, memory_order_relaxed);
}

void lookup_race_freed(void)
{
	atomic_fetch_add_explicit(&race.freed, 1, memory_order_relaxed);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * The reader holds a reference and has left its section, so it may be preempted for as long as
 * the scheduler likes: here, until every free queued so far has run (a grace period and its
 * callbacks), or a bound. Relaxed polling, as a preemption is no happens-before edge.
 */
static void preempted_for_a_grace_period(void)
{
	unsigned long queued = atomic_load_explicit(&race.queued, memory_order_relaxed);
	struct timespec start;

	if (atomic_load_explicit(&race.freed, memory_order_relaxed) >= queued)
		return;
	SCENARIO_NOTE("holds a reference, preempted: a grace period passes");
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_load_explicit(&race.freed, memory_order_relaxed) < queued &&
	       ms_since(&start) < PREEMPTED_BOUND_MS)
		sched_yield();
}

static void *table_create_common(struct device *dev, bool window_before_get)
{
	struct lookup_table *t = teardown_malloc("lookup", sizeof(*t));

	atomic_store(&race.window_before_get, window_before_get);
	lookup_table_init(t);
	lookup_insert(t, lookup_dev_new(LOOKUP_KEY, dev));
	return t;
}

static void *table_create(struct device *dev)
{
	return table_create_common(dev, false);
}

static void *table_create_window_before_get(struct device *dev)
{
	return table_create_common(dev, true);
}

static void table_destroy(void *reg)
{
	lookup_table_destroy(reg);	/* trcu_barrier: every queued free has run */
	free(reg);
}

static void reader_start(void *reg)
{
	(void)reg;
	trcu_register_thread();
}

static void reader_stop(void *reg)
{
	(void)reg;
	trcu_unregister_thread();
}

/* The hot path's local variable, which the one-callback scenario cannot carry to exit. */
static _Thread_local struct lookup_dev *held;

/* quote: naive_get */
/* Naive: the same look-up, with refcount_inc() where refcount_inc_not_zero() belongs. */
static struct lookup_dev *naive_get(struct lookup_table *t, int key)
{
	struct lookup_dev *d;

	trcu_read_lock();
	d = trcu_dereference(t->slot[key]);
	if (d) {
		LOOKUP_FOUND();
		/* relaxed, as refcount_inc(): no check, so a count of 0 becomes 1 */
		atomic_fetch_add_explicit(&d->ref.refcount, 1, memory_order_relaxed);
		SCENARIO_NOTE("refcount_inc: takes a reference, whatever the count was");
	}
	trcu_read_unlock();
	return d;
}
/* end quote: naive_get */

static struct device *hold(struct lookup_dev *d)
{
	if (!d)
		return NULL;
	held = d;
	preempted_for_a_grace_period();
	return lookup_device(d);
}

static struct device *naive_enter(struct lookup_table *t)
{
	return hold(naive_get(t, LOOKUP_KEY));
}

static struct device *lookup_enter(struct lookup_table *t)
{
	return hold(lookup_get(t, LOOKUP_KEY));
}

static void lookup_exit(struct lookup_table *t, struct device *dev)
{
	(void)t, (void)dev;
	lookup_put(held);
}

SCENARIO_DEFINE_CALLBACK(naive_callback, struct lookup_table, naive_enter, lookup_exit)
SCENARIO_DEFINE_CALLBACK(lookup_callback, struct lookup_table, lookup_enter, lookup_exit)

/* quote: teardown */
static void lookup_teardown(void *reg)
{
	lookup_remove(reg, LOOKUP_KEY);	/* unpublish, then put: the last put queues the free */
}
/* end quote: teardown */

/* Type-stable memory: the device's memory is reused for the next device at once. */
#define LOOKUP_OTHER_KEY 3	/* the device the driver attaches next, in the same memory */

static void *ts_create(struct device *dev)
{
	struct lookup_ts_table *t = teardown_malloc("lookup", sizeof(*t));

	atomic_store(&race.window_before_get, true);
	lookup_ts_table_init(t);
	lookup_ts_insert(t, LOOKUP_KEY, dev);
	return t;
}

static void ts_destroy(void *reg)
{
	lookup_ts_remove(reg, LOOKUP_OTHER_KEY);
	lookup_ts_table_destroy(reg);	/* a grace period, then the cache's memory */
	free(reg);
}

static _Thread_local struct lookup_ts_dev *ts_held;

static struct device *ts_enter(struct lookup_ts_table *t)
{
	struct lookup_ts_dev *d = lookup_ts_get(t, LOOKUP_KEY);

	if (!d)
		return NULL;
	ts_held = d;
	return lookup_ts_device(d);
}

static void ts_exit(struct lookup_ts_table *t, struct device *dev)
{
	(void)t, (void)dev;
	lookup_ts_put(ts_held);
}

SCENARIO_DEFINE_CALLBACK(ts_callback, struct lookup_ts_table, ts_enter, ts_exit)

/* quote: ts_teardown */
static void ts_teardown(void *reg)
{
	lookup_ts_remove(reg, LOOKUP_KEY);	/* the last put frees: no grace period */
	SCENARIO_NOTE("the driver attaches device %d; the cache hands it the same memory",
		      LOOKUP_OTHER_KEY);
	lookup_ts_insert(reg, LOOKUP_OTHER_KEY, device_new(LOOKUP_OTHER_KEY));
}
/* end quote: ts_teardown */

static const struct scenario_variant lookup_variants[] = {
	{
		.name = "naive",
		.story = "the look-up takes its reference with refcount_inc, no not-zero check: "
			 "it revives a device whose free is queued",
		.expect = "heap-use-after-free",
		.create = table_create_window_before_get,
		.reader_start = reader_start,
		.reader_stop = reader_stop,
		.callback = naive_callback,
		.teardown = lookup_teardown,
		.destroy = table_destroy,
	},
	{
		.name = "get_unless_zero",
		.story = "trcu_read_lock, look up, get_unless_zero, trcu_read_unlock; teardown's "
			 "put comes between the look-up and the get",
		.create = table_create_window_before_get,
		.reader_start = reader_start,
		.reader_stop = reader_stop,
		.callback = lookup_callback,
		.teardown = lookup_teardown,
		.destroy = table_destroy,
	},
	{
		.name = "get_unless_zero_holding",
		.story = "the same, with teardown's put after the reader took its reference: "
			 "the reader's put is the last, and frees through trcu_call",
		.create = table_create,
		.reader_start = reader_start,
		.reader_stop = reader_stop,
		.callback = lookup_callback,
		.teardown = lookup_teardown,
		.destroy = table_destroy,
	},
	{
		.name = "typesafe",
		.story = "type-stable memory (SLAB_TYPESAFE_BY_RCU): the device is freed at once "
			 "and its memory reused for the next; the reader re-checks the key",
		.create = ts_create,
		.reader_start = reader_start,
		.reader_stop = reader_stop,
		.callback = ts_callback,
		.teardown = ts_teardown,
		.destroy = ts_destroy,
	},
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "lookup",
	.source_case = "Linux rcuref.rst: rcu_read_lock, look up, refcount_inc_not_zero, "
		       "rcu_read_unlock; the last put frees with call_rcu",
	.variants = lookup_variants,
	.n_variants = TEARDOWN_ARRAY_SIZE(lookup_variants),
	.uses_membarrier = trcu_uses_membarrier,
};
