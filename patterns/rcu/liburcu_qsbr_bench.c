/* SPDX-License-Identifier: BSD-2-Clause */
/* liburcu urcu-qsbr, inline (_LGPL_SOURCE), measured exactly as rcu_bench.c. */
#define _LGPL_SOURCE
#include "patterns/rcu/rcu_bench.h"

#include <urcu/urcu-qsbr.h>

static struct device *qsbr_slot;

#define QSBR_ENTER(slot) (urcu_qsbr_read_lock(), rcu_dereference(*(slot)))
#define QSBR_EXIT(slot, dev) urcu_qsbr_read_unlock()

static void publish(const bench_state *s)
{
	(void)s;
	rcu_assign_pointer(qsbr_slot, device_new(1));
}

static void unpublish(const bench_state *s)
{
	(void)s;
	device_free(rcu_xchg_pointer(&qsbr_slot, NULL));
}

static void bm_read(bench_state *s)
{
	urcu_qsbr_register_thread();
	SCENARIO_BENCH_LOOP(s, &qsbr_slot, QSBR_ENTER, QSBR_EXIT);
	urcu_qsbr_unregister_thread();
}

static struct bench_reader reader;

static void *qsbr_reader(void *arg)
{
	struct bench_reader *r = arg;

	urcu_qsbr_register_thread();
	bench_reader_running(r);
	for (unsigned i = 1; !bench_reader_should_stop(r); i++) {
		struct device *dev = QSBR_ENTER(&qsbr_slot);

		bench_sink(dev->state);
		QSBR_EXIT(&qsbr_slot, dev);
		if (i % TRCU_BENCH_QS_EVERY == 0)
			urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}

static void bm_synchronize(bench_state *s)
{
	bench_reader_start(&reader, qsbr_reader, NULL);
	BENCH_LOOP(s)
		urcu_qsbr_synchronize_rcu();
	bench_reader_stop(&reader);
}

BENCH_REGISTRATION(liburcu_qsbr_bench_register)
{
	bench_teardown(bench_setup(scenario_bench_register("liburcu/qsbr_read", bm_read), publish),
		       unpublish);
	bench_teardown(bench_setup(bench_use_real_time(bench_register("liburcu/qsbr_synchronize",
								      bm_synchronize)),
				   publish),
		       unpublish);
}
