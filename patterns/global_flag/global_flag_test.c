/* SPDX-License-Identifier: BSD-2-Clause */
/* The global flag's contract, and its misuse. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "patterns/global_flag/global_flag.h"
#include "tests/misuse.h"
#include "tests/thread_state.h"

Test(global_flag, admits_until_shutdown_then_turns_away)
{
	struct global_flag gf = GLOBAL_FLAG_INIT;

	cr_assert(global_flag_enter(&gf));
	cr_assert(global_flag_enter(&gf));
	cr_assert_eq(atomic_load(&gf.in_flight), 2);
	global_flag_exit(&gf);
	global_flag_exit(&gf);
	global_flag_shutdown(&gf);
	cr_assert_not(global_flag_enter(&gf), "enter after shutdown must be turned away");
	cr_assert_eq(atomic_load(&gf.in_flight), 0, "a turned-away enter leaves no count behind");
}

struct drain {
	struct global_flag gf;
	atomic_int order;
	int exit_at, shutdown_returned_at;
};

static void *shutdown_thread(void *arg)
{
	struct drain *d = arg;

	global_flag_shutdown(&d->gf);
	d->shutdown_returned_at = atomic_fetch_add(&d->order, 1);
	return NULL;
}

Test(global_flag, shutdown_waits_for_the_callback_in_flight)
{
	struct drain d = { .gf = GLOBAL_FLAG_INIT };
	pthread_t t;

	cr_assert(global_flag_enter(&d.gf));
	cr_assert_eq(pthread_create(&t, NULL, shutdown_thread, &d), 0);
	while (atomic_load(&d.gf.alive))
		;	/* shutdown has begun: it cleared the flag */
	d.exit_at = atomic_fetch_add(&d.order, 1);
	global_flag_exit(&d.gf);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_lt(d.exit_at, d.shutdown_returned_at,
		     "shutdown returned before the callback in flight left");
}

struct sleeper {
	struct global_flag gf;
	atomic_int tid;
};

static void *sleeping_shutdown(void *arg)
{
	struct sleeper *t = arg;

	atomic_store(&t->tid, (int)syscall(SYS_gettid));
	global_flag_shutdown(&t->gf);
	return NULL;
}

/* The last callback out wakes a teardown asleep in the kernel; the timed join is a hang guard. */
Test(global_flag, the_last_exit_wakes_a_sleeping_shutdown)
{
	struct sleeper t = { .gf = GLOBAL_FLAG_INIT };
	struct timespec deadline;
	pthread_t th;

	cr_assert(global_flag_enter(&t.gf));
	cr_assert_eq(pthread_create(&th, NULL, sleeping_shutdown, &t), 0);
	while (atomic_load(&t.gf.alive) || !atomic_load(&t.tid) ||
	       thread_state(atomic_load(&t.tid)) != 'S')
		sched_yield();		/* shutdown sleeps on the count, waiting for us */
	global_flag_exit(&t.gf);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 20;
	cr_assert_eq(pthread_timedjoin_np(th, NULL, &deadline), 0,
		     "the last exit did not wake the sleeping shutdown");
}

static void exit_without_enter(void *arg)
{
	global_flag_exit(arg);
}

Test(global_flag, reinit_admits_again_after_shutdown)
{
	struct global_flag gf = GLOBAL_FLAG_INIT;

	global_flag_shutdown(&gf);
	cr_assert_not(global_flag_enter(&gf), "a shut-down flag must turn callbacks away");
	global_flag_reinit(&gf);
	cr_assert(global_flag_enter(&gf), "a re-armed flag must admit callbacks");
	global_flag_exit(&gf);
	global_flag_shutdown(&gf);
}

static void reinit_while_alive(void *arg)
{
	global_flag_reinit(arg);
}

Test(global_flag, misuse_reinit_while_alive_aborts)
{
	struct global_flag gf = GLOBAL_FLAG_INIT;
	char err[512];

	cr_assert(misuse_aborts_with(reinit_while_alive, &gf,
				     "global_flag: misuse: global_flag_reinit on a flag that was not "
				     "shut down", err, sizeof(err)), "stderr: %s", err);
}

static void shutdown_twice(void *arg)
{
	global_flag_shutdown(arg);
	global_flag_shutdown(arg);
}

Test(global_flag, misuse_exit_without_enter_aborts)
{
	struct global_flag gf = GLOBAL_FLAG_INIT;
	char err[512];

	cr_assert(misuse_aborts_with(exit_without_enter, &gf,
				     "global_flag: misuse: global_flag_exit without a matching "
				     "global_flag_enter", err, sizeof(err)), "stderr: %s", err);
}

Test(global_flag, misuse_shutdown_twice_aborts)
{
	struct global_flag gf = GLOBAL_FLAG_INIT;
	char err[512];

	cr_assert(misuse_aborts_with(shutdown_twice, &gf,
				     "global_flag: misuse: global_flag_shutdown called twice", err,
				     sizeof(err)), "stderr: %s", err);
}
