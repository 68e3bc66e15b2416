/* SPDX-License-Identifier: BSD-2-Clause */
/* The registry's contract: calls, the drain, and its misuse. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "patterns/registry/registry.h"
#include "tests/misuse.h"
#include "tests/thread_state.h"

static long add_cookie(void *cookie, long arg)
{
	return *(long *)cookie + arg;
}

Test(registry, calls_each_listener_with_its_cookie_until_unregistered)
{
	struct registry r;
	struct registry_handle a, b;
	long ten = 10, twenty = 20, result = 0;

	registry_init(&r);
	cr_assert_eq(registry_call(&r, 1, &result), 0, "an empty registry calls nobody");
	cr_assert(registry_register(&r, add_cookie, &ten, &a));
	cr_assert(registry_register(&r, add_cookie, &twenty, &b));
	cr_assert_eq(registry_call(&r, 1, &result), 2);
	cr_assert_eq(result, 21, "the last listener's result");
	registry_unregister(&r, b);
	cr_assert_eq(registry_call(&r, 2, &result), 1);
	cr_assert_eq(result, 12);
	registry_unregister(&r, a);
	cr_assert_eq(registry_call(&r, 3, &result), 0, "an unregistered listener is not called");
	registry_shutdown(&r);
}

Test(registry, a_full_registry_refuses_and_a_freed_slot_is_reused)
{
	struct registry r;
	struct registry_handle h[REGISTRY_SLOTS], extra;
	long one = 1, result;

	registry_init(&r);
	for (unsigned i = 0; i < REGISTRY_SLOTS; i++)
		cr_assert(registry_register(&r, add_cookie, &one, &h[i]));
	cr_assert_not(registry_register(&r, add_cookie, &one, &extra), "no slot is left");
	registry_unregister(&r, h[3]);
	cr_assert(registry_register(&r, add_cookie, &one, &extra));
	cr_assert_eq(extra.slot, h[3].slot);
	cr_assert_neq(extra.gen, h[3].gen, "a new registration of the slot has a new handle");
	cr_assert_eq(registry_call(&r, 0, &result), REGISTRY_SLOTS);
	for (unsigned i = 0; i < REGISTRY_SLOTS; i++)
		registry_unregister(&r, i == 3 ? extra : h[i]);
	registry_shutdown(&r);
}

/* A listener that stays inside its callback until told to leave. */
struct held {
	struct registry r;
	struct registry_handle h;
	atomic_bool inside, may_leave;
	atomic_int order, unregister_tid;
	atomic_bool returned;
	int left_at, returned_at;
};

/* The argument of the call a test makes itself: it must not park the test's own thread. */
#define OWN_CALL 1

static long held_listener(void *cookie, long arg)
{
	struct held *d = cookie;

	if (arg == OWN_CALL)	/* wrongly admitted: return, so that the test fails, not hangs */
		return arg;
	atomic_store(&d->inside, true);
	while (!atomic_load(&d->may_leave))
		sched_yield();
	d->left_at = atomic_fetch_add(&d->order, 1);
	return arg;
}

static void *held_caller(void *arg)
{
	struct held *d = arg;
	long result;

	registry_call(&d->r, 7, &result);
	return NULL;
}

static void *held_unregister(void *arg)
{
	struct held *d = arg;

	atomic_store(&d->unregister_tid, (int)syscall(SYS_gettid));
	registry_unregister(&d->r, d->h);
	d->returned_at = atomic_fetch_add(&d->order, 1);
	atomic_store(&d->returned, true);
	return NULL;
}

static void held_start(struct held *d, pthread_t *caller, pthread_t *unreg)
{
	registry_init(&d->r);
	cr_assert(registry_register(&d->r, held_listener, d, &d->h));
	cr_assert_eq(pthread_create(caller, NULL, held_caller, d), 0);
	while (!atomic_load(&d->inside))
		sched_yield();
	cr_assert_eq(pthread_create(unreg, NULL, held_unregister, d), 0);
	while (!registry_is_draining(&d->r, d->h) && !atomic_load(&d->returned))
		sched_yield();	/* unregister has closed the door (or, wrongly, returned) */
}

