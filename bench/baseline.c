/* SPDX-License-Identifier: BSD-2-Clause */
/* The floor every pattern is compared with: the hot path with no protection at all. */
#include <stdatomic.h>

#include "bench/scenario_bench.h"

static _Atomic(struct device *) baseline_slot;

/* Relaxed: no ordering at all, but the compiler must reload the pointer every iteration. */
#define BASELINE_ENTER(slot) atomic_load_explicit(slot, memory_order_relaxed)
#define BASELINE_EXIT(slot, dev) ((void)0)

static void baseline_setup(const bench_state *s)
{
	(void)s;
	atomic_store(&baseline_slot, device_new(1));
}

static void baseline_teardown(const bench_state *s)
{
	(void)s;
	device_free(atomic_exchange(&baseline_slot, NULL));
}

static void bm_unprotected(bench_state *s)
{
	SCENARIO_BENCH_LOOP(s, &baseline_slot, BASELINE_ENTER, BASELINE_EXIT);
}

BENCH_REGISTRATION(baseline_register)
{
	bench *b = scenario_bench_register("baseline/unprotected", bm_unprotected);

	bench_teardown(bench_setup(b, baseline_setup), baseline_teardown);
}
