/* SPDX-License-Identifier: BSD-2-Clause */
/* The kauth callback's hot path: raw pointer, flag check, flag plus activation count. */
#include <stdlib.h>

#include "bench/scenario_bench.h"
#include "patterns/common/die.h"
#include "patterns/global_flag/listener.h"

static struct global_flag_listener *bench_listener;

static void listener_setup(const bench_state *s)
{
	(void)s;
	bench_listener = teardown_malloc("global_flag", sizeof(*bench_listener));
	*bench_listener = (struct global_flag_listener){
		.instance = device_new(1), .alive = true, .gate = GLOBAL_FLAG_INIT
	};
}

static void listener_teardown(const bench_state *s)
{
	(void)s;
	global_flag_shutdown(&bench_listener->gate);
	device_free(atomic_load(&bench_listener->instance));
	free(bench_listener);
}

static void bm_flag_check(bench_state *s)
{
	SCENARIO_BENCH_LOOP(s, bench_listener, global_flag_listener_enter_flag,
			    global_flag_listener_exit_none);
}

static void bm_flag_and_count(bench_state *s)
{
	SCENARIO_BENCH_LOOP(s, bench_listener, global_flag_listener_enter_gate,
			    global_flag_listener_exit_gate);
}

BENCH_REGISTRATION(global_flag_register)
{
	bench_teardown(bench_setup(scenario_bench_register("global_flag/flag_check (unsafe)",
							   bm_flag_check),
				   listener_setup),
		       listener_teardown);
	bench_teardown(bench_setup(scenario_bench_register("global_flag/flag_and_count",
							   bm_flag_and_count),
				   listener_setup),
		       listener_teardown);
}
