/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rows that exist only to test the harness (//tests:bench_flags_test): a hot-path row whose loop
 * is plain BENCH_LOOP, so its "/work" twin must be refused; a row capped at one thread; and a
 * row that reports whether each of its threads was pinned where bench.h says.
 */
#define _GNU_SOURCE
#include <sched.h>

#include "bench/scenario_bench.h"

static void bm_plain_loop(bench_state *s)
{
	BENCH_LOOP(s)
		bench_sink(s);
}

static cpu_set_t selftest_cpus;	/* the process's CPUs, read before anything pins */

/* 1 if this thread may run on exactly one CPU, the (index mod C)-th of the C the process had. */
static double pinned_as_documented(const bench_state *s)
{
	cpu_set_t now;
	int want = bench_thread_index(s) % CPU_COUNT(&selftest_cpus);

	if (sched_getaffinity(0, sizeof(now), &now) != 0 || CPU_COUNT(&now) != 1)
		return 0;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &selftest_cpus) && want-- == 0)
			return CPU_ISSET(cpu, &now);
	return 0;
}

static void bm_affinity(bench_state *s)
{
	double ok = 0;
	int first = 1;

	BENCH_LOOP(s) {
		if (first)
			ok = pinned_as_documented(s);
		first = 0;
	}
	bench_counter(s, "pinned_ok", ok, BENCH_COUNTER_AVG_THREADS);
}

BENCH_REGISTRATION(selftest_register)
{
	if (sched_getaffinity(0, sizeof(selftest_cpus), &selftest_cpus) != 0)
		CPU_ZERO(&selftest_cpus);
	scenario_bench_register("selftest/plain_loop", bm_plain_loop);
	bench_max_threads(scenario_bench_register_no_work("selftest/capped", bm_plain_loop), 1);
	scenario_bench_register_no_work("selftest/affinity", bm_affinity);
}
