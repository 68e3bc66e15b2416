/* SPDX-License-Identifier: BSD-2-Clause */
/* The remove lock's contract, its misuse, and the device stack's round trip. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "patterns/common/die.h"
#include "patterns/remove_lock/device_stack.h"
#include "patterns/remove_lock/remove_lock.h"
#include "tests/misuse.h"
#include "tests/thread_state.h"

static const char tag_a, tag_b, tag_remove;

Test(remove_lock, counts_acquisitions_and_releases)
{
	struct remove_lock lock = REMOVE_LOCK_INIT;

	cr_assert_eq(remove_lock_acquire(&lock, &tag_a), REMOVE_LOCK_SUCCESS);
	cr_assert_eq(remove_lock_acquire(&lock, &tag_b), REMOVE_LOCK_SUCCESS);
	cr_assert_eq(remove_lock_count(&lock), 2);
	remove_lock_release(&lock, &tag_a);
	remove_lock_release(&lock, &tag_b);
	cr_assert_eq(remove_lock_count(&lock), 0);
}

Test(remove_lock, acquire_after_release_and_wait_is_delete_pending)
{
	struct remove_lock lock;

	remove_lock_init(&lock);
	cr_assert_eq(remove_lock_acquire(&lock, &tag_remove), REMOVE_LOCK_SUCCESS);
	remove_lock_release_and_wait(&lock, &tag_remove);	/* holds only its own: returns */
	cr_assert_eq(remove_lock_acquire(&lock, &tag_a), REMOVE_LOCK_DELETE_PENDING);
	cr_assert_eq((uint32_t)REMOVE_LOCK_DELETE_PENDING, 0xC0000056u, "STATUS_DELETE_PENDING");
	cr_assert_eq(remove_lock_count(&lock), 0, "a failed acquire leaves no count behind");
}

struct removal {
	struct remove_lock lock;
	atomic_int order;
	int released_at, returned_at;
};

static void *remover(void *arg)
{
	struct removal *r = arg;

	cr_assert_eq(remove_lock_acquire(&r->lock, &tag_remove), REMOVE_LOCK_SUCCESS);
	remove_lock_release_and_wait(&r->lock, &tag_remove);
	r->returned_at = atomic_fetch_add(&r->order, 1);
	return NULL;
}

static void wait_until_removed(struct remove_lock *lock)
{
	while (!(atomic_load(&lock->word) & REMOVE_LOCK_REMOVED))
		sched_yield();
}

Test(remove_lock, release_and_wait_waits_for_every_acquisition)
{
	struct removal r = { .lock = REMOVE_LOCK_INIT };
	pthread_t t;

	cr_assert_eq(remove_lock_acquire(&r.lock, &tag_a), REMOVE_LOCK_SUCCESS);
	cr_assert_eq(remove_lock_acquire(&r.lock, &tag_b), REMOVE_LOCK_SUCCESS);
	cr_assert_eq(pthread_create(&t, NULL, remover, &r), 0);
	wait_until_removed(&r.lock);
	cr_assert_eq(remove_lock_acquire(&r.lock, &tag_a), REMOVE_LOCK_DELETE_PENDING,
		     "acquire must fail while the remover waits");
	remove_lock_release(&r.lock, &tag_a);
	r.released_at = atomic_fetch_add(&r.order, 1);
	remove_lock_release(&r.lock, &tag_b);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_lt(r.released_at, r.returned_at,
		     "release_and_wait returned with an acquisition outstanding");
	cr_assert_eq(remove_lock_count(&r.lock), 0);
}

static void release_without_acquire(void *arg)
{
	remove_lock_release(arg, &tag_a);
}

static void release_and_wait_twice(void *arg)
{
	remove_lock_acquire(arg, &tag_remove);
	remove_lock_release_and_wait(arg, &tag_remove);
	remove_lock_release_and_wait(arg, &tag_remove);
}

static void release_and_wait_without_holding(void *arg)
{
	remove_lock_release_and_wait(arg, &tag_remove);
}

