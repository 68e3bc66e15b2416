/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The lagg ioctl's hot path under each flavour (acquire + read one field + release), and the
 * teardown's latency: wait for release (then reinit, to measure again) with N readers running,
 * each acquiring in a loop, so that during the wait every one of them polls a failing acquire.
 * With more readers than CPUs (4 and 16 here) that is the "retry until it works" caller.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench/reader_thread.h"
#include "bench/scenario_bench.h"
#include "patterns/common/die.h"
#include "patterns/rundown/lagg.h"

static struct rundown_lagg_ifnet *bench_ifp;

static void ifnet_setup(const bench_state *s)
{
	(void)s;
	bench_ifp = rundown_lagg_ifnet_new(device_new(1));
}

static void ifnet_teardown(const bench_state *s)
{
	(void)s;
	rundown_lagg_softc_free(atomic_exchange(&bench_ifp->if_softc, NULL));
	rundown_lagg_ifnet_free(bench_ifp);
}

static void bm_ifref(bench_state *s)
{
	SCENARIO_BENCH_LOOP(s, bench_ifp, rundown_lagg_enter_ifref, rundown_lagg_exit_ifref);
}

static void bm_one_word(bench_state *s)
{
	SCENARIO_BENCH_LOOP(s, bench_ifp, rundown_lagg_enter_rundown, rundown_lagg_exit_rundown);
}

static void bm_kref(bench_state *s)
{
	SCENARIO_BENCH_LOOP(s, bench_ifp, rundown_lagg_enter_kref, rundown_lagg_exit_kref);
}

static void bm_cache_aware(bench_state *s)
{
	rundown_ca_register_thread();
	SCENARIO_BENCH_LOOP(s, bench_ifp, rundown_lagg_enter_ca, rundown_lagg_exit_ca);
	rundown_ca_unregister_thread();
}

/* ---- Teardown latency: wait for release with N readers acquiring and releasing ---- */

#define LATENCY_MAX_READERS 16

struct latency_readers {
	pthread_t thread[LATENCY_MAX_READERS];
	int n;
	atomic_bool stop;
	atomic_int running;
	bool cache_aware;
	cpu_set_t waiter_saved;	/* the bench thread's affinity; readers_stop() restores it */
};

static struct latency_readers readers;

/* With more readers than CPUs, they share: CPU numbers wrap. */
static void pin_to(pthread_t t, int cpu)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	bench_reader_pin(t, cpu % (ncpu > 0 ? ncpu : 1));
}

static void *latency_reader(void *arg)
{
	struct latency_readers *r = arg;

	if (r->cache_aware)
		rundown_ca_register_thread();
	atomic_fetch_add(&r->running, 1);
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		struct device *dev;

		if (r->cache_aware)
			dev = rundown_lagg_enter_ca(bench_ifp);
		else
			dev = rundown_lagg_enter_rundown(bench_ifp);
		if (dev) {
			bench_sink(dev->state);
			if (r->cache_aware)
				rundown_lagg_exit_ca(bench_ifp, dev);
			else
				rundown_lagg_exit_rundown(bench_ifp, dev);
		}
	}
	if (r->cache_aware)
		rundown_ca_unregister_thread();
	return NULL;
}

static void readers_start(bench_state *s, bool cache_aware)
{
	readers.n = (int)bench_range(s, 0);
	readers.cache_aware = cache_aware;
	atomic_store(&readers.stop, false);
	atomic_store(&readers.running, 0);
	if (sched_getaffinity(0, sizeof(readers.waiter_saved), &readers.waiter_saved))
		teardown_die("rundown", errno, "sched_getaffinity");
	pin_to(pthread_self(), 0);
	for (int i = 0; i < readers.n; i++) {
		int err = pthread_create(&readers.thread[i], NULL, latency_reader, &readers);

		if (err)
			teardown_die("rundown", err, "pthread_create");
		pin_to(readers.thread[i], 1 + i);
	}
	while (atomic_load(&readers.running) < readers.n)
		sched_yield();
}

static void readers_stop(void)
{
	int err;

	atomic_store(&readers.stop, true);
	for (int i = 0; i < readers.n; i++) {
		err = pthread_join(readers.thread[i], NULL);
		if (err)
			teardown_die("rundown", err, "pthread_join");
	}
	err = pthread_setaffinity_np(pthread_self(), sizeof(readers.waiter_saved),
				     &readers.waiter_saved);
	if (err)
		teardown_die("rundown", err, "pthread_setaffinity_np");
}

static void bm_one_word_wait(bench_state *s)
{
	readers_start(s, false);
	BENCH_LOOP(s)
	{
		rundown_wait_for_release(&bench_ifp->if_rundown);
		rundown_reinit(&bench_ifp->if_rundown);
	}
	readers_stop();
}

static void bm_cache_aware_wait(bench_state *s)
{
	double sleeps = 0;

	readers_start(s, true);
	BENCH_LOOP(s)
	{
		rundown_ca_wait_for_release(bench_ifp->if_rundown_ca);
		sleeps += bench_ifp->if_rundown_ca->wait_sleeps;
		rundown_ca_reinit(bench_ifp->if_rundown_ca);
	}
	readers_stop();
	bench_counter(s, "membarrier", rundown_ca_uses_membarrier(), BENCH_COUNTER_PLAIN);
	bench_counter(s, "sleeps", sleeps, BENCH_COUNTER_PER_ITERATION);
}

static bench *published(bench *b)
{
	return bench_teardown(bench_setup(b, ifnet_setup), ifnet_teardown);
}

static bench *with_readers(bench *b)
{
	return published(bench_use_real_time(bench_arg(bench_arg(bench_arg(bench_arg(bench_arg(
		bench_arg_name(b, "readers"), 0), 1), 2), 4), 16)));
}

BENCH_REGISTRATION(rundown_register)
{
	published(scenario_bench_register("rundown/if_ref (unsafe: counts the ifnet)", bm_ifref));
	published(scenario_bench_register("rundown/one_word", bm_one_word));
	published(scenario_bench_register("rundown/kref (lookup under a lock)", bm_kref));
	/* Each thread takes one of the rundown's RUNDOWN_CA_MAX_THREADS slots. */
	published(bench_max_threads(scenario_bench_register("rundown/cache_aware", bm_cache_aware),
				    RUNDOWN_CA_MAX_THREADS));
	with_readers(bench_register("rundown/wait_latency/one_word", bm_one_word_wait));
	with_readers(bench_register("rundown/wait_latency/cache_aware", bm_cache_aware_wait));
}
