/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Google Benchmark, from C.
 *
 * A thin C API over benchmark::State and benchmark::Benchmark (bench.cc) so that every pattern's
 * benchmark is written in C, the language of the code it measures. All --benchmark_* flags work.
 *
 *	static void bm_membarrier(bench_state *s)
 *	{
 *		BENCH_LOOP(s)
 *			asym_fence_heavy(true, "example");
 *	}
 *	BENCH_REGISTRATION(register_membarrier)
 *	{
 *		bench_use_real_time(bench_register("membarrier", bm_membarrier));
 *	}
 *
 * Hot-path rows (bench_register_hot_path, through scenario_bench.h) get more: a thread sweep,
 * a paired baseline and a twin whose section also does some work; see below.
 *
 * Pinning: thread k of a T-thread run goes to the (k mod C)-th of the C CPUs the process started
 * with. With T <= C each thread has a CPU of its own (unpinned 2-thread runs on this 2-vCPU
 * machine often shared one CPU). With T > C (the sweep's 2x row) the threads are spread round
 * robin, T/C to a CPU, never all on one: they preempt each other, as readers do on a busy host.
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
typedef void bench_loop_fn(uint64_t iterations);	/* runs the loop body that many times */

/* The most threads any row runs with; also the size of per-thread arrays in benchmarks. */
#define BENCH_MAX_THREADS 256

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
 * A hot-path row: real time; run at 1, 2, 4, ... threads up to the CPU count, at the CPU count,
 * and at twice it (--bench_threads=1,2,8 overrides); each repetition also times the baseline's
 * loop on the same threads just before and after the row's (counters own_ns, base_ns, x_base,
 * and by CPU time own_cpu_ns, base_cpu_ns, x_base_cpu). With
 * work_twin, a second row "<name>/work" runs fn again with bench_work() true: its section must
 * also hash bench_work() bytes, and it is paired with the baseline's work loop. Calls on the
 * returned handle apply to the twin too.
 */
bench *bench_register_hot_path(const char *name, bench_fn *fn, int work_twin);
/* At most max threads for this row in the sweep (a pattern with a fixed thread limit). */
bench *bench_max_threads(bench *b, int max);
/*
 * The floor: a hot-path row (with its work twin) that runs plain / work, and the loops every
 * other hot-path row is paired with. The row runs the very functions the pairing calls.
 */
bench *bench_register_baseline(const char *name, bench_loop_fn *plain, bench_loop_fn *work);
/*
 * Bytes the section must hash in this row: 0, or BENCH_WORK_BYTES in a work twin. A loop that
 * asks says it does the work; a work twin whose loop never asked is stopped with an error, so a
 * twin cannot silently measure the plain section.
 */
#define BENCH_WORK_BYTES 64
int bench_work(bench_state *s);

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
 * Runs the benchmarks selected by the command line. Defaults, unless given: 5 repetitions of
 * --benchmark_min_time=0.05, aggregates only on the console (a JSON or --benchmark_out file gets
 * every repetition), and the aggregates min and max beside Google Benchmark's own. With console
 * output it ends with the cost table (bench.cc); --bench_instructions=FILE adds the instructions
 * column from tools/instructions.sh's output for this build.
 */
int bench_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif /* TEARDOWN_BENCH_BENCH_H */
