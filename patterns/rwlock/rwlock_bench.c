/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ifnet's hot path under each read-side lock: a mutex, pthread_rwlock, and drwlock. Each
 * benchmark thread registers its own drwlock slot, as a callback thread does. Also the writer:
 * one write_lock/unlock (with drwlock, a membarrier) while a reader hammers on the other CPU.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bench/reader_thread.h"
#include "bench/scenario_bench.h"
#include "patterns/rwlock/ifnet.h"

static struct rwlock_ifnet *bench_ifp;

static void ifnet_setup(const bench_state *s)
{
	(void)s;
	bench_ifp = rwlock_ifnet_new(device_new(1));
}

static void ifnet_teardown(const bench_state *s)
{
	(void)s;
	device_free(rwlock_ifnet_detach_rwlock(bench_ifp));
	rwlock_ifnet_free(bench_ifp);
}

static void bm_mutex(bench_state *s)
{
	SCENARIO_BENCH_LOOP(s, bench_ifp, rwlock_ifnet_enter_mutex, rwlock_ifnet_exit_mutex);
}

static void bm_pthread_rwlock(bench_state *s)
{
	SCENARIO_BENCH_LOOP(s, bench_ifp, rwlock_ifnet_enter_rwlock, rwlock_ifnet_exit_rwlock);
}

/* quote: bench_dist */
static void bm_distributed(bench_state *s)
{
	struct drwlock_reader self = { 0 };	/* this thread's slot, on its own cache line */
	struct rwlock_ifnet *ifp = bench_ifp;	/* in a register, as a callback's argument */

#define DIST_ENTER(ifp) rwlock_ifnet_enter_dist(ifp, &self)
#define DIST_EXIT(ifp, dev) rwlock_ifnet_exit_dist(ifp, &self)
	drwlock_reader_register(&ifp->dist, &self);
	SCENARIO_BENCH_LOOP(s, ifp, DIST_ENTER, DIST_EXIT);
	drwlock_reader_unregister(&ifp->dist, &self);
	bench_counter(s, "membarrier", drwlock_uses_membarrier(), BENCH_COUNTER_PLAIN);
}
/* end quote: bench_dist */

/* The writer's side: a reader thread pinned to CPU 1 keeps taking the read lock. */
static void *hammer_reader(void *arg)
{
	struct bench_reader *r = arg;
	bool dist = r->ctx != NULL;	/* the distributed lock, or pthread_rwlock */
	struct drwlock_reader self = { 0 };
	struct device *dev;

	if (dist)
		drwlock_reader_register(&bench_ifp->dist, &self);
	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		if (dist) {
			if ((dev = rwlock_ifnet_enter_dist(bench_ifp, &self))) {
				bench_sink(dev->state);
				rwlock_ifnet_exit_dist(bench_ifp, &self);
			}
		} else if ((dev = rwlock_ifnet_enter_rwlock(bench_ifp))) {
			bench_sink(dev->state);
			rwlock_ifnet_exit_rwlock(bench_ifp, dev);
		}
	}
	if (dist)
		drwlock_reader_unregister(&bench_ifp->dist, &self);
	return NULL;
}

static void bm_write_pthread_rwlock(bench_state *s)
{
	struct bench_reader h;

	bench_reader_start(&h, hammer_reader, NULL);
	BENCH_LOOP(s)
	{
		pthread_rwlock_wrlock(&bench_ifp->rwlock);
		pthread_rwlock_unlock(&bench_ifp->rwlock);
	}
	bench_reader_stop(&h);
}

static void bm_write_distributed(bench_state *s)
{
	struct bench_reader h;

	bench_reader_start(&h, hammer_reader, &bench_ifp->dist);
	BENCH_LOOP(s)
	{
		drwlock_write_lock(&bench_ifp->dist);
		drwlock_write_unlock(&bench_ifp->dist);
	}
	bench_reader_stop(&h);
}

static bench *ifnet(bench *b)
{
	return bench_teardown(bench_setup(b, ifnet_setup), ifnet_teardown);
}

BENCH_REGISTRATION(rwlock_register)
{
	ifnet(scenario_bench_register("rwlock/mutex", bm_mutex));
	ifnet(scenario_bench_register("rwlock/pthread_rwlock", bm_pthread_rwlock));
	ifnet(scenario_bench_register("rwlock/distributed", bm_distributed));
	ifnet(bench_use_real_time(bench_register("rwlock/write_pthread_rwlock (1 reader)",
						 bm_write_pthread_rwlock)));
	ifnet(bench_use_real_time(bench_register("rwlock/write_distributed (1 reader)",
						 bm_write_distributed)));
}
