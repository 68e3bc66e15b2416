/* SPDX-License-Identifier: BSD-2-Clause */
/* The contracts of the three rundown flavours, and their misuse. */
#include <criterion/criterion.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "patterns/common/die.h"
#include "patterns/rundown/rundown.h"
#include "patterns/rundown/rundown_ca.h"
#include "patterns/rundown/rundown_kref.h"
#include "tests/misuse.h"
#include "tests/thread_state.h"

/* ---- One-word rundown: what the Windows documentation says ---- */

Test(rundown, acquire_succeeds_until_wait_then_fails)
{
	struct rundown_ref ref = RUNDOWN_REF_INIT;

	cr_assert(rundown_acquire(&ref));
	cr_assert(rundown_acquire(&ref));
	rundown_release(&ref);
	rundown_release(&ref);
	rundown_wait_for_release(&ref);	/* no holders: returns at once, object run down */
	cr_assert(rundown_is_active(&ref));
	cr_assert_not(rundown_acquire(&ref), "acquire after wait must return false");
	cr_assert_eq(atomic_load(&ref.word), RUNDOWN_ACTIVE, "a failed acquire leaves no count");
}

Test(rundown, second_wait_has_no_effect)
{
	struct rundown_ref ref = RUNDOWN_REF_INIT;

	rundown_wait_for_release(&ref);
	rundown_wait_for_release(&ref);	/* Windows: no effect, not an error */
	rundown_completed(&ref);
	rundown_wait_for_release(&ref);	/* after ExRundownCompleted: returns at once */
	cr_assert_not(rundown_acquire(&ref), "acquire after completed must return false");
}

Test(rundown, reinit_after_rundown_grants_again)
{
	struct rundown_ref ref = RUNDOWN_REF_INIT;

	rundown_wait_for_release(&ref);
	rundown_completed(&ref);
	rundown_reinit(&ref);
	cr_assert(rundown_acquire(&ref), "acquire after reinit must succeed");
	rundown_release(&ref);
	rundown_wait_for_release(&ref);
	rundown_reinit(&ref);	/* completed is optional between wait and reinit */
	cr_assert(rundown_acquire(&ref));
	rundown_release(&ref);
}

struct drain {
	struct rundown_ref ref;
	struct rundown_ca *ca;
	atomic_int order;
	int release_at, wait_returned_at;
};

static void *wait_thread(void *arg)
{
	struct drain *d = arg;

	rundown_wait_for_release(&d->ref);
	d->wait_returned_at = atomic_fetch_add(&d->order, 1);
	return NULL;
}

Test(rundown, wait_blocks_until_the_holder_releases)
{
	struct drain d = { .ref = RUNDOWN_REF_INIT };
	pthread_t t;

	cr_assert(rundown_acquire(&d.ref));
	cr_assert_eq(pthread_create(&t, NULL, wait_thread, &d), 0);
	while (!rundown_is_active(&d.ref))
		;	/* the wait has begun */
	cr_assert_not(rundown_acquire(&d.ref), "acquire during the wait must fail");
	d.release_at = atomic_fetch_add(&d.order, 1);
	rundown_release(&d.ref);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_lt(d.release_at, d.wait_returned_at, "wait returned before the holder released");
}

struct sleeper {
	struct rundown_ref ref;
	atomic_int tid;
};

static void *wait_thread_tid(void *arg)
{
	struct sleeper *s = arg;

	atomic_store(&s->tid, (int)syscall(SYS_gettid));
	rundown_wait_for_release(&s->ref);
	return NULL;
}

/*
 * pthread_create and pthread_join for the helpers that also run in a misuse test's child
 * process, where cr_assert cannot report: a failure there is fatal, not a test verdict.
 */
static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int err = pthread_create(t, NULL, fn, arg);

	if (err)
		teardown_die("rundown", err, "pthread_create");
}

