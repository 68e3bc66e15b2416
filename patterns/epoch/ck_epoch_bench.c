/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Concurrency Kit's ck_epoch, measured exactly as epoch_bench.c: ck_epoch_begin/ck_epoch_end on
 * a registered record (no section object), and ck_epoch_synchronize with one reader running.
 * ck records cannot be freed once registered, so they are static and registered once: the
 * reader's at the first set-up, a benchmark thread's the first time its thread index runs (so
 * ck_epoch_synchronize scans the records of the threads that have run, not the sweep's cap).
 */
#include "patterns/epoch/epoch_bench.h"

#include <ck_epoch.h>

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

BENCH_REGISTRATION(ck_epoch_bench_register)
{
	bench_teardown(bench_setup(scenario_bench_register("ck_epoch/begin_end", bm_ck_begin_end),
				   publish),
		       unpublish);
	bench_teardown(bench_setup(bench_use_real_time(bench_register("ck_epoch/synchronize",
								      bm_ck_synchronize)),
				   publish),
		       unpublish);
}
