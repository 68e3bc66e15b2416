/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hot path's benchmark loop, written once: enter, read one field of the device, exit.
 * ENTER and EXIT are the pattern's own inline functions (or macros), called directly, so the
 * figure is the pattern's and not an indirect call's. Compare SCENARIO_DEFINE_CALLBACK.
 */
#ifndef TEARDOWN_BENCH_SCENARIO_BENCH_H
#define TEARDOWN_BENCH_SCENARIO_BENCH_H

#include <stddef.h>

#include "bench/bench.h"
#include "patterns/common/compiler.h"
#include "scenario/device.h"

#define SCENARIO_BENCH_LOOP(s, reg, ENTER, EXIT) \
	BENCH_LOOP(s) \
	{ \
		struct device *bench_dev_ = ENTER(reg); \
		if (teardown_likely(bench_dev_ != NULL)) { \
			bench_sink(bench_dev_->state); \
			EXIT(reg, bench_dev_); \
		} \
	}

/* Registers a hot-path benchmark as every pattern does: 1 and 2 threads, real time. */
static inline bench *scenario_bench_register(const char *name, bench_fn *fn)
{
	return bench_use_real_time(bench_thread_range(bench_register(name, fn), 1, 2));
}

#endif /* TEARDOWN_BENCH_SCENARIO_BENCH_H */
