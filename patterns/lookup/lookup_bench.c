/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The look-up idiom's hot path: trcu_read_lock, find the device, get_unless_zero,
 * trcu_read_unlock; read one field; put. What a kernel pays for rcu_read_lock + lookup +
 * refcount_inc_not_zero + refcount_dec: two atomic RMWs on the device's count, which every
 * thread that looks the same device up writes (compare "rundown/kref (lookup under a lock)").
 */
#include <stdlib.h>

#include "bench/scenario_bench.h"
#include "patterns/lookup/lookup.h"

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
}
