/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by rcu_bench.c and the liburcu benchmarks: the read side over one published device
 * (SCENARIO_BENCH_LOOP), and, for grace-period latency, a reader thread that keeps entering
 * and leaving read-side sections on the other CPU while the benchmark thread synchronizes.
 */
#ifndef TEARDOWN_PATTERNS_RCU_RCU_BENCH_H
#define TEARDOWN_PATTERNS_RCU_RCU_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pthread_setaffinity_np, in bench/reader_thread.h */
#endif
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "bench/reader_thread.h"
#include "bench/scenario_bench.h"
#include "patterns/common/die.h"

/* A reader thread QSBR flavours let report a quiescent state every this many sections. */
#define TRCU_BENCH_QS_EVERY 1024

/*
 * Grace-period latency under a stream of readers: one reader thread enters read-side sections
 * back to back, each busy for section_us microseconds (the benchmark's argument), while the
 * benchmark thread times every synchronize. Reported: the median and the worst, in µs and in
 * sections. A grace period must wait for the section in progress, so about one section is the
 * floor; a writer that waited for sections that began after it would show a worst of many.
 */
#define RCU_BENCH_MAX_SAMPLES (1 << 20)

struct rcu_bench_latency {
	uint64_t *ns;
	size_t n;
};

static inline uint64_t rcu_bench_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The body of one read-side section: busy for ns nanoseconds. */
static inline void rcu_bench_busy(uint64_t ns)
{
	uint64_t end = rcu_bench_now_ns() + ns;

	while (rcu_bench_now_ns() < end)
		;
}

/* The section length a stream reader is given, in ns (its bench_reader's ctx). */
static inline uint64_t rcu_bench_section_ns(const struct bench_reader *r)
{
	return *(const uint64_t *)r->ctx;
}

static inline void rcu_bench_latency_start(struct rcu_bench_latency *l)
{
	/* 8 MiB for the samples: nothing to measure without them. */
	l->ns = teardown_malloc("rcu", RCU_BENCH_MAX_SAMPLES * sizeof(*l->ns));
	l->n = 0;
}

static inline void rcu_bench_latency_add(struct rcu_bench_latency *l, uint64_t ns)
{
	if (l->n < RCU_BENCH_MAX_SAMPLES)
		l->ns[l->n++] = ns;
}

static inline int rcu_bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static inline void rcu_bench_latency_report(bench_state *s, struct rcu_bench_latency *l,
					    uint64_t section_ns)
{
	if (l->n) {
		qsort(l->ns, l->n, sizeof(*l->ns), rcu_bench_cmp_u64);
		bench_counter(s, "median_us", l->ns[l->n / 2] / 1e3, BENCH_COUNTER_PLAIN);
		bench_counter(s, "max_us", l->ns[l->n - 1] / 1e3, BENCH_COUNTER_PLAIN);
		bench_counter(s, "max_sections", (double)l->ns[l->n - 1] / section_ns,
			      BENCH_COUNTER_PLAIN);
	}
	free(l->ns);
}

/*
 * The benchmark body, for every flavour: `stream_reader` (a bench_reader thread function that
 * enters sections back to back, each rcu_bench_busy() for rcu_bench_section_ns()) runs on the
 * other CPU while this thread times each `synchronize`.
 */
static inline void rcu_bench_synchronize_stream(bench_state *s, struct bench_reader *reader,
						void *(*stream_reader)(void *),
						void (*synchronize)(void))
{
	uint64_t section_ns = (uint64_t)bench_range(s, 0) * 1000;
	struct rcu_bench_latency l;

	rcu_bench_latency_start(&l);
	bench_reader_start(reader, stream_reader, &section_ns);
	BENCH_LOOP(s) {
		uint64_t t0 = rcu_bench_now_ns();

		synchronize();
		rcu_bench_latency_add(&l, rcu_bench_now_ns() - t0);
	}
	bench_reader_stop(reader);
	rcu_bench_latency_report(s, &l, section_ns);
}

/* Registers name with section lengths of 1 and 100 µs. */
static inline bench *rcu_bench_stream_args(bench *b)
{
	return bench_use_real_time(bench_arg(bench_arg(bench_arg_name(b, "section_us"), 1), 100));
}

#endif /* TEARDOWN_PATTERNS_RCU_RCU_BENCH_H */
