/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A reader that blocks, inside a classic trcu section and inside a tsrcu section of its own
 * domain, and what an unrelated writer of the process meets meanwhile. The reader parks on a
 * semaphore (as a thread blocked on I/O would) for BLOCK_MS. An unrelated subsystem calls
 * trcu_synchronize() in a loop, and a third subsystem calls tsrcu_synchronize() on a domain of
 * its own.
 *  - naive: the reader blocks inside trcu_read_lock(). trcu's grace period waits for every
 *    reader of the process, so the unrelated writer's first trcu_synchronize() lasts as long
 *    as the block: no grace period completes while the reader is parked.
 *  - fixed: the reader blocks inside tsrcu_read_lock() of its own domain. The unrelated trcu
 *    writer and the other domain's writer each complete GRACE_PERIODS grace periods while the
 *    reader is still parked; only a writer of the reader's own domain waits for it.
 * Printed: the grace periods each writer completed during the block, and their latencies.
 * Exits 1 unless the naive writer completed none while the reader was parked, and in the fix
 * both unrelated writers completed all of theirs before the reader was let go, and the writer
 * of the reader's own domain returned only after it left. Counts, not times, are checked; a
 * generous deadline only guards against a hang.
 * usage: stall_demo [BLOCK_MS]   (default 200)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "patterns/common/die.h"
#include "patterns/rcu/trcu.h"
#include "patterns/srcu/tsrcu.h"

#define GRACE_PERIODS 200
#define HANG_GUARD_S 60

static struct tsrcu_domain blocking_domain, other_domain;
static sem_t reader_inside, reader_may_leave, writer_done;
static _Atomic int reader_left;
static bool naive;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* quote: blocking_reader */
static void *blocking_reader(void *unused)
{
	int idx = 0;

	(void)unused;
	if (naive) {
		trcu_register_thread();
		trcu_read_lock();
	} else {
		idx = tsrcu_read_lock(&blocking_domain);
	}
	sem_post(&reader_inside);
	sem_wait(&reader_may_leave);	/* blocked: I/O, a mutex, a page fault */
	atomic_store(&reader_left, 1);
	if (naive) {
		trcu_read_unlock();
		trcu_unregister_thread();
	} else {
		tsrcu_read_unlock(&blocking_domain, idx);
	}
	return NULL;
}
/* end quote: blocking_reader */

struct writer {
	const char *what;
	void (*synchronize)(void);
	int done;			/* grace periods completed */
	int done_while_parked;		/* of those, completed with the reader still inside */
	double max_us, total_us;
};

static void trcu_writer_gp(void)
{
	trcu_synchronize();
}

static void other_domain_gp(void)
{
	tsrcu_synchronize(&other_domain);
}

static void blocking_domain_gp(void)
{
	tsrcu_synchronize(&blocking_domain);
}

static void *writer_thread(void *arg)
{
	struct writer *w = arg;

	for (int i = 0; i < GRACE_PERIODS; i++) {
		double t0 = now_us(), dt;

		w->synchronize();
		dt = now_us() - t0;
		w->done++;
		if (!atomic_load(&reader_left))
			w->done_while_parked++;
		w->total_us += dt;
		if (dt > w->max_us)
			w->max_us = dt;
	}
	sem_post(&writer_done);
	return NULL;
}

/* Waits for one writer to finish, up to `ms` (0: the hang guard). Returns false on timeout. */
static bool wait_writer(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!ms)
		ms = HANG_GUARD_S * 1000L;
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (sem_timedwait(&writer_done, &ts))
		if (errno != EINTR)
			return false;
	return true;
}

static void report(const struct writer *w)
{
	printf("  %-34s %3d of %d grace periods while the reader was parked; "
	       "mean %.1f us, max %.1f us\n", w->what, w->done_while_parked, w->done,
	       w->done ? w->total_us / w->done : 0, w->max_us);
}

static int run_naive(long block_ms)
{
	struct writer w = { .what = "unrelated trcu_synchronize", .synchronize = trcu_writer_gp };
	pthread_t rt, wt;
	bool early;

	naive = true;
	atomic_store(&reader_left, 0);
	pthread_create(&rt, NULL, blocking_reader, NULL);
	sem_wait(&reader_inside);
	pthread_create(&wt, NULL, writer_thread, &w);
	early = wait_writer(block_ms);	/* the reader stays parked this long */
	sem_post(&reader_may_leave);
	if (!early && !wait_writer(0))
		teardown_die("srcu", 0, "stall_demo: the trcu writer never finished");
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
	printf("naive: a reader blocks %ld ms inside trcu_read_lock()\n", block_ms);
	report(&w);
	return w.done_while_parked == 0 ? 0 : 1;
}

static int run_fixed(long block_ms)
{
	struct writer tw = { .what = "unrelated trcu_synchronize", .synchronize = trcu_writer_gp };
	struct writer ow = { .what = "another domain's tsrcu_synchronize",
			     .synchronize = other_domain_gp };
	struct writer bw = { .what = "its own domain's tsrcu_synchronize",
			     .synchronize = blocking_domain_gp };
	pthread_t rt, t1, t2, t3;
	bool own_early;

	naive = false;
	atomic_store(&reader_left, 0);
	pthread_create(&rt, NULL, blocking_reader, NULL);
	sem_wait(&reader_inside);
	pthread_create(&t1, NULL, writer_thread, &tw);
	pthread_create(&t2, NULL, writer_thread, &ow);
	/* Both unrelated writers finish with the reader parked (the guard only for a bug). */
	if (!wait_writer(0) || !wait_writer(0))
		teardown_die("srcu", 0, "stall_demo: an unrelated writer was held by the reader");
	pthread_create(&t3, NULL, writer_thread, &bw);
	own_early = wait_writer(block_ms);
	sem_post(&reader_may_leave);
	if (!own_early && !wait_writer(0))
		teardown_die("srcu", 0, "stall_demo: the domain's writer never finished");
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	pthread_join(rt, NULL);
	printf("fixed: the reader blocks inside tsrcu_read_lock() of its own domain\n");
	report(&tw);
	report(&ow);
	report(&bw);
	return tw.done_while_parked == GRACE_PERIODS && ow.done_while_parked == GRACE_PERIODS &&
	       bw.done_while_parked == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	long block_ms = argc > 1 ? atol(argv[1]) : 200;
	int bad;

	sem_init(&reader_inside, 0, 0);
	sem_init(&reader_may_leave, 0, 0);
	sem_init(&writer_done, 0, 0);
	tsrcu_domain_init(&blocking_domain);
	tsrcu_domain_init(&other_domain);
	bad = run_naive(block_ms) | run_fixed(block_ms);
	tsrcu_domain_destroy(&blocking_domain);
	tsrcu_domain_destroy(&other_domain);
	if (bad)
		printf("FAIL: the counts above are not what the two designs promise\n");
	return bad;
}
