/* SPDX-License-Identifier: BSD-2-Clause */
/* liburcu urcu-memb, inline read side (_LGPL_SOURCE), measured exactly as rcu_bench.c. */
#define _LGPL_SOURCE
#include "patterns/rcu/rcu_bench.h"

#include <urcu/urcu-memb.h>

static struct device *memb_slot;

#define MEMB_ENTER(slot) (urcu_memb_read_lock(), rcu_dereference(*(slot)))
#define MEMB_EXIT(slot, dev) urcu_memb_read_unlock()

static void publish(const bench_state *s)
{
	(void)s;
	rcu_assign_pointer(memb_slot, device_new(1));
}

static void unpublish(const bench_state *s)
{
	(void)s;
	device_free(rcu_xchg_pointer(&memb_slot, NULL));
}

static void bm_read(bench_state *s)
{
	urcu_memb_register_thread();
	SCENARIO_BENCH_LOOP(s, &memb_slot, MEMB_ENTER, MEMB_EXIT);
	urcu_memb_unregister_thread();
}

static struct bench_reader reader;

static void *memb_reader(void *arg)
{
	struct bench_reader *r = arg;

	urcu_memb_register_thread();
	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		struct device *dev = MEMB_ENTER(&memb_slot);

		bench_sink(dev->state);
		MEMB_EXIT(&memb_slot, dev);
	}
	urcu_memb_unregister_thread();
	return NULL;
}

static void bm_synchronize(bench_state *s)
{
	bench_reader_start(&reader, memb_reader, NULL);
	BENCH_LOOP(s)
		urcu_memb_synchronize_rcu();
	bench_reader_stop(&reader);
}

static void *memb_stream_reader(void *arg)
{
	struct bench_reader *r = arg;
	uint64_t section_ns = rcu_bench_section_ns(r);

	urcu_memb_register_thread();
	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		struct device *dev = MEMB_ENTER(&memb_slot);

		rcu_bench_busy(section_ns);
		bench_sink(dev->state);
		MEMB_EXIT(&memb_slot, dev);
	}
	urcu_memb_unregister_thread();
	return NULL;
}

static void bm_synchronize_stream(bench_state *s)
{
	rcu_bench_synchronize_stream(s, &reader, memb_stream_reader, urcu_memb_synchronize_rcu);
}

BENCH_REGISTRATION(liburcu_memb_bench_register)
{
	bench_teardown(bench_setup(scenario_bench_register("liburcu/memb_read", bm_read), publish),
		       unpublish);
	bench_teardown(bench_setup(bench_use_real_time(bench_register("liburcu/memb_synchronize",
								      bm_synchronize)),
				   publish),
		       unpublish);
	bench_teardown(bench_setup(rcu_bench_stream_args(bench_register(
					   "liburcu/memb_synchronize_stream",
					   bm_synchronize_stream)),
				   publish),
		       unpublish);
}
