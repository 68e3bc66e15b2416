/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by epoch_bench.c (ours) and ck_epoch_bench.c (Concurrency Kit): for synchronize
 * latency, a reader thread pinned to the other CPU that keeps entering and leaving sections
 * while the benchmark thread, pinned to CPU 0, synchronizes.
 */
#ifndef TEARDOWN_PATTERNS_EPOCH_EPOCH_BENCH_H
#define TEARDOWN_PATTERNS_EPOCH_EPOCH_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pthread_setaffinity_np, in bench/reader_thread.h */
#endif
#include <stdatomic.h>
#include <stdbool.h>

#include "bench/reader_thread.h"
#include "bench/scenario_bench.h"

#endif /* TEARDOWN_PATTERNS_EPOCH_EPOCH_BENCH_H */
