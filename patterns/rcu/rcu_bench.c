/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trcu's read side (general and QSBR) and its grace-period latency with one reader running. The
 * general flavour also in its mode without membarrier ("_fenced", TRCU_NO_MEMBARRIER=1): the
 * reader fences, and trcu_synchronize() fences instead of calling membarrier.
 */
#include "patterns/rcu/rcu_bench.h"

#include "patterns/rcu/trcu.h"
#include "patterns/rcu/trcu_qsbr.h"

static _Atomic(struct device *) trcu_bench_slot;

/* quote: bench_enter */
#define TRCU_MEMB_ENTER(slot) (trcu_read_lock(), trcu_dereference(*(slot)))
#define TRCU_MEMB_EXIT(slot, dev) trcu_read_unlock()
#define TRCU_QSBR_ENTER(slot) (trcu_qsbr_read_lock(), trcu_dereference(*(slot)))
#define TRCU_QSBR_EXIT(slot, dev) trcu_qsbr_read_unlock()
/* end quote: bench_enter */

static void publish(const bench_state *s)
{
	(void)s;
	trcu_assign_pointer(trcu_bench_slot, device_new(1));
}

static void unpublish(const bench_state *s)
{
	(void)s;
	device_free(atomic_exchange(&trcu_bench_slot, NULL));
}

static void bm_memb_read(bench_state *s)
{
	trcu_register_thread();
	SCENARIO_BENCH_LOOP(s, &trcu_bench_slot, TRCU_MEMB_ENTER, TRCU_MEMB_EXIT);
	trcu_unregister_thread();
}

static void bm_qsbr_read(bench_state *s)
{
	trcu_qsbr_register_thread();
	SCENARIO_BENCH_LOOP(s, &trcu_bench_slot, TRCU_QSBR_ENTER, TRCU_QSBR_EXIT);
	trcu_qsbr_unregister_thread();
}

static struct bench_reader reader;

static void *memb_reader(void *arg)
{
	struct bench_reader *r = arg;

	trcu_register_thread();
	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		struct device *dev = TRCU_MEMB_ENTER(&trcu_bench_slot);

		bench_sink(dev->state);
		TRCU_MEMB_EXIT(&trcu_bench_slot, dev);
	}
	trcu_unregister_thread();
	return NULL;
}

static void *qsbr_reader(void *arg)
{
	struct bench_reader *r = arg;

	trcu_qsbr_register_thread();
	bench_reader_running(r);
	for (unsigned i = 1; !bench_reader_should_stop(r); i++) {
		struct device *dev = TRCU_QSBR_ENTER(&trcu_bench_slot);

		bench_sink(dev->state);
		TRCU_QSBR_EXIT(&trcu_bench_slot, dev);
		if (i % TRCU_BENCH_QS_EVERY == 0)
			trcu_qsbr_quiescent_state();
	}
	trcu_qsbr_unregister_thread();
	return NULL;
}

static void bm_synchronize(bench_state *s)
{
	bench_reader_start(&reader, memb_reader, NULL);
	BENCH_LOOP(s)
		trcu_synchronize();
	bench_reader_stop(&reader);
	bench_counter(s, "membarrier", trcu_uses_membarrier(), BENCH_COUNTER_PLAIN);
}

/* quote: bench_stream */
static void *memb_stream_reader(void *arg)
{
	struct bench_reader *r = arg;
	uint64_t section_ns = rcu_bench_section_ns(r);

	trcu_register_thread();
	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		struct device *dev = TRCU_MEMB_ENTER(&trcu_bench_slot);

		rcu_bench_busy(section_ns);
		bench_sink(dev->state);
		TRCU_MEMB_EXIT(&trcu_bench_slot, dev);
	}
	trcu_unregister_thread();
	return NULL;
}

static void bm_synchronize_stream(bench_state *s)
{
	rcu_bench_synchronize_stream(s, &reader, memb_stream_reader, trcu_synchronize);
}
/* end quote: bench_stream */

static void bm_qsbr_synchronize(bench_state *s)
{
	bench_reader_start(&reader, qsbr_reader, NULL);
	BENCH_LOOP(s)
		trcu_qsbr_synchronize();
	bench_reader_stop(&reader);
}

static bench *published(bench *b)
{
	return bench_teardown(bench_setup(b, publish), unpublish);
}

/*
 * The fenced rows switch trcu to its mode without membarrier for their run, and back. The mode is
 * one flag for the process (trcu.h), read by every read-side call and by the writer, so it may
 * change only while no thread is registered: in set-up and teardown, before the benchmark's
 * threads start and after they end.
 */
static bool saved_membarrier;

static void publish_fenced(const bench_state *s)
{
	saved_membarrier = trcu_state.membarrier;
	trcu_state.membarrier = false;
	publish(s);
}

static void unpublish_fenced(const bench_state *s)
{
	unpublish(s);
	trcu_state.membarrier = saved_membarrier;
}

static bench *published_fenced(bench *b)
{
	return bench_teardown(bench_setup(b, publish_fenced), unpublish_fenced);
}

BENCH_REGISTRATION(trcu_bench_register)
{
	published(scenario_bench_register("rcu/memb_read", bm_memb_read));
	published(scenario_bench_register("rcu/qsbr_read", bm_qsbr_read));
	published(bench_use_real_time(bench_register("rcu/synchronize", bm_synchronize)));
	published(bench_use_real_time(bench_register("rcu/qsbr_synchronize", bm_qsbr_synchronize)));
	published(rcu_bench_stream_args(bench_register("rcu/synchronize_stream",
							bm_synchronize_stream)));
	published_fenced(scenario_bench_register("rcu/memb_read_fenced", bm_memb_read));
	published_fenced(bench_use_real_time(bench_register("rcu/synchronize_fenced",
							    bm_synchronize)));
}
