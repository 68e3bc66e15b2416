/*
 * Shared by epoch_bench.c (ours) and ck_epoch_bench.c (Concurrency Kit): for synchronize
 * latency, a reader thread pinned to the other CPU that keeps entering and leaving sections
 * while the benchmark thread, pinned to CPU 0, synchronizes.
 */
#ifndef TEARDOWN_PATTERNS_EPOCH_EPOCH_BENCH_H
#define TEARDOWN_PATTERNS_EPOCH_EPOCH_BENCH_H

#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bench/scenario_bench.h"

struct epoch_bench_reader {
	pthread_t thread;
	atomic_bool running, stop;
	cpu_set_t writer_saved;
};

/* Pins the benchmark thread to CPU 0 and starts fn (which must set running) on CPU 1. */
static inline void epoch_bench_reader_start(struct epoch_bench_reader *r, void *(*fn)(void *))
{
	cpu_set_t cpu;

	atomic_store(&r->running, false);
	atomic_store(&r->stop, false);
	sched_getaffinity(0, sizeof(r->writer_saved), &r->writer_saved);
	CPU_ZERO(&cpu);
	CPU_SET(0, &cpu);
	pthread_setaffinity_np(pthread_self(), sizeof(cpu), &cpu);
	pthread_create(&r->thread, NULL, fn, r);
	CPU_ZERO(&cpu);
	CPU_SET(1, &cpu);
	pthread_setaffinity_np(r->thread, sizeof(cpu), &cpu);
	while (!atomic_load(&r->running))
		sched_yield();
}

static inline void epoch_bench_reader_stop(struct epoch_bench_reader *r)
{
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	pthread_setaffinity_np(pthread_self(), sizeof(r->writer_saved), &r->writer_saved);
}

#endif
