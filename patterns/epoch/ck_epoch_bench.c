/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Concurrency Kit's ck_epoch, measured exactly as epoch_bench.c: ck_epoch_begin/ck_epoch_end on
 * a registered record (no section object), and ck_epoch_synchronize with one reader running;
 * and ck_epoch_synchronize against tepoch_synchronize in alternating rounds, for a paired ratio.
 * ck records cannot be freed once registered, so they are static and registered once: the
 * reader's at the first set-up, a benchmark thread's the first time its thread index runs (so
 * ck_epoch_synchronize scans the records of the threads that have run, not the sweep's cap).
 */
#include "patterns/epoch/epoch_bench.h"

#include <ck_epoch.h>
#include <stdlib.h>
#include <time.h>

#include "patterns/epoch/tepoch.h"

static ck_epoch_t ck_domain;
#define CK_READER SCENARIO_BENCH_MAX_THREADS
static ck_epoch_record_t ck_records[SCENARIO_BENCH_MAX_THREADS + 1];	/* [thread index], reader */
static bool ck_ready, ck_record_ready[SCENARIO_BENCH_MAX_THREADS];
static void *ck_slot;

/* Thread i's record, registered the first time: only thread i (or the writer, 0) touches it. */
static ck_epoch_record_t *ck_record(int i)
{
	if (!ck_record_ready[i]) {
		ck_epoch_register(&ck_domain, &ck_records[i], NULL);
		ck_record_ready[i] = true;
	}
	return &ck_records[i];
}

/* quote: ck_bench_enter */
#define CK_BENCH_ENTER(rec) (ck_epoch_begin(rec, NULL), (struct device *)ck_pr_load_ptr(&ck_slot))
#define CK_BENCH_EXIT(rec, dev) ck_epoch_end(rec, NULL)
/* end quote: ck_bench_enter */

static void publish(const bench_state *s)
{
	(void)s;
	if (!ck_ready) {
		ck_epoch_init(&ck_domain);
		ck_epoch_register(&ck_domain, &ck_records[CK_READER], NULL);
		ck_ready = true;
	}
	ck_pr_store_ptr(&ck_slot, device_new(1));
	ck_pr_fence_store();
}

static void unpublish(const bench_state *s)
{
	(void)s;
	device_free(ck_pr_fas_ptr(&ck_slot, NULL));
}

static void bm_ck_begin_end(bench_state *s)
{
	ck_epoch_record_t *rec = ck_record(bench_thread_index(s));

	SCENARIO_BENCH_LOOP(s, rec, CK_BENCH_ENTER, CK_BENCH_EXIT);
}

static struct bench_reader reader;

static void *reader_loop(void *arg)
{
	struct bench_reader *r = arg;
	ck_epoch_record_t *rec = &ck_records[CK_READER];

	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		struct device *dev = CK_BENCH_ENTER(rec);

		bench_sink(dev->state);
		CK_BENCH_EXIT(rec, dev);
	}
	return NULL;
}

static void bm_ck_synchronize(bench_state *s)
{
	ck_epoch_record_t *rec = ck_record(0);

	bench_reader_start(&reader, reader_loop, NULL);
	BENCH_LOOP(s)
		ck_epoch_synchronize(rec);
	bench_reader_stop(&reader);
}

/*
 * The two writers paired: one reader thread runs ck's sections or tepoch's, as the writer says,
 * and the writer alternates rounds of PAIRED_ROUND ck_epoch_synchronize and tepoch_synchronize
 * calls. Each round's ratio (tepoch / ck) compares two figures taken moments apart, so the
 * machine's drift and the VM's placement of the two vCPUs, which move either writer's latency
 * by 2-4x from one run to the next, cancel. Counters: each writer's median ns per call over the
 * rounds, and the median (and quartiles) of the per-round ratio, x_ck. The argument picks
 * tepoch's mode: 0 with membarrier, 1 without (switched in set-up, as epoch_bench.c does).
 */
#define PAIRED_ROUND 200
#define PAIRED_MIN_ROUNDS 64	/* enough pairs for quartiles, however few iterations are asked */
enum { PAIRED_CK, PAIRED_TEPOCH };

static struct tepoch paired_domain;
static struct tepoch_record paired_writer, paired_reader;
static TEARDOWN_CACHE_ALIGNED _Atomic int paired_mode;	/* the writer's */
static TEARDOWN_CACHE_ALIGNED _Atomic int paired_ack;	/* the reader's: the mode it runs */
static struct bench_reader paired_thread;
static bool paired_saved_membarrier;

static void *paired_reader_loop(void *arg)
{
	struct bench_reader *r = arg;
	ck_epoch_record_t *ck = &ck_records[CK_READER];
	int seen = -1;

	tepoch_register(&paired_domain, &paired_reader);
	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		int mode = atomic_load_explicit(&paired_mode, memory_order_relaxed);
		struct device *dev;

		if (teardown_unlikely(mode != seen))	/* between sections: a clean switch */
			atomic_store_explicit(&paired_ack, seen = mode, memory_order_relaxed);
		if (mode == PAIRED_CK) {
			dev = CK_BENCH_ENTER(ck);
			bench_sink(dev->state);
			CK_BENCH_EXIT(ck, dev);
		} else {
			tepoch_enter(&paired_reader);
			dev = (struct device *)ck_pr_load_ptr(&ck_slot);
			bench_sink(dev->state);
			tepoch_exit(&paired_reader);
		}
	}
	tepoch_unregister(&paired_reader);
	return NULL;
}