static void release_after_release_and_wait(void *arg)
{
	remove_lock_acquire(arg, &tag_remove);
	remove_lock_release_and_wait(arg, &tag_remove);
	remove_lock_release(arg, &tag_remove);
}

static void acquire_past_the_limit(void *arg)
{
	remove_lock_acquire(arg, &tag_a);
}

#define ASSERT_MISUSE(fn, lock, message) \
	do { \
		char err_[512]; \
		cr_assert(misuse_aborts_with(fn, lock, "remove_lock: misuse: " message, err_, \
					     sizeof(err_)), "stderr: %s", err_); \
	} while (0)

Test(remove_lock, misuse_release_without_acquire_aborts)
{
	struct remove_lock lock = REMOVE_LOCK_INIT;

	ASSERT_MISUSE(release_without_acquire, &lock,
		      "remove_lock_release without a matching remove_lock_acquire");
}

Test(remove_lock, misuse_release_and_wait_twice_aborts)
{
	struct remove_lock lock = REMOVE_LOCK_INIT;

	ASSERT_MISUSE(release_and_wait_twice, &lock, "remove_lock_release_and_wait called twice");
}

Test(remove_lock, misuse_release_and_wait_without_holding_aborts)
{
	struct remove_lock lock = REMOVE_LOCK_INIT;

	ASSERT_MISUSE(release_and_wait_without_holding, &lock,
		      "remove_lock_release_and_wait without holding an acquisition (the remove "
		      "handler must acquire once more first)");
}

Test(remove_lock, misuse_release_after_release_and_wait_aborts)
{
	struct remove_lock lock = REMOVE_LOCK_INIT;

	ASSERT_MISUSE(release_after_release_and_wait, &lock,
		      "remove_lock_release without a matching remove_lock_acquire");
}

Test(remove_lock, misuse_too_many_acquisitions_aborts)
{
	struct remove_lock lock = { .word = REMOVE_LOCK_COUNT_MASK };

	ASSERT_MISUSE(acquire_past_the_limit, &lock,
		      "more than 2147483647 outstanding acquisitions");
}

/*
 * The device stack. A lower driver whose start_io completes the IRP on the spot, then records
 * how many acquisitions the upper filter still holds: the state a remove handler would find
 * while the lower dispatch routine has not returned.
 */
static uint32_t held_inside_lower_dispatch;

static void complete_then_look(void *context, struct devstack_irp *irp)
{
	struct devstack *s = context;

	devstack_complete_request(irp, DEVSTACK_STATUS_SUCCESS);
	held_inside_lower_dispatch = remove_lock_count(&s->upper.remove_lock);
}

Test(device_stack, single_acquire_holds_nothing_while_the_lower_dispatch_runs)
{
	struct devstack s;

	devstack_init(&s, device_new(7));
	s.lower.start_io = complete_then_look;
	s.lower.start_io_context = &s;
	cr_assert_eq(devstack_request_single(&s), 7);
	cr_assert_eq(held_inside_lower_dispatch, 0, "the case's window: nothing protects the tail");
	s.lower.start_io = NULL;
	devstack_upper_remove_device(&s);
}

Test(device_stack, double_acquire_holds_one_while_the_lower_dispatch_runs)
{
	struct devstack s;

	devstack_init(&s, device_new(7));
	s.lower.start_io = complete_then_look;
	s.lower.start_io_context = &s;
	cr_assert_eq(devstack_request_double(&s), 7);
	cr_assert_eq(held_inside_lower_dispatch, 1, "the acquisition across call_driver");
	cr_assert_eq(remove_lock_count(&s.upper.remove_lock), 0, "both released on return");
	devstack_upper_remove_device(&s);
}

Test(device_stack, requests_after_remove_are_failed_with_delete_pending)
{
	struct devstack s;

	devstack_init(&s, device_new(3));
	cr_assert_eq(devstack_request_double(&s), 3);
	cr_assert_eq(devstack_request_single(&s), 3);
	devstack_upper_remove_device(&s);
	cr_assert_null(s.upper.attached_to, "the remove handler detaches");
	cr_assert_eq(devstack_request_double(&s), SCENARIO_DECLINED);
	cr_assert_eq(devstack_request_single(&s), SCENARIO_DECLINED);
	cr_assert_eq(remove_lock_count(&s.upper.remove_lock), 0);
}

