/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu_ref's own tests, built against a copy of percpu_ref.c with its test points compiled in
 * (PERCPU_REF_TEST_POINTS; see percpu_ref.h): a get can be held between its mode load and its
 * count while kill runs. Every test runs twice: with membarrier (if the kernel has it) and with
 * full fences on both sides. No timing: threads are ordered by semaphores; the timeout is a
 * hang guard only.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>

#include "patterns/rundown/percpu_ref.h"
#include "tests/misuse.h"

TestSuite(percpu_ref_membarrier, .timeout = 20);
TestSuite(percpu_ref_fences, .timeout = 20);

#define PCPU_TEST(name) \
	static void name(void); \
	Test(percpu_ref_membarrier, name) { percpu_ref_register_thread(); name(); } \
	Test(percpu_ref_fences, name) \
	{ \
		percpu_ref_membarrier = false; \
		percpu_ref_register_thread(); \
		name(); \
	} \
	static void name(void)

#define ASSERT_MISUSE(fn, arg, msg) \
	do { \
		char err_[512]; \
		cr_assert(misuse_aborts_with(fn, arg, msg, err_, sizeof(err_)), "stderr: %s", \
			  err_); \
	} while (0)

static atomic_int releases, confirms;
static int64_t count_at_confirm;

static void count_release(struct percpu_ref *ref)
{
	(void)ref;
	atomic_fetch_add(&releases, 1);
}

static void record_confirm(struct percpu_ref *ref)
{
	count_at_confirm = atomic_load(&ref->count);
	cr_assert(!percpu_ref_tryget_live(ref), "a get succeeds after confirm");
	atomic_fetch_add(&confirms, 1);
}

/* ---- The contract ---- */

PCPU_TEST(release_runs_once_when_the_last_reference_goes)
{
	struct percpu_ref ref;

	percpu_ref_init(&ref, count_release);
	cr_assert(percpu_ref_tryget_live(&ref));
	percpu_ref_get(&ref);
	percpu_ref_put(&ref);
	cr_assert(!percpu_ref_is_zero(&ref));
	percpu_ref_kill_and_confirm(&ref, record_confirm);
	cr_assert_eq(atomic_load(&confirms), 1);
	cr_assert_eq(count_at_confirm, 2, "the count at confirm is %lld, not the holder's 1 + "
		     "the switch's 1", (long long)count_at_confirm);
	cr_assert_eq(atomic_load(&releases), 0, "release ran while a holder is left");
	cr_assert(!percpu_ref_tryget_live(&ref), "tryget_live succeeds after kill");
	percpu_ref_get(&ref);	/* allowed: the caller holds one */
	percpu_ref_put(&ref);
	percpu_ref_put(&ref);
	cr_assert_eq(atomic_load(&releases), 1);
	cr_assert(percpu_ref_is_zero(&ref));
	percpu_ref_exit(&ref);
}

PCPU_TEST(kill_with_no_holder_releases_at_once)
{
	struct percpu_ref ref;

	percpu_ref_init(&ref, count_release);
	percpu_ref_kill(&ref);
	cr_assert_eq(atomic_load(&releases), 1);
	percpu_ref_exit(&ref);
}

/* A get on one thread and its put on another: the counters go negative, the sum does not. */
static void *put_elsewhere(void *arg)
{
	percpu_ref_register_thread();
	for (int i = 0; i < 1000; i++)
		percpu_ref_put(arg);
	percpu_ref_unregister_thread();
	return NULL;
}