static uint64_t paired_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* One round of one writer, once the reader runs that writer's sections: ns per call. */
static double paired_round(int mode, ck_epoch_record_t *ck)
{
	uint64_t t0;

	atomic_store_explicit(&paired_mode, mode, memory_order_relaxed);
	while (atomic_load_explicit(&paired_ack, memory_order_relaxed) != mode)
		teardown_cpu_relax();
	t0 = paired_now_ns();
	for (int i = 0; i < PAIRED_ROUND; i++) {
		if (mode == PAIRED_CK)
			ck_epoch_synchronize(ck);
		else
			tepoch_synchronize(&paired_writer);
	}
	return (double)(paired_now_ns() - t0) / PAIRED_ROUND;
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
	ck_epoch_record_t *ck = ck_record(0);
	size_t rounds;
	double *ck_ns, *t_ns, *ratio;
	unsigned long epoch;
	uint64_t fences;

	tepoch_init(&paired_domain);
	tepoch_register(&paired_domain, &paired_writer);
	atomic_store(&paired_mode, PAIRED_CK);
	atomic_store(&paired_ack, -1);
	bench_reader_start(&paired_thread, paired_reader_loop, NULL);
	epoch = tepoch_epoch(&paired_domain);
	fences = paired_domain.n_fences;	/* read with no advancer running */
	rounds = bench_loop_begin(s) / (2 * PAIRED_ROUND);
	if (rounds < PAIRED_MIN_ROUNDS)
		rounds = PAIRED_MIN_ROUNDS;
	ck_ns = teardown_calloc("epoch", 3 * rounds, sizeof(double));
	t_ns = ck_ns + rounds;
	ratio = t_ns + rounds;
	for (size_t k = 0; k < rounds; k++) {
		ck_ns[k] = paired_round(PAIRED_CK, ck);
		t_ns[k] = paired_round(PAIRED_TEPOCH, ck);
		ratio[k] = t_ns[k] / ck_ns[k];
	}
	bench_loop_end(s);
	bench_reader_stop(&paired_thread);
	/* Per tepoch_synchronize: epoch steps, and fences (or membarriers) of its advancer. */
	bench_counter(s, "tepoch_steps",
		      (double)(tepoch_epoch(&paired_domain) - epoch) / (rounds * PAIRED_ROUND),
		      BENCH_COUNTER_PLAIN);
	bench_counter(s, "tepoch_fences",
		      (double)(paired_domain.n_fences - fences) / (rounds * PAIRED_ROUND),
		      BENCH_COUNTER_PLAIN);
	tepoch_unregister(&paired_writer);
	tepoch_destroy(&paired_domain);
	qsort(ck_ns, rounds, sizeof(double), paired_cmp);
	qsort(t_ns, rounds, sizeof(double), paired_cmp);
	qsort(ratio, rounds, sizeof(double), paired_cmp);
	bench_counter(s, "ck_ns", paired_quantile(ck_ns, rounds, 0.5), BENCH_COUNTER_PLAIN);
	bench_counter(s, "tepoch_ns", paired_quantile(t_ns, rounds, 0.5), BENCH_COUNTER_PLAIN);
	bench_counter(s, "x_ck", paired_quantile(ratio, rounds, 0.5), BENCH_COUNTER_PLAIN);
	bench_counter(s, "x_ck_q1", paired_quantile(ratio, rounds, 0.25), BENCH_COUNTER_PLAIN);
	bench_counter(s, "x_ck_q3", paired_quantile(ratio, rounds, 0.75), BENCH_COUNTER_PLAIN);
	bench_counter(s, "rounds", (double)rounds, BENCH_COUNTER_PLAIN);
	bench_counter(s, "membarrier", tepoch_uses_membarrier(), BENCH_COUNTER_PLAIN);
	free(ck_ns);
}

static void publish_paired(const bench_state *s)
{
	publish(s);
	paired_saved_membarrier = tepoch_membarrier;
	if (bench_range(s, 0))	/* no record is registered here */
		tepoch_membarrier = false;
}

static void unpublish_paired(const bench_state *s)
{
	tepoch_membarrier = paired_saved_membarrier;
	unpublish(s);
}

BENCH_REGISTRATION(ck_epoch_bench_register)
{
	bench_teardown(bench_setup(scenario_bench_register("ck_epoch/begin_end", bm_ck_begin_end),
				   publish),
		       unpublish);
	bench_teardown(bench_setup(bench_use_real_time(bench_register("ck_epoch/synchronize",
								      bm_ck_synchronize)),
				   publish),
		       unpublish);
	bench_teardown(bench_setup(bench_use_real_time(bench_arg(bench_arg(bench_arg_name(
					   bench_register("ck_epoch/synchronize_paired",
							  bm_synchronize_paired),
					   "tepoch_fenced"), 0), 1)),
				   publish_paired),
		       unpublish_paired);
}
