/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The lagg ioctl's hot path under percpu_ref: tryget_live + read one field + put, each thread
 * on its own counter, beside the cache-aware rundown's row (rundown_bench.c); and the writer's
 * side: kill, the wait for release, and the reinit that re-arms the ref, with 0 or 1 reader
 * thread taking and dropping references (compare rundown/wait_latency/cache_aware).
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "bench/reader_thread.h"
#include "bench/scenario_bench.h"
#include "patterns/rundown/lagg.h"
#include "patterns/rundown/percpu_ref.h"

static struct {
	struct rundown_lagg_ifnet *ifp;
	struct percpu_ref ref;
} bench_pcpu;

static atomic_bool bench_released;

static void pcpu_release(struct percpu_ref *ref)
{
	(void)ref;
	atomic_store_explicit(&bench_released, true, memory_order_release);
}

static void pcpu_setup(const bench_state *s)
{
	(void)s;
	bench_pcpu.ifp = rundown_lagg_ifnet_new(device_new(1));
	percpu_ref_init(&bench_pcpu.ref, pcpu_release);
}

static void pcpu_teardown(const bench_state *s)
{
	(void)s;
	percpu_ref_kill(&bench_pcpu.ref);
	percpu_ref_exit(&bench_pcpu.ref);
	rundown_lagg_softc_free(atomic_exchange(&bench_pcpu.ifp->if_softc, NULL));
	rundown_lagg_ifnet_free(bench_pcpu.ifp);
}

static inline struct device *pcpu_enter(struct percpu_ref *ref)
{
	if (!percpu_ref_tryget_live(ref))
		return NULL;
	return rundown_lagg_softc_of(bench_pcpu.ifp)->sc_dev;
}

static inline void pcpu_exit(struct percpu_ref *ref, struct device *dev)
{
	(void)dev;
	percpu_ref_put(ref);
}

static void bm_percpu_ref(bench_state *s)
{
	percpu_ref_register_thread();
	SCENARIO_BENCH_LOOP(s, &bench_pcpu.ref, pcpu_enter, pcpu_exit);
	percpu_ref_unregister_thread();
}

static void *kill_reader(void *arg)
{
	struct bench_reader *r = arg;

	percpu_ref_register_thread();
	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		struct device *dev = pcpu_enter(&bench_pcpu.ref);

		if (dev) {
			bench_sink(dev->state);
			pcpu_exit(&bench_pcpu.ref, dev);
		}
	}
	percpu_ref_unregister_thread();
	return NULL;
}

static void bm_kill_latency(bench_state *s)
{
	struct bench_reader reader;
	bool with_reader = bench_range(s, 0) > 0;

	if (with_reader)
		bench_reader_start(&reader, kill_reader, NULL);
	BENCH_LOOP(s)
	{
		atomic_store_explicit(&bench_released, false, memory_order_relaxed);
		percpu_ref_kill(&bench_pcpu.ref);
		/* acquire: pairs with pcpu_release(); the reader's last put may run it. */
		while (!atomic_load_explicit(&bench_released, memory_order_acquire))
			teardown_cpu_relax();
		percpu_ref_reinit(&bench_pcpu.ref);
	}
	if (with_reader)
		bench_reader_stop(&reader);
	bench_counter(s, "membarrier", percpu_ref_uses_membarrier(), BENCH_COUNTER_PLAIN);
}

BENCH_REGISTRATION(percpu_ref_register)
{
	/* Each thread takes one of percpu_ref's PERCPU_REF_MAX_THREADS slots. */
	bench_teardown(bench_setup(bench_max_threads(scenario_bench_register(
		"rundown/percpu_ref (tryget_live/put)", bm_percpu_ref), PERCPU_REF_MAX_THREADS),
		pcpu_setup), pcpu_teardown);
	bench_teardown(bench_setup(bench_use_real_time(bench_arg(bench_arg(bench_arg_name(
		bench_register("rundown/kill_latency/percpu_ref", bm_kill_latency), "readers"), 0),
		1)), pcpu_setup), pcpu_teardown);
}
