/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tepoch's enter/exit, and its synchronize latency with one reader running (ck_epoch_bench.c),
 * in both of its modes side by side: with membarrier (the reader's fence is a compiler barrier)
 * and "_fenced", the mode without membarrier (TEPOCH_NO_MEMBARRIER=1), where the reader fences
 * as ck_epoch_begin does and tepoch_synchronize may end at its first scan, as ck's does.
 */
#include "patterns/epoch/epoch_bench.h"

#include "patterns/epoch/tepoch.h"

static struct tepoch bench_domain;
static _Atomic(struct device *) bench_slot;
#define READER_RECORD SCENARIO_BENCH_MAX_THREADS
#define IDLE_RECORD (SCENARIO_BENCH_MAX_THREADS + 1)
static struct tepoch_record bench_records[SCENARIO_BENCH_MAX_THREADS + 2];	/* [thread index] */
static bool saved_membarrier;

/* quote: bench_enter */
#define TEPOCH_BENCH_ENTER(rec) \
	(tepoch_enter(rec), atomic_load_explicit(&bench_slot, memory_order_acquire))
#define TEPOCH_BENCH_EXIT(rec, dev) tepoch_exit(rec)
/* end quote: bench_enter */

static void publish(const bench_state *s)
{
	(void)s;
	tepoch_init(&bench_domain);
	atomic_store_explicit(&bench_slot, device_new(1), memory_order_release);
}

static void unpublish(const bench_state *s)
{
	(void)s;
	device_free(atomic_exchange(&bench_slot, NULL));
	tepoch_destroy(&bench_domain);
}

static void bm_tepoch_enter_exit(bench_state *s)
{
	struct tepoch_record *rec = &bench_records[bench_thread_index(s)];

	tepoch_register(&bench_domain, rec);
	SCENARIO_BENCH_LOOP(s, rec, TEPOCH_BENCH_ENTER, TEPOCH_BENCH_EXIT);
	tepoch_unregister(rec);
}

static struct bench_reader reader;

static void *reader_loop(void *arg)
{
	struct bench_reader *r = arg;
	struct tepoch_record *rec = &bench_records[READER_RECORD];

	tepoch_register(&bench_domain, rec);
	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		struct device *dev = TEPOCH_BENCH_ENTER(rec);

		bench_sink(dev->state);
		TEPOCH_BENCH_EXIT(rec, dev);
	}
	tepoch_unregister(rec);
	return NULL;
}

static void synchronize_with_reader(bench_state *s, bool idle_record)
{
	struct tepoch_record *rec = &bench_records[0];
	unsigned long epoch;
	uint64_t fences, scans;

	tepoch_register(&bench_domain, rec);
	if (idle_record)	/* registered, never entering: settled only by a fence */
		tepoch_register(&bench_domain, &bench_records[IDLE_RECORD]);
	bench_reader_start(&reader, reader_loop, NULL);
	epoch = tepoch_epoch(&bench_domain);
	fences = bench_domain.n_fences;	/* read with no advancer running */
	scans = bench_domain.n_scans;
	BENCH_LOOP(s)
		tepoch_synchronize(rec);
	bench_reader_stop(&reader);
	/* Per call, counts that do not drift with the machine's load: what the writer did. */
	bench_counter(s, "steps", (double)(tepoch_epoch(&bench_domain) - epoch),
		      BENCH_COUNTER_PER_ITERATION);
	bench_counter(s, "fences", (double)(bench_domain.n_fences - fences),
		      BENCH_COUNTER_PER_ITERATION);
	bench_counter(s, "scans", (double)(bench_domain.n_scans - scans),
		      BENCH_COUNTER_PER_ITERATION);
	if (idle_record)
		tepoch_unregister(&bench_records[IDLE_RECORD]);
	tepoch_unregister(rec);
	bench_counter(s, "membarrier", tepoch_uses_membarrier(), BENCH_COUNTER_PLAIN);
}

static void bm_tepoch_synchronize(bench_state *s)
{
	synchronize_with_reader(s, false);
}

static void bm_tepoch_synchronize_idle(bench_state *s)
{
	synchronize_with_reader(s, true);
}

/*
 * The fenced rows switch tepoch to its mode without membarrier for their run, and back. The mode
 * is one flag for the process (tepoch.h), read by every enter and exit and by the advancer, so
 * it may change only while no record is registered: in set-up and teardown, before the
 * benchmark's threads start and after they end, as tepoch_test.c does before its threads.
 */
static void publish_fenced(const bench_state *s)
{
	saved_membarrier = tepoch_membarrier;
	tepoch_membarrier = false;
	publish(s);
}

static void unpublish_fenced(const bench_state *s)
{
	unpublish(s);
	tepoch_membarrier = saved_membarrier;
}

static bench *published(bench *b)
{
	return bench_teardown(bench_setup(b, publish), unpublish);
}

static bench *published_fenced(bench *b)
{
	return bench_teardown(bench_setup(b, publish_fenced), unpublish_fenced);
}

BENCH_REGISTRATION(tepoch_bench_register)
{
	published(scenario_bench_register("epoch/enter_exit", bm_tepoch_enter_exit));
	published(bench_use_real_time(bench_register("epoch/synchronize", bm_tepoch_synchronize)));
	published(bench_use_real_time(bench_register("epoch/synchronize_idle_record",
						     bm_tepoch_synchronize_idle)));
	published_fenced(scenario_bench_register("epoch/enter_exit_fenced", bm_tepoch_enter_exit));
	published_fenced(bench_use_real_time(bench_register("epoch/synchronize_fenced",
							    bm_tepoch_synchronize)));
	published_fenced(bench_use_real_time(bench_register("epoch/synchronize_idle_record_fenced",
							    bm_tepoch_synchronize_idle)));
}
