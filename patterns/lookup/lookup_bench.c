/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The look-up idiom's hot path: trcu_read_lock, find the device, get_unless_zero,
 * trcu_read_unlock; read one field; put. What a kernel pays for rcu_read_lock + lookup +
 * refcount_inc_not_zero + refcount_dec: two atomic RMWs on the device's count, which every
 * thread that looks the same device up writes (compare "rundown/kref (lookup under a lock)").
 * And the type-stable variant, whose get adds an acquire fence and the identity check.
 */
#include <stdlib.h>

#include "bench/scenario_bench.h"
#include "patterns/lookup/lookup.h"
#include "patterns/lookup/lookup_typesafe.h"

#define LOOKUP_BENCH_KEY 1

static struct lookup_table lookup_bench_table;
static _Thread_local struct lookup_dev *lookup_bench_held;	/* the caller's local variable */

/* quote: bench_enter */
static inline struct device *lookup_bench_enter(struct lookup_table *t)
{
	struct lookup_dev *d = lookup_get(t, LOOKUP_BENCH_KEY);

	if (teardown_unlikely(!d))
		return NULL;
	lookup_bench_held = d;
	return d->dev;	/* the reference keeps it: no check on the way, as in a kernel */
}

#define LOOKUP_BENCH_EXIT(t, dev) lookup_put(lookup_bench_held)
/* end quote: bench_enter */

/* Type-stable memory: the same, plus the identity re-check after the get. */
static struct lookup_ts_table lookup_bench_ts_table;
static _Thread_local struct lookup_ts_dev *lookup_bench_ts_held;

static inline struct device *lookup_bench_ts_enter(struct lookup_ts_table *t)
{
	struct lookup_ts_dev *d = lookup_ts_get(t, LOOKUP_BENCH_KEY);

	if (teardown_unlikely(!d))
		return NULL;
	lookup_bench_ts_held = d;
	return atomic_load_explicit(&d->dev, memory_order_relaxed);
}

#define LOOKUP_BENCH_TS_EXIT(t, dev) lookup_ts_put(lookup_bench_ts_held)

static void publish(const bench_state *s)
{
	(void)s;
	lookup_table_init(&lookup_bench_table);
	lookup_insert(&lookup_bench_table, lookup_dev_new(LOOKUP_BENCH_KEY, device_new(1)));
}

static void unpublish(const bench_state *s)
{
	(void)s;
	lookup_remove(&lookup_bench_table, LOOKUP_BENCH_KEY);
	lookup_table_destroy(&lookup_bench_table);
}

static void ts_publish(const bench_state *s)
{
	(void)s;
	lookup_ts_table_init(&lookup_bench_ts_table);
	lookup_ts_insert(&lookup_bench_ts_table, LOOKUP_BENCH_KEY, device_new(1));
}

static void ts_unpublish(const bench_state *s)
{
	(void)s;
	lookup_ts_remove(&lookup_bench_ts_table, LOOKUP_BENCH_KEY);
	lookup_ts_table_destroy(&lookup_bench_ts_table);
}

static void bm_typesafe(bench_state *s)
{
	trcu_register_thread();
	SCENARIO_BENCH_LOOP(s, &lookup_bench_ts_table, lookup_bench_ts_enter, LOOKUP_BENCH_TS_EXIT);
	trcu_unregister_thread();
}

static void bm_rcu_get_unless_zero(bench_state *s)
{
	trcu_register_thread();
	SCENARIO_BENCH_LOOP(s, &lookup_bench_table, lookup_bench_enter, LOOKUP_BENCH_EXIT);
	trcu_unregister_thread();
}

BENCH_REGISTRATION(lookup_bench_register)
{
	bench_teardown(bench_setup(scenario_bench_register("lookup/rcu_get_unless_zero",
							   bm_rcu_get_unless_zero),
				   publish),
		       unpublish);
	bench_teardown(bench_setup(scenario_bench_register("lookup/typesafe_recheck", bm_typesafe),
				   ts_publish),
		       ts_unpublish);
}
