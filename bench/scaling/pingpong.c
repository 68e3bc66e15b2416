/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One cache line handed back and forth: the benchmark thread on CPU 0 and a partner on CPU 1 take
 * turns on one word. Each iteration is one round trip, two transfers of the line; this is the
 * cost every shared-counter hot path pays per call once a second CPU writes the same line.
 *
 * store	  the benchmark thread stores 1 and spins until the partner has stored 0 back:
 *		  the cheapest hand-off, a load miss and a store per side.
 * Both sides spin without a pause instruction, so that the figure is the line's transfer and not
 * the pause's latency.
 *
 * fetch_add	  each turn is a locked increment (odd: the partner's turn, even: ours), as an
 *		  atomic reference count does.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>

#include "bench/bench.h"
#include "bench/reader_thread.h"
#include "patterns/common/compiler.h"

static struct {
	TEARDOWN_CACHE_ALIGNED _Atomic uint64_t word;
} ball;

/* Relaxed throughout: the word is the only datum, and each side waits to see the other's value. */
static void *store_partner(void *arg)
{
	struct bench_reader *r = arg;

	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		if (atomic_load_explicit(&ball.word, memory_order_relaxed) == 1)
			atomic_store_explicit(&ball.word, 0, memory_order_relaxed);
	}
	return NULL;
}

static void bm_store(bench_state *s)
{
	struct bench_reader r;

	atomic_store(&ball.word, 0);
	bench_reader_start(&r, store_partner, NULL);
	BENCH_LOOP(s)
	{
		atomic_store_explicit(&ball.word, 1, memory_order_relaxed);
		while (atomic_load_explicit(&ball.word, memory_order_relaxed) != 0)
			;
	}
	bench_reader_stop(&r);
	bench_counter(s, "transfers", 2, BENCH_COUNTER_PLAIN);
}

static void *fetch_add_partner(void *arg)
{
	struct bench_reader *r = arg;

	bench_reader_running(r);
	while (!bench_reader_should_stop(r)) {
		if (atomic_load_explicit(&ball.word, memory_order_relaxed) & 1)
			atomic_fetch_add_explicit(&ball.word, 1, memory_order_relaxed);
	}
	return NULL;
}

static void bm_fetch_add(bench_state *s)
{
	struct bench_reader r;
	uint64_t mine;

	atomic_store(&ball.word, 0);
	bench_reader_start(&r, fetch_add_partner, NULL);
	BENCH_LOOP(s)
	{
		mine = atomic_fetch_add_explicit(&ball.word, 1, memory_order_relaxed) + 2;
		while (atomic_load_explicit(&ball.word, memory_order_relaxed) != mine)
			;
	}
	bench_reader_stop(&r);
	bench_counter(s, "transfers", 2, BENCH_COUNTER_PLAIN);
}

BENCH_REGISTRATION(scaling_pingpong_register)
{
	bench_use_real_time(bench_register("scaling/pingpong/store", bm_store));
	bench_use_real_time(bench_register("scaling/pingpong/fetch_add", bm_fetch_add));
}