static void join_thread(pthread_t t)
{
	int err = pthread_join(t, NULL);

	if (err)
		teardown_die("rundown", err, "pthread_join");
}

/* Starts a thread waiting on s->ref (which the caller holds) and returns once it sleeps. */
static void start_sleeping_waiter(struct sleeper *s, pthread_t *t)
{
	start_thread(t, wait_thread_tid, s);
	while (!rundown_is_active(&s->ref) || thread_state(atomic_load(&s->tid)) != 'S')
		sched_yield();
}

/*
 * The release that finds the waiter already asleep in the kernel must wake it. The holder
 * releases only once the waiting thread is seen sleeping; the timeout is a hang guard only.
 */
Test(rundown, last_release_wakes_a_sleeping_waiter, .timeout = 20)
{
	struct sleeper s = { .ref = RUNDOWN_REF_INIT };
	pthread_t t;

	cr_assert(rundown_acquire(&s.ref));
	start_sleeping_waiter(&s, &t);
	rundown_release(&s.ref);
	cr_assert_eq(pthread_join(t, NULL), 0);
}

static void release_without_acquire(void *arg)
{
	rundown_release(arg);
}

static void completed_before_wait(void *arg)
{
	rundown_completed(arg);
}

static void reinit_before_wait(void *arg)
{
	rundown_acquire(arg);
	rundown_reinit(arg);
}

static void two_waits_at_once(void *arg)
{
	struct drain *d = arg;
	pthread_t t;

	rundown_acquire(&d->ref);
	start_thread(&t, wait_thread, d);
	while (!rundown_is_active(&d->ref))
		;
	rundown_wait_for_release(&d->ref);
}

#define ASSERT_MISUSE(fn, arg, msg) \
	do { \
		char err_[512]; \
		cr_assert(misuse_aborts_with(fn, arg, msg, err_, sizeof(err_)), "stderr: %s", \
			  err_); \
	} while (0)

Test(rundown, misuse_release_without_acquire_aborts)
{
	struct rundown_ref ref = RUNDOWN_REF_INIT;

	ASSERT_MISUSE(release_without_acquire, &ref,
		      "rundown: misuse: rundown_release without a matching rundown_acquire");
}

Test(rundown, misuse_completed_before_wait_aborts)
{
	struct rundown_ref ref = RUNDOWN_REF_INIT;

	ASSERT_MISUSE(completed_before_wait, &ref,
		      "rundown: misuse: rundown_completed before rundown_wait_for_release "
		      "returned");
}

Test(rundown, misuse_reinit_before_rundown_aborts)
{
	struct rundown_ref ref = RUNDOWN_REF_INIT;

	ASSERT_MISUSE(reinit_before_wait, &ref,
		      "rundown: misuse: rundown_reinit on a ref that was not run down");
}

Test(rundown, misuse_two_concurrent_waits_abort)
{
	struct drain d = { .ref = RUNDOWN_REF_INIT };

	ASSERT_MISUSE(two_waits_at_once, &d, "rundown: misuse: rundown_wait_for_release called "
		      "while another wait is in progress");
}

/*
 * A reinit (and a new acquire) between the last release's wake and the waiter's reload. The
 * three steps are written as the one store they add up to, while the waiter is seen asleep, so
 * the waiter's reload is certain to find them: it must abort, not sleep on the new holder.
 */
