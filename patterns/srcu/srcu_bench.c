/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The read side of tsrcu: load the index, add to this thread's shard's lock count, read the
 * pointer and one field, add to the unlock count, check for a sleeping writer. srcu/read_lock
 * pairs the reader's compiler barrier with the writer's membarrier; srcu/read_lock_fenced
 * makes the reader pay a full fence itself (the mode without membarrier). Set it beside
 * rcu/memb_read (trcu_read_lock) in //bench:compare: what a section that may sleep costs.
 */
#include <stdatomic.h>

#include "bench/scenario_bench.h"
#include "patterns/common/compiler.h"
#include "patterns/srcu/tsrcu.h"
#include "scenario/device.h"

static struct tsrcu_domain bench_domain;
static _Atomic(struct device *) bench_slot;
static bool bench_saved_membarrier;

struct bench_reader {
	struct tsrcu_domain *d;
	int idx;
};

/* quote: bench_enter */
static inline struct device *srcu_bench_enter(struct bench_reader *r)
{
	r->idx = tsrcu_read_lock(r->d);
	return tsrcu_dereference(bench_slot);
}
#define SRCU_BENCH_EXIT(r, dev) tsrcu_read_unlock((r)->d, (r)->idx)
/* end quote: bench_enter */

static void publish(const bench_state *s)
{
	static bool ready;

	(void)s;
	if (!ready) {
		tsrcu_domain_init(&bench_domain);
		ready = true;
	}
	atomic_store_explicit(&bench_slot, device_new(1), memory_order_release);
}

static void unpublish(const bench_state *s)
{
	struct device *dev = atomic_exchange(&bench_slot, NULL);

	(void)s;
	tsrcu_synchronize(&bench_domain);
	device_free(dev);
}

static void publish_fenced(const bench_state *s)
{
	publish(s);
	bench_saved_membarrier = tsrcu_membarrier;
	tsrcu_membarrier = false;	/* no grace period runs in this row */
}

static void unpublish_fenced(const bench_state *s)
{
	tsrcu_membarrier = bench_saved_membarrier;
	unpublish(s);
}

static void bm_read_lock(bench_state *s)
{
	struct bench_reader r = { .d = &bench_domain };

	SCENARIO_BENCH_LOOP(s, &r, srcu_bench_enter, SRCU_BENCH_EXIT);
}

BENCH_REGISTRATION(srcu_register_benchmarks)
{
	bench_teardown(bench_setup(scenario_bench_register("srcu/read_lock", bm_read_lock),
				   publish),
		       unpublish);
	bench_teardown(bench_setup(scenario_bench_register("srcu/read_lock_fenced",
							   bm_read_lock),
				   publish_fenced),
		       unpublish_fenced);
}
