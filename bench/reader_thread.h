/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * For writer-side benchmarks (synchronize, write lock, drain): one reader thread that keeps
 * running the hot path on CPU 1 while the benchmark thread, pinned to CPU 0, measures the writer.
 *
 *	static void *reader_loop(void *arg)
 *	{
 *		struct bench_reader *r = arg;
 *
 *		... register with the pattern ...
 *		bench_reader_running(r);
 *		while (!bench_reader_should_stop(r))
 *			... one hot-path call ...
 *		... unregister ...
 *		return NULL;
 *	}
 *
 * bench_reader_start() returns once the reader is running; bench_reader_stop() joins it and
 * gives the benchmark thread its affinity back (a benchmark that left its thread pinned once
 * made every later 2-thread run share a CPU).
 */
#ifndef TEARDOWN_BENCH_READER_THREAD_H
#define TEARDOWN_BENCH_READER_THREAD_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "patterns/common/die.h"

struct bench_reader {
	pthread_t thread;
	atomic_bool running, stop;
	cpu_set_t writer_saved;
	void *ctx;	/* the benchmark's, for the reader loop */
};

static inline void bench_reader_running(struct bench_reader *r)
{
	atomic_store(&r->running, true);
}

static inline bool bench_reader_should_stop(struct bench_reader *r)
{
	return atomic_load_explicit(&r->stop, memory_order_relaxed);
}

/* Best effort: on a machine with one CPU the reader and the writer share it, unpinned. */
static inline void bench_reader_pin(pthread_t t, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)pthread_setaffinity_np(t, sizeof(set), &set);
}

/* Pins the benchmark thread to CPU 0 and runs fn(r) on CPU 1; returns once fn is running. */
static inline void bench_reader_start(struct bench_reader *r, void *(*fn)(void *), void *ctx)
{
	int err;

	atomic_store(&r->running, false);
	atomic_store(&r->stop, false);
	r->ctx = ctx;
	if (sched_getaffinity(0, sizeof(r->writer_saved), &r->writer_saved) != 0)
		teardown_die("bench", errno, "sched_getaffinity");
	bench_reader_pin(pthread_self(), 0);
	err = pthread_create(&r->thread, NULL, fn, r);
	if (err)
		teardown_die("bench", err, "pthread_create");
	bench_reader_pin(r->thread, 1);
	while (!atomic_load(&r->running))
		sched_yield();
}

static inline void bench_reader_stop(struct bench_reader *r)
{
	int err;

	atomic_store(&r->stop, true);
	err = pthread_join(r->thread, NULL);
	if (err)
		teardown_die("bench", err, "pthread_join");
	err = pthread_setaffinity_np(pthread_self(), sizeof(r->writer_saved), &r->writer_saved);
	if (err)
		teardown_die("bench", err, "pthread_setaffinity_np");
}

#endif /* TEARDOWN_BENCH_READER_THREAD_H */