static void reinit_while_the_wait_sleeps(void *arg)
{
	struct sleeper *s = arg;
	pthread_t t;

	rundown_acquire(&s->ref);
	start_sleeping_waiter(s, &t);
	atomic_store(&s->ref.word, RUNDOWN_ONE);	/* release, reinit, acquire */
	syscall(SYS_futex, &s->ref.word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	join_thread(t);
}

Test(rundown, misuse_reinit_while_a_wait_sleeps_aborts, .timeout = 20)
{
	struct sleeper s = { .ref = RUNDOWN_REF_INIT };

	ASSERT_MISUSE(reinit_while_the_wait_sleeps, &s, "rundown: misuse: rundown_reinit called "
		      "before rundown_wait_for_release returned");
}

/* The largest count is allowed; the next acquire aborts, naming that count exactly. */
static void acquire_past_the_limit(void *arg)
{
	struct rundown_ref *ref = arg;

	atomic_store(&ref->word, (RUNDOWN_MAX_HOLDERS - 1) * RUNDOWN_ONE);
	if (!rundown_acquire(ref))
		_exit(1);
	fprintf(stderr, "holds %u\n", atomic_load(&ref->word) / RUNDOWN_ONE);
	rundown_acquire(ref);
}

Test(rundown, misuse_acquire_overflow_aborts_at_the_exact_limit)
{
	struct rundown_ref ref = RUNDOWN_REF_INIT;
	char err[512];

	cr_assert(misuse_aborts_with(acquire_past_the_limit, &ref, "rundown: misuse: "
				     "rundown_acquire: more than 2147483647 protections held at "
				     "once",
				     err, sizeof(err)), "stderr: %s", err);
	cr_assert(strstr(err, "holds 2147483647\n"), "the last allowed acquire failed: %s", err);
}

/* ---- Last reference frees ---- */

struct counted {
	struct rundown_kref ref;	/* first member: the destructor casts back */
	atomic_int destroyed;
};

static void counted_release(struct rundown_kref *k)
{
	atomic_fetch_add(&((struct counted *)k)->destroyed, 1);
}

Test(rundown_kref, last_put_runs_the_destructor_once)
{
	struct counted c = { .destroyed = 0 };

	rundown_kref_init(&c.ref);
	rundown_kref_get(&c.ref);
	cr_assert(rundown_kref_get_unless_zero(&c.ref));
	cr_assert_eq(rundown_kref_read(&c.ref), 3);
	cr_assert_not(rundown_kref_put(&c.ref, counted_release));
	cr_assert_not(rundown_kref_put(&c.ref, counted_release));
	cr_assert_eq(atomic_load(&c.destroyed), 0, "destroyed while references remained");
	cr_assert(rundown_kref_put(&c.ref, counted_release), "the last put must say so");
	cr_assert_eq(atomic_load(&c.destroyed), 1);
	cr_assert_not(rundown_kref_get_unless_zero(&c.ref), "a dying object must not be revived");
	cr_assert_eq(rundown_kref_read(&c.ref), 0, "a refused get leaves the count at zero");
}

#define KREF_THREADS 4
#define KREF_ROUNDS 20000

static void *get_put_loop(void *arg)
{
	struct counted *c = arg;

	for (int i = 0; i < KREF_ROUNDS; i++) {
		rundown_kref_get(&c->ref);
		rundown_kref_put(&c->ref, counted_release);
	}
	rundown_kref_put(&c->ref, counted_release);	/* the reference main took for us */
	return NULL;
}

Test(rundown_kref, concurrent_puts_destroy_exactly_once)
{
	for (int round = 0; round < 50; round++) {
		struct counted c = { .destroyed = 0 };
		pthread_t t[KREF_THREADS];

		rundown_kref_init(&c.ref);
		for (int i = 0; i < KREF_THREADS; i++) {
			rundown_kref_get(&c.ref);
			cr_assert_eq(pthread_create(&t[i], NULL, get_put_loop, &c), 0);
		}
		rundown_kref_put(&c.ref, counted_release);	/* the creator's reference */
		for (int i = 0; i < KREF_THREADS; i++)
			cr_assert_eq(pthread_join(t[i], NULL), 0);
		cr_assert_eq(atomic_load(&c.destroyed), 1, "round %d: destructor ran %d times",
			     round, atomic_load(&c.destroyed));
	}
}

static void kref_put_at_zero(void *arg)
{
	struct counted *c = arg;

	rundown_kref_put(&c->ref, counted_release);
	rundown_kref_put(&c->ref, counted_release);
}

static void kref_get_at_zero(void *arg)
{
	struct counted *c = arg;

	rundown_kref_put(&c->ref, counted_release);
	rundown_kref_get(&c->ref);
}

Test(rundown_kref, misuse_put_without_get_aborts)
{
	struct counted c = { .destroyed = 0 };

	rundown_kref_init(&c.ref);
	ASSERT_MISUSE(kref_put_at_zero, &c,
		      "rundown: misuse: rundown_kref_put on a zero count (a put without a "
		      "matching get)");
}

Test(rundown_kref, misuse_get_on_a_dead_object_aborts)
{
	struct counted c = { .destroyed = 0 };

	rundown_kref_init(&c.ref);
	ASSERT_MISUSE(kref_get_at_zero, &c, "rundown: misuse: rundown_kref_get on a zero count");
}

static void kref_get_past_the_limit(void *arg)
{
	struct counted *c = arg;

	atomic_store(&c->ref.refcount, UINT32_MAX - 1);
	rundown_kref_get(&c->ref);
	fprintf(stderr, "holds %u\n", rundown_kref_read(&c->ref));
	rundown_kref_get(&c->ref);
}

static void kref_get_unless_zero_past_the_limit(void *arg)
{
	struct counted *c = arg;

	atomic_store(&c->ref.refcount, UINT32_MAX - 1);
	if (!rundown_kref_get_unless_zero(&c->ref))
		_exit(1);
	fprintf(stderr, "holds %u\n", rundown_kref_read(&c->ref));
	rundown_kref_get_unless_zero(&c->ref);
}

Test(rundown_kref, misuse_count_overflow_aborts_at_the_exact_limit)
{
	struct counted c = { .destroyed = 0 };
	char err[512];

	rundown_kref_init(&c.ref);
	cr_assert(misuse_aborts_with(kref_get_past_the_limit, &c, "rundown: misuse: "
				     "rundown_kref_get: more than 4294967295 references", err,
				     sizeof(err)), "stderr: %s", err);
	cr_assert(strstr(err, "holds 4294967295\n"), "the last allowed get failed: %s", err);
	cr_assert(misuse_aborts_with(kref_get_unless_zero_past_the_limit, &c, "rundown: misuse: "
				     "rundown_kref_get_unless_zero: more than 4294967295 "
				     "references",
				     err, sizeof(err)), "stderr: %s", err);
	cr_assert(strstr(err, "holds 4294967295\n"), "the last allowed get failed: %s", err);
}

/* ---- Cache-aware rundown: the same contract ---- */

static void ca_setup(void)
{
	rundown_ca_register_thread();
}

static void ca_teardown(void)
{
	rundown_ca_unregister_thread();
}

TestSuite(rundown_ca, .init = ca_setup, .fini = ca_teardown);

Test(rundown_ca, acquire_until_wait_second_wait_and_reinit)
{
	struct rundown_ca *ca = rundown_ca_new();

	cr_assert(rundown_ca_acquire(ca));
	cr_assert(rundown_ca_acquire(ca));
	rundown_ca_release(ca);
	rundown_ca_release(ca);
	rundown_ca_wait_for_release(ca);
	cr_assert_not(rundown_ca_acquire(ca), "acquire after wait must return false");
	rundown_ca_wait_for_release(ca);	/* no effect */
	rundown_ca_completed(ca);
	rundown_ca_wait_for_release(ca);
	cr_assert_not(rundown_ca_acquire(ca));
	rundown_ca_reinit(ca);
	cr_assert(rundown_ca_acquire(ca), "acquire after reinit must succeed");
	rundown_ca_release(ca);
	for (int i = 0; i < RUNDOWN_CA_MAX_THREADS; i++)
		cr_assert_eq(atomic_load(&ca->shard[i].held), 0, "shard %d left with a count", i);
	rundown_ca_free(ca);
}

static void *holder_thread(void *arg)
{
	struct drain *d = arg;

	rundown_ca_register_thread();
	if (!rundown_ca_acquire(d->ca))
		abort();	/* not cr_assert: this is not the test's thread */
	atomic_fetch_add(&d->order, 1);	/* order 1: holding */
	while (!(atomic_load(&d->ca->state) & RUNDOWN_CA_ACTIVE))
		;	/* the wait has begun */
	d->release_at = atomic_fetch_add(&d->order, 1);
	rundown_ca_release(d->ca);
	rundown_ca_unregister_thread();
	return NULL;
}

Test(rundown_ca, wait_blocks_until_a_holder_on_another_thread_releases)
{
	struct drain d = { .ca = rundown_ca_new() };
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, holder_thread, &d), 0);
	while (atomic_load(&d.order) == 0)
		;
	rundown_ca_wait_for_release(d.ca);
	d.wait_returned_at = atomic_fetch_add(&d.order, 1);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_lt(d.release_at, d.wait_returned_at, "wait returned before the holder released");
	cr_assert_not(rundown_ca_acquire(d.ca));
	rundown_ca_free(d.ca);
}