static void held_finish(struct held *d, pthread_t caller, pthread_t unreg)
{
	struct timespec deadline;

	atomic_store(&d->may_leave, true);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 20;	/* a hang guard, not a timing */
	cr_assert_eq(pthread_timedjoin_np(unreg, NULL, &deadline), 0,
		     "unregister did not return after the call left");
	cr_assert_eq(pthread_join(caller, NULL), 0);
	cr_assert_lt(d->left_at, d->returned_at,
		     "unregister returned before the call in flight left the listener");
	registry_shutdown(&d->r);
}

Test(registry, unregister_waits_for_the_call_in_flight, .timeout = 20)
{
	struct held d = { 0 };
	pthread_t caller, unreg;

	held_start(&d, &caller, &unreg);
	held_finish(&d, caller, unreg);
}

Test(registry, a_call_that_begins_while_unregister_waits_is_turned_away, .timeout = 20)
{
	struct held d = { 0 };
	pthread_t caller, unreg;
	long result = -1;

	held_start(&d, &caller, &unreg);
	cr_assert_eq(registry_call(&d.r, OWN_CALL, &result), 0,
		     "a call admitted after unregister began");
	cr_assert_eq(result, -1);
	held_finish(&d, caller, unreg);
}

/* The last call out wakes an unregister asleep in the kernel. */
Test(registry, the_last_call_out_wakes_a_sleeping_unregister, .timeout = 20)
{
	struct held d = { 0 };
	pthread_t caller, unreg;

	held_start(&d, &caller, &unreg);
	while (!atomic_load(&d.returned) && (!atomic_load(&d.unregister_tid) ||
	       thread_state(atomic_load(&d.unregister_tid)) != 'S'))
		sched_yield();	/* asleep in the kernel (or, wrongly, returned) */
	held_finish(&d, caller, unreg);
}

/*
 * Unregister's first half by hand: the slot marked draining, the rundown not yet run down. A call
 * is still admitted there, so the tests' "unregister has begun" must not say so yet.
 */
Test(registry, draining_is_reported_only_once_calls_are_turned_away)
{
	struct registry r;
	struct registry_handle h;
	long one = 1, result;

	registry_init(&r);
	cr_assert(registry_register(&r, add_cookie, &one, &h));
	cr_assert_not(registry_is_draining(&r, h));
	r.slots[h.slot].state = REGISTRY_DRAINING;
	cr_assert_not(registry_is_draining(&r, h), "draining, while a call is still admitted");
	cr_assert_eq(registry_call(&r, 0, &result), 1);
	r.slots[h.slot].state = REGISTRY_LIVE;
	registry_unregister(&r, h);
	registry_shutdown(&r);
}

/* A listener may unregister another listener from its callback (the lock is not held). */
struct pair {
	struct registry r;
	struct registry_handle self, other;
	long calls;
};

static long count_calls(void *cookie, long arg)
{
	(void)arg;
	return ++*(long *)cookie;
}

static long unregister_other(void *cookie, long arg)
{
	struct pair *p = cookie;

	(void)arg;
	registry_unregister(&p->r, p->other);
	return 0;
}

Test(registry, a_listener_may_unregister_another)
{
	struct pair p = { 0 };
	long result;

	registry_init(&p.r);
	cr_assert(registry_register(&p.r, unregister_other, &p, &p.self));
	cr_assert(registry_register(&p.r, count_calls, &p.calls, &p.other));
	cr_assert_eq(registry_call(&p.r, 0, &result), 1, "the other was unregistered first");
	cr_assert_eq(p.calls, 0);
	registry_unregister(&p.r, p.self);
	registry_shutdown(&p.r);
}

/* ---- misuse ---- */

