/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), the writer's half of every asymmetric fence
 * in the catalog: the caller on CPU 0, and on CPU 1 either nothing of this process (the kernel
 * has no CPU to interrupt) or one thread spinning (it must interrupt that CPU and wait for it).
 * Spread comes from --benchmark_repetitions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/reader_thread.h"
#include "patterns/common/compiler.h"
#include "patterns/common/die.h"

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

static void *spinner(void *arg)
{
	struct bench_reader *r = arg;

	bench_reader_running(r);
	while (!bench_reader_should_stop(r))
		teardown_cpu_relax();
	return NULL;
}

static void measure(bench_state *s)
{
	BENCH_LOOP(s)
		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED))
			teardown_die("scaling", errno, "membarrier(PRIVATE_EXPEDITED)");
}

static void bm_other_cpu_idle(bench_state *s)
{
	cpu_set_t saved;

	if (sched_getaffinity(0, sizeof(saved), &saved))
		teardown_die("scaling", errno, "sched_getaffinity");
	bench_reader_pin(pthread_self(), 0);
	measure(s);
	if (sched_setaffinity(0, sizeof(saved), &saved))
		teardown_die("scaling", errno, "sched_setaffinity");
}

static void bm_other_cpu_spinning(bench_state *s)
{
	struct bench_reader r;

	bench_reader_start(&r, spinner, NULL);
	measure(s);
	bench_reader_stop(&r);
}

BENCH_REGISTRATION(scaling_membarrier_register)
{
	if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED))
		teardown_die("scaling", errno, "membarrier(REGISTER_PRIVATE_EXPEDITED)");
	bench_use_real_time(bench_register("scaling/membarrier/other_cpu_idle", bm_other_cpu_idle));
	bench_use_real_time(bench_register("scaling/membarrier/other_cpu_spinning",
					   bm_other_cpu_spinning));
}
