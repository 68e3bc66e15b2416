/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rows that exist only to test the harness (//tests:bench_flags_test): a hot-path row whose loop
 * is plain BENCH_LOOP, so its "/work" twin must be refused, and a row capped at one thread.
 */
#include "bench/scenario_bench.h"

static void bm_plain_loop(bench_state *s)
{
	BENCH_LOOP(s)
		bench_sink(s);
}

BENCH_REGISTRATION(selftest_register)
{
	scenario_bench_register("selftest/plain_loop", bm_plain_loop);
	bench_max_threads(scenario_bench_register_no_work("selftest/capped", bm_plain_loop), 1);
}
