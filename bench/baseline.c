/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The floor every pattern is compared with: the hot path with no protection at all. Its two
 * loops are both the "baseline/unprotected" rows and the loops every hot-path row is paired
 * with, repetition by repetition (bench_register_baseline): one piece of code, so a ratio cannot
 * be taken against something else than the row it names.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "bench/scenario_bench.h"

static _Atomic(struct device *) baseline_slot;

/* Relaxed: no ordering at all, but the compiler must reload the pointer every iteration. */
#define BASELINE_ENTER(slot) atomic_load_explicit(slot, memory_order_relaxed)
#define BASELINE_EXIT(slot, dev) ((void)0)

/* noinline: one copy of each loop, called by the row and by every pairing alike. */
static __attribute__((noinline)) void baseline_run(uint64_t n)
{
	SCENARIO_BENCH_RUN(n, &baseline_slot, BASELINE_ENTER, BASELINE_EXIT,
			   SCENARIO_BENCH_NO_WORK);
}

static __attribute__((noinline)) void baseline_run_work(uint64_t n)
{
	SCENARIO_BENCH_RUN(n, &baseline_slot, BASELINE_ENTER, BASELINE_EXIT, scenario_bench_work);
}

/* The device lives as long as the process: every hot-path row's pairing reads it. */
static void baseline_unpublish(void)
{
	device_free(atomic_exchange(&baseline_slot, NULL));
}

BENCH_REGISTRATION(baseline_register)
{
	atomic_store(&baseline_slot, device_new(1));
	atexit(baseline_unpublish);
	bench_register_baseline("baseline/unprotected", baseline_run, baseline_run_work);
}
