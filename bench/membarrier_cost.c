/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the writer's half of the asymmetric fence costs: one
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), timed call by call, with or without a second
 * thread spinning on another CPU (the thread the kernel must interrupt). Prints the spread, not
 * one figure: the call is an IPI round trip, and a shared machine's tail is long.
 *
 * usage: membarrier_cost [--spinner] [--calls N]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "scenario/args.h"

#define WARM_UP_CALLS 1000
#define CALLS_MIN 100
#define CALLS_MAX 10000000

static atomic_bool spinner_stop;

/* Best effort: on a machine with one CPU the spinner shares it with the caller. */
static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *spinner(void *arg)
{
	(void)arg;
	pin_to(1);
	while (!atomic_load_explicit(&spinner_stop, memory_order_relaxed))
		teardown_cpu_relax();
	return NULL;
}

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

static long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--spinner] [--calls N]   (N from %d to %d)\n", argv0, CALLS_MIN,
		CALLS_MAX);
	return ARGS_USAGE_EXIT;
}

int main(int argc, char **argv)
{
	bool with_spinner = false;
	long calls = 20000;
	pthread_t thread;
	long *ns;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--spinner"))
			with_spinner = true;
		else if (!strcmp(argv[i], "--calls"))
			calls = (long)args_number("membarrier_cost", "--calls",
						  args_value("membarrier_cost", argc, argv, &i),
						  CALLS_MIN, CALLS_MAX);
		else
			return usage(argv[0]);
	}
	if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED))
		teardown_die("membarrier_cost", errno, "membarrier(REGISTER_PRIVATE_EXPEDITED)");
	ns = teardown_calloc("membarrier_cost", (size_t)calls, sizeof(*ns));
	pin_to(0);
	if (with_spinner && (err = pthread_create(&thread, NULL, spinner, NULL)))
		teardown_die("membarrier_cost", err, "pthread_create");
	for (int i = 0; i < WARM_UP_CALLS; i++)
		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED))
			teardown_die("membarrier_cost", errno, "membarrier(PRIVATE_EXPEDITED)");
	for (long i = 0; i < calls; i++) {
		long start = now_ns();

		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED))
			teardown_die("membarrier_cost", errno, "membarrier(PRIVATE_EXPEDITED)");
		ns[i] = now_ns() - start;
	}
	atomic_store_explicit(&spinner_stop, true, memory_order_relaxed);
	if (with_spinner && (err = pthread_join(thread, NULL)))
		teardown_die("membarrier_cost", err, "pthread_join");
	qsort(ns, (size_t)calls, sizeof(*ns), by_value);
	printf("membarrier(PRIVATE_EXPEDITED), %s spinning thread, %ld calls: min %ld ns, p10 %ld, "
	       "median %ld, p90 %ld, p99 %ld, max %ld\n", with_spinner ? "one" : "no", calls, ns[0],
	       ns[calls / 10], ns[calls / 2], ns[calls * 9 / 10], ns[calls * 99 / 100],
	       ns[calls - 1]);
	free(ns);
	return 0;
}
