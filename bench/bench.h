/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Google Benchmark, from C.
 *
 * A thin C API over benchmark::State and benchmark::Benchmark (bench.cc) so that every pattern's
 * benchmark is written in C, the language of the code it measures. All --benchmark_* flags work.
 *
 *	static void bm_unprotected(bench_state *s)
 *	{
 *		BENCH_LOOP(s)
 *			bench_sink(atomic_load_explicit(&slot, memory_order_relaxed)->state);
 *	}
 *	BENCH_REGISTRATION(register_baseline)
 *	{
 *		bench *b = bench_register("baseline", bm_unprotected);
 *
 *		bench_use_real_time(bench_thread_range(b, 1, 2));
 *	}
 *
 * Threads of a multi-threaded run are pinned one per CPU while the loop runs, when there are
 * enough CPUs: unpinned 2-thread runs on this 2-vCPU machine often shared one CPU.
 */
#ifndef TEARDOWN_BENCH_BENCH_H
#define TEARDOWN_BENCH_BENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bench_state bench_state;	/* a benchmark::State */
typedef struct bench bench;		/* a benchmark::internal::Benchmark */

typedef void bench_fn(bench_state *s);
typedef void bench_hook_fn(const bench_state *s);

/* Registration. Each returns its argument, so calls nest like Google Benchmark's chaining. */
bench *bench_register(const char *name, bench_fn *fn);
bench *bench_arg(bench *b, int64_t arg);
bench *bench_arg_name(bench *b, const char *name);
bench *bench_threads(bench *b, int threads);
bench *bench_thread_range(bench *b, int min_threads, int max_threads);
bench *bench_use_real_time(bench *b);
/* Runs once per run (not per thread), before the threads start / after they finish. */
bench *bench_setup(bench *b, bench_hook_fn *fn);
bench *bench_teardown(bench *b, bench_hook_fn *fn);

/*
 * The timed loop. bench_loop_begin() starts the clock and returns how many iterations to run;
 * bench_loop_end() stops it. BENCH_LOOP wraps both; do not `break` out of it.
 */
uint64_t bench_loop_begin(bench_state *s);
void bench_loop_end(bench_state *s);
#define BENCH_LOOP(s) \
	for (uint64_t bench_left_ = bench_loop_begin(s); bench_left_ || (bench_loop_end(s), 0); \
	     bench_left_--)

int64_t bench_range(const bench_state *s, int index);
int bench_thread_index(const bench_state *s);
int bench_thread_count(const bench_state *s);
void bench_skip_with_error(bench_state *s, const char *message);

enum bench_counter_kind {
	BENCH_COUNTER_PLAIN,		/* the value as given */
	BENCH_COUNTER_AVG_THREADS,	/* summed over threads, divided by the thread count */
	BENCH_COUNTER_PER_ITERATION,	/* divided by the iteration count */
	BENCH_COUNTER_RATE,		/* divided by the elapsed seconds */
};
void bench_counter(bench_state *s, const char *name, double value, enum bench_counter_kind kind);

/*
 * Keeps a value alive: the compiler must materialise it in a register. Google Benchmark's
 * DoNotOptimize accepts a memory operand ("r,m"), which let GCC 12 drop the baseline's field
 * load entirely; "r" forces the load.
 */
#define bench_sink(v) __asm__ volatile("" : : "r"(v))

/* Registers benchmarks before main() runs. Link the library that uses it with alwayslink. */
#define BENCH_REGISTRATION(fn) \
	static void fn(void) __attribute__((constructor)); \
	static void fn(void)

/*
 * Runs the benchmarks selected by the command line. With console output it ends with a table of
 * each benchmark's cost per call as each thread sees it, and its ratio to the benchmark named
 * "baseline/unprotected" at the same thread count, both measured in this run.
 */
int bench_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif /* TEARDOWN_BENCH_BENCH_H */
