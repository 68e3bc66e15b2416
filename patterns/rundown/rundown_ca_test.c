/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The cache-aware rundown's own tests, built against a copy of rundown_ca.c with its test points
 * compiled in (RUNDOWN_CA_TEST_POINTS; see rundown_ca.h). A test point lets a test stop one
 * thread at an exact place: right after a releaser dropped its count, right after an acquire
 * stored its count, before a wait rescans. Every test runs twice: with membarrier (if the kernel
 * has it) and with full fences on both sides, as RUNDOWN_CA_NO_MEMBARRIER=1 would choose.
 *
 * No timing anywhere: the threads are ordered by semaphores and by polling the ref's state, and
 * the bounds are counts.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <unistd.h>

#include "patterns/common/die.h"
#include "patterns/rundown/rundown_ca.h"
#include "tests/misuse.h"

/*
 * Two Criterion tests per body: the mode chosen at start-up, and fences only. The timeout is a
 * hang guard only: a lost wake or a missed misuse check shows as a wait that never returns.
 */
TestSuite(rundown_ca_membarrier, .timeout = 20);
TestSuite(rundown_ca_fences, .timeout = 20);

#define CA_TEST(name) \
	static void name(void); \
	Test(rundown_ca_membarrier, name) { name(); } \
	Test(rundown_ca_fences, name) { rundown_ca_membarrier = false; name(); } \
	static void name(void)

#define ASSERT_MISUSE(fn, arg, msg) \
	do { \
		char err_[512]; \
		cr_assert(misuse_aborts_with(fn, arg, msg, err_, sizeof(err_)), "stderr: %s", \
			  err_); \
	} while (0)

/* ---- Test points: one thread, one place, first time only ---- */

static void (*at_point)(enum rundown_ca_point at);	/* set before any thread starts */
static _Thread_local bool is_late;	/* this thread is the one a test stops */

void rundown_ca_test_point(enum rundown_ca_point at)
{
	if (at_point)
		at_point(at);
}

/*
 * A ref alone in its own pages, so that "freed" can be made exact: after the owner's wait the
 * pages become PROT_NONE, and any later touch of the ref, read or write, is a SIGSEGV in every
 * build (not only under AddressSanitizer). The range stays reserved, so nothing reuses it.
 */
static size_t mapped_len(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct rundown_ca) + page - 1) / page * page;
}