/*
 * The I/O manager's look-up: a requester that found the stack and has not yet tried its first
 * acquire holds up the deletion, whose free would otherwise pull the remove lock from under
 * that acquire. The test waits until the deleter is either done (the bug) or asleep in the
 * kernel (waiting for us), reading the thread's state from /proc: a state, not a clock.
 */
struct lookup_race {
	struct devstack_io io;
	atomic_int order, tid, done;
	int acquired_at, deleted_at;
};

static void *deleter(void *arg)
{
	struct lookup_race *t = arg;
	struct devstack *s = atomic_load(&t->io.stack);

	atomic_store(&t->tid, (int)syscall(SYS_gettid));
	devstack_upper_remove_device(s);	/* nothing held: returns at once */
	devstack_io_delete(&t->io);
	t->deleted_at = atomic_fetch_add(&t->order, 1);
	atomic_store(&t->done, 1);
	free(s);
	return NULL;
}

Test(device_stack, delete_waits_for_a_lookup_before_its_first_acquire)
{
	struct lookup_race t = { .io = { .stack = NULL } };
	struct devstack *s = teardown_malloc("remove_lock", sizeof(*s));
	struct devstack_upper *upper;
	pthread_t th;

	devstack_init(s, device_new(5));
	atomic_init(&t.io.stack, s);
	upper = devstack_io_lookup(&t.io);	/* a requester that found the stack */
	cr_assert_eq(upper, &s->upper);
	cr_assert_eq(pthread_create(&th, NULL, deleter, &t), 0);
	while (atomic_load(&t.io.stack) || !atomic_load(&t.tid))
		sched_yield();			/* the deleter has unpublished the stack */
	cr_assert_null(devstack_io_lookup(&t.io), "a look-up after deletion must find nothing");
	while (!atomic_load(&t.done) && thread_state(atomic_load(&t.tid)) != 'S')
		sched_yield();
	cr_assert_not(atomic_load(&t.done), "the stack was deleted under a look-up in progress");
	t.acquired_at = atomic_fetch_add(&t.order, 1);
	cr_assert_eq(devstack_request_double_looked_up(upper, &t.io.lookups), SCENARIO_DECLINED,
		     "the first acquire after removal fails");
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_lt(t.acquired_at, t.deleted_at);
}

/*
 * The last release wakes a remover that is asleep in the kernel. The timed join is only a hang
 * guard: without the wake the remover would sleep forever.
 */
struct sleeper {
	struct remove_lock lock;
	atomic_int tid, returned;
};

static void *sleeping_remover(void *arg)
{
	struct sleeper *t = arg;

	atomic_store(&t->tid, (int)syscall(SYS_gettid));
	remove_lock_acquire(&t->lock, &tag_remove);
	remove_lock_release_and_wait(&t->lock, &tag_remove);
	atomic_store(&t->returned, 1);
	return NULL;
}

Test(remove_lock, the_last_release_wakes_a_sleeping_remover)
{
	struct sleeper t = { .lock = REMOVE_LOCK_INIT };
	struct timespec deadline;
	pthread_t th;

	cr_assert_eq(remove_lock_acquire(&t.lock, &tag_a), REMOVE_LOCK_SUCCESS);
	cr_assert_eq(pthread_create(&th, NULL, sleeping_remover, &t), 0);
	while (!(atomic_load(&t.lock.word) & REMOVE_LOCK_REMOVED) || !atomic_load(&t.tid) ||
	       thread_state(atomic_load(&t.tid)) != 'S')
		sched_yield();		/* the remover sleeps on the word, waiting for us */
	cr_assert_not(atomic_load(&t.returned));
	remove_lock_release(&t.lock, &tag_a);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 20;
	cr_assert_eq(pthread_timedjoin_np(th, NULL, &deadline), 0,
		     "the last release did not wake the remover");
}
