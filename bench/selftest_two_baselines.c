/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A second baseline beside bench/baseline.c's (//tests:bench_flags_test): the program must stop
 * at once, since a row's pairing would otherwise be with one of two loops, unsaid.
 */
#include "bench/scenario_bench.h"

static void second_run(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		bench_sink(i);
}

BENCH_REGISTRATION(second_baseline_register)
{
	bench_register_baseline("selftest/second_baseline", second_run, second_run);
}
