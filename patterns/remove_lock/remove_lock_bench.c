/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The remove lock's hot path: acquire + release alone, and an IRP's round trip through the
 * two-layer stack with no lock, one acquisition (unsafe) and two (the fix). The round trips use
 * BENCH_LOOP directly: the device is used inside the lower dispatch routine, not after an enter.
 */
#include <stdlib.h>

#include "bench/scenario_bench.h"
#include "patterns/common/die.h"
#include "patterns/remove_lock/device_stack.h"

static struct devstack *bench_stack;

static void stack_setup(const bench_state *s)
{
	(void)s;
	bench_stack = teardown_malloc("remove_lock", sizeof(*bench_stack));
	devstack_init(bench_stack, device_new(1));
}

static void stack_teardown(const bench_state *s)
{
	(void)s;
	devstack_upper_remove_device(bench_stack);
	free(bench_stack);
}

static inline struct device *lock_enter(struct devstack *s)
{
	if (remove_lock_acquire(&s->upper.remove_lock, s) != REMOVE_LOCK_SUCCESS)
		return NULL;
	return s->lower.extension;
}

static inline void lock_exit(struct devstack *s, struct device *dev)
{
	(void)dev;
	remove_lock_release(&s->upper.remove_lock, s);
}

static void bm_acquire_release(bench_state *s)
{
	SCENARIO_BENCH_LOOP(s, bench_stack, lock_enter, lock_exit);
}

static void bm_irp_no_lock(bench_state *s)
{
	BENCH_LOOP(s)
		bench_sink(devstack_request_unlocked(bench_stack));
}

static void bm_irp_single_acquire(bench_state *s)
{
	BENCH_LOOP(s)
		bench_sink(devstack_request_single(bench_stack));
}

static void bm_irp_double_acquire(bench_state *s)
{
	BENCH_LOOP(s)
		bench_sink(devstack_request_double(bench_stack));
}

static bench *stacked(bench *b)
{
	return bench_teardown(bench_setup(b, stack_setup), stack_teardown);
}

BENCH_REGISTRATION(remove_lock_register)
{
	stacked(scenario_bench_register("remove_lock/acquire_release", bm_acquire_release));
	/* The device is used inside the lower dispatch routine: no section to put work in. */
	stacked(scenario_bench_register_no_work("remove_lock/irp_no_lock (unsafe)",
						bm_irp_no_lock));
	stacked(scenario_bench_register_no_work("remove_lock/irp_single_acquire (unsafe)",
						bm_irp_single_acquire));
	stacked(scenario_bench_register_no_work("remove_lock/irp_double_acquire",
						bm_irp_double_acquire));
}
