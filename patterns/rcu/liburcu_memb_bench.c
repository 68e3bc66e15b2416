/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * liburcu urcu-memb, inline read side (_LGPL_SOURCE), measured exactly as rcu_bench.c; and
 * urcu_memb_synchronize_rcu against trcu_synchronize in alternating rounds, for a paired ratio.
 */
#define _LGPL_SOURCE
#include "patterns/rcu/rcu_bench.h"

#include <urcu/urcu-memb.h>

#include "patterns/rcu/trcu.h"

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

/*
 * The two writers paired: one reader thread, registered with both, runs urcu-memb's sections or
 * trcu's, as the writer says, and the writer alternates rounds of PAIRED_ROUND
 * urcu_memb_synchronize_rcu and trcu_synchronize calls. Each round's ratio (trcu / liburcu)
 * compares two figures taken moments apart, so the machine's drift cancels. Counters: each
 * writer's median ns per call over the rounds, and the median (and quartiles) of the per-round
 * ratio, x_liburcu.
 */
#define PAIRED_ROUND 20
#define PAIRED_MIN_ROUNDS 32
enum { PAIRED_LIBURCU, PAIRED_TRCU };

static TEARDOWN_CACHE_ALIGNED _Atomic int paired_mode;	/* the writer's */
static TEARDOWN_CACHE_ALIGNED _Atomic int paired_ack;	/* the reader's: the mode it runs */
static struct bench_reader paired_thread;

static void *paired_reader_loop(void *arg)
{
	struct bench_reader *r = arg;
	int seen = -1;

	urcu_memb_register_thread();
	trcu_register_thread();
	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		int mode = atomic_load_explicit(&paired_mode, memory_order_relaxed);
		struct device *dev;

		if (teardown_unlikely(mode != seen))	/* between sections: a clean switch */
			atomic_store_explicit(&paired_ack, seen = mode, memory_order_relaxed);
		if (mode == PAIRED_LIBURCU) {
			dev = MEMB_ENTER(&memb_slot);
			bench_sink(dev->state);
			MEMB_EXIT(&memb_slot, dev);
		} else {
			trcu_read_lock();
			dev = rcu_dereference(memb_slot);
			bench_sink(dev->state);
			trcu_read_unlock();
		}
	}
	trcu_unregister_thread();
	urcu_memb_unregister_thread();
	return NULL;
}

/* One round of one writer, once the reader runs that writer's sections: ns per call. */
static double paired_round(int mode)
{
	uint64_t t0;

	atomic_store_explicit(&paired_mode, mode, memory_order_relaxed);
	while (atomic_load_explicit(&paired_ack, memory_order_relaxed) != mode)
		teardown_cpu_relax();
	t0 = rcu_bench_now_ns();
	for (int i = 0; i < PAIRED_ROUND; i++) {
		if (mode == PAIRED_LIBURCU)
			urcu_memb_synchronize_rcu();
		else
			trcu_synchronize();
	}
	return (double)(rcu_bench_now_ns() - t0) / PAIRED_ROUND;
}

static int paired_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The value at fraction q of the sorted v[0..n). */
static double paired_quantile(double *v, size_t n, double q)
{
	return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

static void bm_synchronize_paired(bench_state *s)
{
	size_t rounds;
	double *lib_ns, *t_ns, *ratio;

	atomic_store(&paired_mode, PAIRED_LIBURCU);
	atomic_store(&paired_ack, -1);
	bench_reader_start(&paired_thread, paired_reader_loop, NULL);
	rounds = bench_loop_begin(s) / (2 * PAIRED_ROUND);
	if (rounds < PAIRED_MIN_ROUNDS)
		rounds = PAIRED_MIN_ROUNDS;
	lib_ns = teardown_calloc("rcu", 3 * rounds, sizeof(double));
	t_ns = lib_ns + rounds;
	ratio = t_ns + rounds;
	for (size_t k = 0; k < rounds; k++) {
		lib_ns[k] = paired_round(PAIRED_LIBURCU);
		t_ns[k] = paired_round(PAIRED_TRCU);
		ratio[k] = t_ns[k] / lib_ns[k];
	}
	bench_loop_end(s);
	bench_reader_stop(&paired_thread);
	qsort(lib_ns, rounds, sizeof(double), paired_cmp);
	qsort(t_ns, rounds, sizeof(double), paired_cmp);
	qsort(ratio, rounds, sizeof(double), paired_cmp);
	bench_counter(s, "liburcu_ns", paired_quantile(lib_ns, rounds, 0.5), BENCH_COUNTER_PLAIN);
	bench_counter(s, "trcu_ns", paired_quantile(t_ns, rounds, 0.5), BENCH_COUNTER_PLAIN);
	bench_counter(s, "x_liburcu", paired_quantile(ratio, rounds, 0.5), BENCH_COUNTER_PLAIN);
	bench_counter(s, "x_liburcu_q1", paired_quantile(ratio, rounds, 0.25),
		      BENCH_COUNTER_PLAIN);
	bench_counter(s, "x_liburcu_q3", paired_quantile(ratio, rounds, 0.75),
		      BENCH_COUNTER_PLAIN);
	bench_counter(s, "rounds", (double)rounds, BENCH_COUNTER_PLAIN);
	bench_counter(s, "membarrier", trcu_uses_membarrier(), BENCH_COUNTER_PLAIN);
	free(lib_ns);
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
	bench_teardown(bench_setup(bench_use_real_time(bench_register(
					   "liburcu/memb_synchronize_paired",
					   bm_synchronize_paired)),
				   publish),
		       unpublish);
}