static struct rundown_ca *ca_mapped(void)
{
	void *p = mmap(NULL, mapped_len(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);

	cr_assert_neq(p, MAP_FAILED);
	return p;	/* zero-filled: no holders, not run down */
}

static void ca_unmapped(struct rundown_ca *ca)
{
	cr_assert_eq(mprotect(ca, mapped_len(), PROT_NONE), 0);
}

/* ---- A releaser touches nothing of the ref after its count drop ---- */

static struct {
	struct rundown_ca *ca;
	pthread_t late;		/* the thread whose tail the test holds */
	atomic_bool tail_taken;
	sem_t counted, in_tail, freed;
	atomic_int counted_on_pollers;
} t;

static void hold_late_releaser(enum rundown_ca_point at)
{
	if (at != RUNDOWN_CA_RELEASED || !is_late || atomic_exchange(&t.tail_taken, true))
		return;
	sem_post(&t.in_tail);
	sem_wait(&t.freed);	/* the owner has waited and freed: now the rest of the release */
}

static void *release_then_stop(void *arg)
{
	(void)arg;
	is_late = true;
	rundown_ca_register_thread();
	if (!rundown_ca_acquire(t.ca))
		abort();	/* not cr_assert: this is not the test's thread */
	rundown_ca_release(t.ca);	/* stops in its tail, after the count drop */
	rundown_ca_unregister_thread();
	return NULL;
}

CA_TEST(a_late_releaser_touches_nothing_of_the_ref)
{
	t.ca = ca_mapped();
	sem_init(&t.in_tail, 0, 0);
	sem_init(&t.freed, 0, 0);
	at_point = hold_late_releaser;
	cr_assert_eq(pthread_create(&t.late, NULL, release_then_stop, NULL), 0);
	sem_wait(&t.in_tail);		/* its count is 0: the wait may return */
	rundown_ca_wait_for_release(t.ca);
	ca_unmapped(t.ca);		/* the owner frees the ref */
	sem_post(&t.freed);
	/* A touch of the ref after its drop is a SIGSEGV. */
	cr_assert_eq(pthread_join(t.late, NULL), 0);
}

/* An acquire that stored its count, then saw the wait begin, undoes it: the same tail. */
static void hold_turned_away(enum rundown_ca_point at)
{
	if (!is_late) {
		/* The owner: rescan only once the acquirer has undone its count and stopped. */
		if (at == RUNDOWN_CA_RESCAN && !atomic_load(&t.tail_taken))
			sem_wait(&t.in_tail), sem_post(&t.in_tail);
		return;
	}
	if (at == RUNDOWN_CA_COUNTED) {
		sem_post(&t.counted);
		while (!(atomic_load(&t.ca->state) & RUNDOWN_CA_ACTIVE))
			;	/* the wait has begun after our count was stored */
	}
	hold_late_releaser(at);
}

static void *acquire_turned_away(void *arg)
{
	(void)arg;
	is_late = true;
	rundown_ca_register_thread();
	if (rundown_ca_acquire(t.ca))
		abort();	/* the wait began between its two loads: it must be turned away */
	rundown_ca_unregister_thread();
	return NULL;
}

CA_TEST(a_turned_away_acquirer_touches_nothing_of_the_ref)
{
	t.ca = ca_mapped();
	sem_init(&t.counted, 0, 0);
	sem_init(&t.in_tail, 0, 0);
	sem_init(&t.freed, 0, 0);
	at_point = hold_turned_away;
	cr_assert_eq(pthread_create(&t.late, NULL, acquire_turned_away, NULL), 0);
	sem_wait(&t.counted);	/* its count is stored; it has not yet looked at state */
	rundown_ca_wait_for_release(t.ca);
	ca_unmapped(t.ca);
	sem_post(&t.freed);
	cr_assert_eq(pthread_join(t.late, NULL), 0);
}

/* ---- The holder count is exact ---- */

static atomic_bool rescanned;

static void release_the_fake_holders(enum rundown_ca_point at)
{
	if (at != RUNDOWN_CA_RESCAN || atomic_exchange(&rescanned, true))
		return;
	/* The wait saw holders and is about to rescan: they leave. */
	atomic_store_explicit(&t.ca->shard[5].held, 0, memory_order_release);
	atomic_store_explicit(&t.ca->shard[6].held, 0, memory_order_release);
}

CA_TEST(the_holder_count_does_not_wrap)
{
	t.ca = rundown_ca_new();
	/* 2^32 protections held, on two threads' shards (white-box: no 4 billion acquires). */
	atomic_store(&t.ca->shard[5].held, UINT32_MAX);
	atomic_store(&t.ca->shard[6].held, 1);
	at_point = release_the_fake_holders;
	rundown_ca_wait_for_release(t.ca);
	cr_assert(atomic_load(&rescanned), "the wait returned with 2^32 protections held");
	rundown_ca_free(t.ca);
}

/* ---- Waits on a ref already run down ---- */

static void (*while_returning_at_once)(struct rundown_ca *ca);

static void call_while_returning_at_once(enum rundown_ca_point at)
{
	static atomic_bool taken;

	if (at == RUNDOWN_CA_WAS_RUN_DOWN && !atomic_exchange(&taken, true))
		while_returning_at_once(t.ca);	/* as another thread would, at this instant */
}

static void wait_again(struct rundown_ca *ca)
{
	rundown_ca_wait_for_release(ca);
}

static void run_down_then(void (*what)(struct rundown_ca *ca))
{
	t.ca = rundown_ca_new();
	rundown_ca_wait_for_release(t.ca);	/* run down, no holders */
	while_returning_at_once = what;
	at_point = call_while_returning_at_once;
	rundown_ca_wait_for_release(t.ca);	/* returns at once; `what` runs in the middle */
}

CA_TEST(two_waits_on_a_run_down_ref_both_return)
{
	run_down_then(wait_again);
	rundown_ca_free(t.ca);
}

CA_TEST(completed_beside_a_wait_on_a_run_down_ref)
{
	run_down_then(rundown_ca_completed);
	rundown_ca_free(t.ca);
}

CA_TEST(reinit_beside_a_wait_on_a_run_down_ref)
{
	run_down_then(rundown_ca_reinit);
	rundown_ca_register_thread();
	cr_assert(rundown_ca_acquire(t.ca), "acquire after reinit must succeed");
	rundown_ca_release(t.ca);
	rundown_ca_unregister_thread();
	rundown_ca_free(t.ca);
}

/* A second wait while the first really drains is still misuse. */
static void *hold_until_killed(void *arg)
{
	rundown_ca_register_thread();
	if (!rundown_ca_acquire(arg))
		abort();
	sem_post(&t.counted);
	for (;;)
		pause();
	return NULL;
}

static void *wait_thread(void *arg)
{
	rundown_ca_wait_for_release(arg);
	return NULL;
}

/* A holder that never leaves, and a wait on another thread that has begun draining. */
static void start_draining(struct rundown_ca *ca)
{
	pthread_t holder, waiter;
	int err;

	/* In a misuse test's child process, where cr_assert cannot report: fatal instead. */
	sem_init(&t.counted, 0, 0);
	err = pthread_create(&holder, NULL, hold_until_killed, ca);
	if (err)
		teardown_die("rundown", err, "pthread_create");
	sem_wait(&t.counted);
	err = pthread_create(&waiter, NULL, wait_thread, ca);
	if (err)
		teardown_die("rundown", err, "pthread_create");
	while (!(atomic_load(&ca->state) & RUNDOWN_CA_DRAINING))
		;
}

static void second_wait_while_draining(void *arg)
{
	start_draining(arg);
	rundown_ca_wait_for_release(arg);	/* this thread holds nothing */
}

CA_TEST(a_second_wait_while_one_drains_aborts)
{
	struct rundown_ca *ca = rundown_ca_new();

	ASSERT_MISUSE(second_wait_while_draining, ca, "rundown: misuse: "
		      "rundown_ca_wait_for_release called while another wait is in progress");
	rundown_ca_free(ca);
}

/* A reinit while a wait really drains: refused in rundown_ca_reinit, before it loses holders. */
static void reinit_while_draining(void *arg)
{
	start_draining(arg);
	rundown_ca_reinit(arg);
}

CA_TEST(a_reinit_while_a_wait_drains_aborts)
{
	struct rundown_ca *ca = rundown_ca_new();

	ASSERT_MISUSE(reinit_while_draining, ca, "rundown: misuse: rundown_ca_reinit on a ref that "
		      "was not run down");
	rundown_ca_free(ca);
}

/* The largest count one thread may hold is allowed; the next acquire aborts, naming it. */
static void acquire_past_the_limit(void *arg)
{
	struct rundown_ca *ca = arg;

	rundown_ca_register_thread();
	atomic_store(&rundown_ca_my_shard(ca)->held, UINT32_MAX - 1);
	if (!rundown_ca_acquire(ca) || atomic_load(&rundown_ca_my_shard(ca)->held) != UINT32_MAX)
		_exit(1);
	rundown_ca_acquire(ca);
}

CA_TEST(acquire_past_the_count_limit_aborts)
{
	struct rundown_ca *ca = rundown_ca_new();

	ASSERT_MISUSE(acquire_past_the_limit, ca, "rundown: misuse: rundown_ca_acquire: more than "
		      "4294967295 protections held on one thread (count overflow)");
	rundown_ca_free(ca);
}

/* Registers, says so, and stays registered: parks until the process ends. */
static void *register_and_park(void *arg)
{
	rundown_ca_register_thread();
	sem_post(arg);
	for (;;)
		pause();
	return NULL;
}

/* RUNDOWN_CA_MAX_THREADS threads hold every slot; one more registration aborts. */
static void register_one_too_many(void *arg)
{
	static sem_t registered;
	pthread_t t;

	(void)arg;
	sem_init(&registered, 0, 0);
	for (int i = 0; i < RUNDOWN_CA_MAX_THREADS; i++) {
		if (pthread_create(&t, NULL, register_and_park, &registered))
			_exit(1);
	}
	for (int i = 0; i < RUNDOWN_CA_MAX_THREADS; i++)
		sem_wait(&registered);
	rundown_ca_register_thread();
}

CA_TEST(registering_one_thread_too_many_aborts)
{
	ASSERT_MISUSE(register_one_too_many, NULL, "rundown: misuse: more than 64 threads "
		      "registered with rundown_ca");
}

static void unregister_unregistered(void *arg)
{
	(void)arg;
	rundown_ca_unregister_thread();
}

CA_TEST(unregistering_an_unregistered_thread_aborts)
{
	ASSERT_MISUSE(unregister_unregistered, NULL, "rundown: misuse: "
		      "rundown_ca_unregister_thread on a thread that is not registered");
}

/* ---- A failed acquire leaves the count alone ---- */

#define POLLERS 4
#define POLLS 2000

static atomic_int active_seen;

static void count_on_pollers(enum rundown_ca_point at)
{
	if (at == RUNDOWN_CA_COUNTED && !is_late)
		atomic_fetch_add(&t.counted_on_pollers, 1);
}

static void *poll_acquire(void *arg)
{
	(void)arg;
	rundown_ca_register_thread();
	while (!(atomic_load(&t.ca->state) & RUNDOWN_CA_ACTIVE))
		;	/* the wait has begun */
	for (int i = 0; i < POLLS; i++)
		if (rundown_ca_acquire(t.ca))
			abort();	/* the holder has not released: the wait is on */
	atomic_fetch_add(&active_seen, 1);
	rundown_ca_unregister_thread();
	return NULL;
}

static void *hold_until_polled(void *arg)
{
	(void)arg;
	is_late = true;
	rundown_ca_register_thread();
	if (!rundown_ca_acquire(t.ca))
		abort();
	sem_post(&t.counted);
	while (atomic_load(&active_seen) < POLLERS)
		;
	rundown_ca_release(t.ca);
	rundown_ca_unregister_thread();
	return NULL;
}

CA_TEST(failed_acquires_leave_the_count_and_the_waiter_alone)
{
	pthread_t poller[POLLERS];

	t.ca = rundown_ca_new();
	sem_init(&t.counted, 0, 0);
	at_point = count_on_pollers;
	cr_assert_eq(pthread_create(&t.late, NULL, hold_until_polled, NULL), 0);
	sem_wait(&t.counted);
	for (int i = 0; i < POLLERS; i++)
		cr_assert_eq(pthread_create(&poller[i], NULL, poll_acquire, NULL), 0);
	rundown_ca_wait_for_release(t.ca);
	for (int i = 0; i < POLLERS; i++)
		cr_assert_eq(pthread_join(poller[i], NULL), 0);
	cr_assert_eq(pthread_join(t.late, NULL), 0);
	/* Every poll began after the wait had: none may store a count, none may wake the wait. */
	cr_assert_eq(atomic_load(&t.counted_on_pollers), 0,
		     "%d of %d failed acquires stored a count", atomic_load(&t.counted_on_pollers),
		     POLLERS * POLLS);
	/* One sleep for the holder, whose release is the only wake; one more for a spurious one. */
	cr_assert_leq(t.ca->wait_sleeps, 2, "the wait slept %u times for one holder and %d polls",
		      t.ca->wait_sleeps, POLLERS * POLLS);
	rundown_ca_free(t.ca);
}

/* ---- Waiting for one's own protection ---- */

static void wait_while_holding(void *arg)
{
	rundown_ca_register_thread();
	rundown_ca_acquire(arg);
	rundown_ca_wait_for_release(arg);
}

static void wait_while_holding_nested(void *arg)
{
	rundown_ca_register_thread();
	rundown_ca_acquire(arg);
	rundown_ca_acquire(arg);
	rundown_ca_release(arg);
	rundown_ca_wait_for_release(arg);
}

/* Without the check, this wait never returns (the suite's timeout ends it). */
static void wait_for_oneself(void)
{
	struct rundown_ca *ca = rundown_ca_new();

	ASSERT_MISUSE(wait_while_holding, ca, "rundown: misuse: rundown_ca_wait_for_release on a "
		      "thread that holds protection on this ref (it would wait for itself)");
	ASSERT_MISUSE(wait_while_holding_nested, ca, "it would wait for itself");
	rundown_ca_free(ca);
}

Test(rundown_ca_membarrier, a_wait_for_ones_own_protection_aborts)
{
	wait_for_oneself();
}

Test(rundown_ca_fences, a_wait_for_ones_own_protection_aborts)
{
	rundown_ca_membarrier = false;
	wait_for_oneself();
}
