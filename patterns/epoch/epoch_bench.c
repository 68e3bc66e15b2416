/* SPDX-License-Identifier: BSD-2-Clause */
/* tepoch's enter/exit, and its synchronize latency with one reader running (ck_epoch_bench.c). */
#include "patterns/epoch/epoch_bench.h"

#include "patterns/epoch/tepoch.h"

static struct tepoch bench_domain;
static _Atomic(struct device *) bench_slot;
static struct tepoch_record bench_records[4];	/* [thread index], reader, idle */

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
	struct tepoch_record *rec = &bench_records[2];

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

	tepoch_register(&bench_domain, rec);
	if (idle_record)	/* registered, never entering: settled by a membarrier each step */
		tepoch_register(&bench_domain, &bench_records[3]);
	bench_reader_start(&reader, reader_loop, NULL);
	BENCH_LOOP(s)
		tepoch_synchronize(rec);
	bench_reader_stop(&reader);
	if (idle_record)
		tepoch_unregister(&bench_records[3]);
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

static bench *published(bench *b)
{
	return bench_teardown(bench_setup(b, publish), unpublish);
}

BENCH_REGISTRATION(tepoch_bench_register)
{
	published(scenario_bench_register("epoch/enter_exit", bm_tepoch_enter_exit));
	published(bench_use_real_time(bench_register("epoch/synchronize", bm_tepoch_synchronize)));
	published(bench_use_real_time(bench_register("epoch/synchronize_idle_record",
						     bm_tepoch_synchronize_idle)));
}