static void ca_release_without_acquire(void *arg)
{
	rundown_ca_release(arg);
}

static void ca_acquire_unregistered(void *arg)
{
	rundown_ca_unregister_thread();
	rundown_ca_acquire(arg);
}

static void ca_register_twice(void *arg)
{
	(void)arg;
	rundown_ca_register_thread();
}

static void ca_reinit_before_wait(void *arg)
{
	rundown_ca_reinit(arg);
}

static void ca_completed_before_wait(void *arg)
{
	rundown_ca_completed(arg);
}

static void *ca_wait_thread(void *arg)
{
	rundown_ca_wait_for_release(arg);
	return NULL;
}

static void ca_two_waits_at_once(void *arg)
{
	struct rundown_ca *ca = arg;
	pthread_t t;

	rundown_ca_acquire(ca);	/* keeps the first wait waiting */
	start_thread(&t, ca_wait_thread, ca);
	while (!(atomic_load(&ca->state) & RUNDOWN_CA_DRAINING))
		;
	rundown_ca_wait_for_release(ca);
}

Test(rundown_ca, misuse_release_without_acquire_aborts)
{
	struct rundown_ca *ca = rundown_ca_new();

	ASSERT_MISUSE(ca_release_without_acquire, ca, "rundown: misuse: rundown_ca_release without "
		      "a matching rundown_ca_acquire on this thread");
	rundown_ca_free(ca);
}