#define ASSERT_MISUSE(fn, message) \
	do { \
		char err_[512]; \
		cr_assert(misuse_aborts_with(fn, NULL, "registry: misuse: " message, err_, \
					     sizeof(err_)), \
			  "stderr: %s", err_); \
	} while (0)

static void unregister_twice(void *arg)
{
	static struct registry r;
	struct registry_handle h;
	long one = 1;

	(void)arg;
	registry_init(&r);
	registry_register(&r, add_cookie, &one, &h);
	registry_unregister(&r, h);
	registry_unregister(&r, h);
}

static void unregister_stale_after_reuse(void *arg)
{
	static struct registry r;
	struct registry_handle h, again;
	long one = 1;

	(void)arg;
	registry_init(&r);
	registry_register(&r, add_cookie, &one, &h);
	registry_unregister(&r, h);
	registry_register(&r, add_cookie, &one, &again);	/* the same slot, a new handle */
	registry_unregister(&r, h);
}

static struct registry self_registry;
static struct registry_handle self_handle;

static long unregister_myself(void *cookie, long arg)
{
	(void)cookie;
	registry_unregister(&self_registry, self_handle);
	return arg;
}

static void unregister_from_own_callback(void *arg)
{
	long result;

	(void)arg;
	registry_init(&self_registry);
	registry_register(&self_registry, unregister_myself, NULL, &self_handle);
	registry_call(&self_registry, 0, &result);
}

static void register_after_shutdown(void *arg)
{
	static struct registry r;
	struct registry_handle h;
	long one = 1;

	(void)arg;
	registry_init(&r);
	registry_shutdown(&r);
	registry_register(&r, add_cookie, &one, &h);
}

static void register_null_callback(void *arg)
{
	static struct registry r;
	struct registry_handle h;

	(void)arg;
	registry_init(&r);
	registry_register(&r, NULL, NULL, &h);
}

static void shutdown_with_a_listener(void *arg)
{
	static struct registry r;
	struct registry_handle h;
	long one = 1;

	(void)arg;
	registry_init(&r);
	registry_register(&r, add_cookie, &one, &h);
	registry_shutdown(&r);
}

static void shutdown_twice(void *arg)
{
	static struct registry r;

	(void)arg;
	registry_init(&r);
	registry_shutdown(&r);
	registry_shutdown(&r);
}

/* A second unregister while the first still waits for a call in flight. */
static void unregister_while_draining(void *arg)
{
	static struct held d;
	pthread_t caller, unreg;

	(void)arg;
	held_start(&d, &caller, &unreg);
	registry_unregister(&d.r, d.h);
}

Test(misuse, unregister_twice)
{
	ASSERT_MISUSE(unregister_twice, "registry_unregister of a listener that is not registered");
}

Test(misuse, unregister_while_the_first_still_drains)
{
	ASSERT_MISUSE(unregister_while_draining, "registry_unregister called twice");
}

Test(misuse, unregister_a_stale_handle_after_the_slot_was_reused)
{
	ASSERT_MISUSE(unregister_stale_after_reuse,
		      "registry_unregister of a listener that is not registered");
}

/* Without the check, the listener waits for itself: the timeout is a hang guard. */
Test(misuse, unregister_from_its_own_callback_is_a_self_deadlock, .timeout = 20)
{
	ASSERT_MISUSE(unregister_from_own_callback, "registry_unregister from inside its own "
		      "callback (it would wait for itself forever)");
}

Test(misuse, register_after_shutdown)
{
	ASSERT_MISUSE(register_after_shutdown, "registry_register after registry_shutdown");
}

Test(misuse, register_a_null_callback)
{
	ASSERT_MISUSE(register_null_callback, "registry_register with a NULL callback");
}

Test(misuse, shutdown_with_a_listener_still_registered)
{
	ASSERT_MISUSE(shutdown_with_a_listener, "registry_shutdown with a listener still "
		      "registered (slot 0)");
}

Test(misuse, shutdown_twice)
{
	ASSERT_MISUSE(shutdown_twice, "registry_shutdown called twice");
}
