/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hot path's benchmark loop, written once: enter, read one field of the device, exit.
 * ENTER and EXIT are the pattern's own inline functions (or macros), called directly, so the
 * figure is the pattern's and not an indirect call's. Compare SCENARIO_DEFINE_CALLBACK.
 *
 * Each row registered here has a twin, "<name>/work", whose section also hashes 64 bytes
 * (scenario_bench_work): a callback that does something, against which the pattern's overhead
 * reads as a percentage. The baseline (bench/baseline.c) runs the same two sections unprotected.
 */
#ifndef TEARDOWN_BENCH_SCENARIO_BENCH_H
#define TEARDOWN_BENCH_SCENARIO_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "bench/bench.h"
#include "patterns/common/compiler.h"
#include "scenario/device.h"

/* Per-thread arrays in a benchmark need this many entries for the sweep's threads. */
#define SCENARIO_BENCH_MAX_THREADS BENCH_MAX_THREADS

/*
 * The work: FNV-1a over a 64-byte buffer of the calling thread, in two lanes (even and odd
 * bytes), seeded with the field the section read. The hash is written back into the buffer, so
 * each section depends on the last and the compiler can neither hoist nor skip it. Two chains
 * of 32 dependent multiplies: about 50 ns here.
 */
struct scenario_bench_work {
	uint64_t buf[BENCH_WORK_BYTES / sizeof(uint64_t)];
};

static inline void scenario_bench_work(struct scenario_bench_work *w, const struct device *dev)
{
	const unsigned char *p = (const unsigned char *)w->buf;
	uint64_t even = 0xcbf29ce484222325ull ^ (uint64_t)dev->state, odd = even;

	for (size_t i = 0; i < sizeof(w->buf); i += 2) {
		even = (even ^ p[i]) * 0x100000001b3ull;
		odd = (odd ^ p[i + 1]) * 0x100000001b3ull;
	}
	w->buf[0] = even ^ odd;
}

#define SCENARIO_BENCH_NO_WORK(w, dev) ((void)(w), (void)(dev))

/* One section. WORK is scenario_bench_work or SCENARIO_BENCH_NO_WORK. */
#define SCENARIO_BENCH_SECTION(reg, ENTER, EXIT, WORK, w) \
	do { \
		struct device *bench_dev_ = ENTER(reg); \
		if (teardown_likely(bench_dev_ != NULL)) { \
			bench_sink(bench_dev_->state); \
			WORK(w, bench_dev_); \
			EXIT(reg, bench_dev_); \
		} \
	} while (0)

/* n sections back to back: every hot-path row's loop, and the baseline's paired loops. */
#define SCENARIO_BENCH_RUN(n, reg, ENTER, EXIT, WORK) \
	do { \
		struct scenario_bench_work bench_work_ = { { 0 } }; \
		for (uint64_t bench_left_ = (n); bench_left_; bench_left_--) \
			SCENARIO_BENCH_SECTION(reg, ENTER, EXIT, WORK, &bench_work_); \
		bench_sink(bench_work_.buf[0]); \
	} while (0)

/* The timed loop of a hot-path row: the plain section, or in the "/work" twin the working one. */
#define SCENARIO_BENCH_LOOP(s, reg, ENTER, EXIT) \
	do { \
		if (bench_work(s)) { \
			uint64_t bench_n_ = bench_loop_begin(s); \
			SCENARIO_BENCH_RUN(bench_n_, reg, ENTER, EXIT, scenario_bench_work); \
		} else { \
			uint64_t bench_n_ = bench_loop_begin(s); \
			SCENARIO_BENCH_RUN(bench_n_, reg, ENTER, EXIT, SCENARIO_BENCH_NO_WORK); \
		} \
		bench_loop_end(s); \
	} while (0)

/* Registers a hot-path benchmark as every pattern does (bench_register_hot_path), with its twin. */
static inline bench *scenario_bench_register(const char *name, bench_fn *fn)
{
	return bench_register_hot_path(name, fn, 1);
}

/* The same without the "/work" twin: for a loop that cannot put work inside its section. */
static inline bench *scenario_bench_register_no_work(const char *name, bench_fn *fn)
{
	return bench_register_hot_path(name, fn, 0);
}

#endif /* TEARDOWN_BENCH_SCENARIO_BENCH_H */