PCPU_TEST(gets_and_puts_on_different_threads_sum_exactly)
{
	struct percpu_ref ref;
	pthread_t t;

	percpu_ref_init(&ref, count_release);
	for (int i = 0; i < 1001; i++)
		cr_assert(percpu_ref_tryget_live(&ref));
	cr_assert_eq(pthread_create(&t, NULL, put_elsewhere, &ref), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	percpu_ref_kill_and_confirm(&ref, record_confirm);
	cr_assert_eq(count_at_confirm, 2);
	percpu_ref_put(&ref);
	cr_assert_eq(atomic_load(&releases), 1);
	percpu_ref_exit(&ref);
}

/* ---- The grace period: a get held between its mode load and its count ---- */

static _Thread_local bool is_late;	/* this thread is the getter the test holds */

static struct {
	struct percpu_ref ref;
	atomic_bool late_taken;		/* the getter is held once */
	sem_t at_counting, go;
	atomic_bool got;
} g;

void percpu_ref_test_point(enum percpu_ref_point at)
{
	if (at == PERCPU_REF_COUNTING && is_late && !atomic_exchange(&g.late_taken, true)) {
		sem_post(&g.at_counting);
		sem_wait(&g.go);
	} else if (at == PERCPU_REF_SCAN_WAITS) {
		sem_post(&g.go);	/* kill waits for the held get: let it count */
	}
}

static void *held_get(void *arg)
{
	(void)arg;
	is_late = true;
	percpu_ref_register_thread();
	atomic_store(&g.got, percpu_ref_tryget_live(&g.ref));
	percpu_ref_unregister_thread();
	return NULL;
}

/* Without the grace period, confirm runs while the get has not counted: let it count then. */
static void confirm_and_let_go(struct percpu_ref *ref)
{
	record_confirm(ref);
	sem_post(&g.go);
}

PCPU_TEST(kill_waits_for_a_get_that_read_percpu_mode)
{
	pthread_t getter;

	percpu_ref_init(&g.ref, count_release);
	sem_init(&g.at_counting, 0, 0);
	sem_init(&g.go, 0, 0);
	cr_assert_eq(pthread_create(&getter, NULL, held_get, NULL), 0);
	sem_wait(&g.at_counting);	/* it read "percpu" and has not counted */
	percpu_ref_kill_and_confirm(&g.ref, confirm_and_let_go);
	cr_assert_eq(pthread_join(getter, NULL), 0);
	cr_assert(atomic_load(&g.got));
	cr_assert_eq(count_at_confirm, 2, "the sum missed the held get: the count at confirm "
		     "is %lld", (long long)count_at_confirm);
	cr_assert_eq(atomic_load(&releases), 0, "release ran under a holder");
	percpu_ref_put(&g.ref);
	cr_assert_eq(atomic_load(&releases), 1);
	percpu_ref_exit(&g.ref);
}

/* ---- Misuse ---- */

static void get_after_release(void *arg)
{
	struct percpu_ref ref;

	(void)arg;
	percpu_ref_init(&ref, count_release);
	percpu_ref_kill(&ref);
	percpu_ref_get(&ref);	/* should have been tryget_live */
}

PCPU_TEST(a_get_after_release_aborts)
{
	ASSERT_MISUSE(get_after_release, NULL, "rundown: misuse: percpu_ref_get on a ref whose "
		      "count reached zero");
}

static void put_below_zero_atomic(void *arg)
{
	struct percpu_ref ref;

	(void)arg;
	percpu_ref_init(&ref, count_release);
	percpu_ref_kill(&ref);
	percpu_ref_put(&ref);
}

static void put_below_zero_percpu(void *arg)
{
	struct percpu_ref ref;

	(void)arg;
	percpu_ref_init(&ref, count_release);
	percpu_ref_put(&ref);	/* the initial reference is kill's */
	percpu_ref_kill(&ref);
}

PCPU_TEST(a_put_below_zero_aborts)
{
	ASSERT_MISUSE(put_below_zero_atomic, NULL, "rundown: misuse: percpu_ref_put without a "
		      "reference");
	ASSERT_MISUSE(put_below_zero_percpu, NULL, "rundown: misuse: percpu_ref_put without a "
		      "reference (more puts than gets");
}

static void kill_twice(void *arg)
{
	struct percpu_ref ref;

	(void)arg;
	percpu_ref_init(&ref, count_release);
	cr_assert(percpu_ref_tryget_live(&ref));
	percpu_ref_kill(&ref);
	percpu_ref_kill(&ref);
}

PCPU_TEST(a_second_kill_aborts)
{
	ASSERT_MISUSE(kill_twice, NULL, "rundown: misuse: percpu_ref_kill called twice");
}

static void exit_while_live(void *arg)
{
	struct percpu_ref ref;

	(void)arg;
	percpu_ref_init(&ref, count_release);
	percpu_ref_exit(&ref);
}

static void exit_while_held(void *arg)
{
	struct percpu_ref ref;

	(void)arg;
	percpu_ref_init(&ref, count_release);
	percpu_ref_get(&ref);
	percpu_ref_kill(&ref);
	percpu_ref_exit(&ref);
}

PCPU_TEST(an_exit_before_release_aborts)
{
	ASSERT_MISUSE(exit_while_live, NULL, "rundown: misuse: percpu_ref_exit on a ref that is "
		      "still live");
	ASSERT_MISUSE(exit_while_held, NULL, "rundown: misuse: percpu_ref_exit on a ref that is "
		      "still live");
}

static void get_unregistered(void *arg)
{
	struct percpu_ref ref;

	(void)arg;
	percpu_ref_unregister_thread();
	percpu_ref_init(&ref, count_release);
	percpu_ref_tryget_live(&ref);
}

static void register_twice(void *arg)
{
	(void)arg;
	percpu_ref_register_thread();
}

PCPU_TEST(registration_misuse_aborts)
{
	ASSERT_MISUSE(get_unregistered, NULL, "rundown: misuse: percpu_ref get or put on a "
		      "thread that did not call percpu_ref_register_thread");
	ASSERT_MISUSE(register_twice, NULL, "rundown: misuse: percpu_ref_register_thread called "
		      "twice");
}
