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

#include "bench/reader_thread.h"
#include "bench/scenario_bench.h"

/* A reader thread QSBR flavours let report a quiescent state every this many sections. */
#define TRCU_BENCH_QS_EVERY 1024

#endif