Test(rundown_ca, misuse_unregistered_thread_aborts)
{
	struct rundown_ca *ca = rundown_ca_new();

	ASSERT_MISUSE(ca_acquire_unregistered, ca, "rundown: misuse: rundown_ca_acquire or "
		      "rundown_ca_release on a thread that did not call "
		      "rundown_ca_register_thread");
	rundown_ca_free(ca);
}

Test(rundown_ca, misuse_register_twice_aborts)
{
	ASSERT_MISUSE(ca_register_twice, NULL,
		      "rundown: misuse: rundown_ca_register_thread called twice on one thread");
}

Test(rundown_ca, misuse_reinit_and_completed_before_rundown_abort)
{
	struct rundown_ca *ca = rundown_ca_new();

	ASSERT_MISUSE(ca_reinit_before_wait, ca,
		      "rundown: misuse: rundown_ca_reinit on a ref that was not run down");
	ASSERT_MISUSE(ca_completed_before_wait, ca, "rundown: misuse: rundown_ca_completed before "
		      "rundown_ca_wait_for_release returned");
	rundown_ca_free(ca);
}

Test(rundown_ca, misuse_two_concurrent_waits_abort)
{
	struct rundown_ca *ca = rundown_ca_new();

	ASSERT_MISUSE(ca_two_waits_at_once, ca, "rundown: misuse: rundown_ca_wait_for_release "
		      "called while another wait is in progress");
	rundown_ca_free(ca);
}
