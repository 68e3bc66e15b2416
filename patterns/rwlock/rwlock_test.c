/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * drwlock's contract and the ifnet's (ifnet.h), and their misuse. Deterministic: where a test
 * must know that a thread is blocked, it watches the lock's own words, never a clock.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <unistd.h>

#include "patterns/common/compiler.h"
#include "patterns/rwlock/ifnet.h"
#include "tests/misuse.h"

Test(drwlock, readers_share_and_slots_sit_on_their_own_lines)
{
	struct drwlock l;
	struct drwlock_reader a = { 0 }, b = { 0 };

	cr_assert_eq(sizeof(a) % TEARDOWN_CACHE_LINE, 0);
	cr_assert_eq((uintptr_t)&a % TEARDOWN_CACHE_LINE, 0);
	drwlock_init(&l);
	drwlock_reader_register(&l, &a);
	drwlock_reader_register(&l, &b);	/* a second slot, as if for a second thread */
	drwlock_read_lock(&l, &a);
	drwlock_read_lock(&l, &b);
	cr_assert_eq(atomic_load(&a.state) & ~DRWLOCK_FENCED, DRWLOCK_IDLE | DRWLOCK_READING);
	cr_assert_eq(atomic_load(&b.state) & ~DRWLOCK_FENCED, DRWLOCK_IDLE | DRWLOCK_READING);
	drwlock_read_unlock(&l, &b);
	drwlock_read_unlock(&l, &a);
	cr_assert_eq(atomic_load(&a.state) & ~DRWLOCK_FENCED, DRWLOCK_IDLE);
	drwlock_write_lock(&l);
	drwlock_write_unlock(&l);
	drwlock_reader_unregister(&l, &b);
	drwlock_reader_unregister(&l, &a);
	drwlock_destroy(&l);
}

struct ordering {
	struct drwlock l;
	struct drwlock_reader self;
	atomic_int order;
	sem_t registered, go;
	int reader_left_at, writer_in_at, writer_out_at, reader_in_at;
	atomic_bool reader_in, writer_done;
};

static void *writer_thread(void *arg)
{
	struct ordering *o = arg;

	drwlock_write_lock(&o->l);
	o->writer_in_at = atomic_fetch_add(&o->order, 1);
	drwlock_write_unlock(&o->l);
	atomic_store(&o->writer_done, true);
	return NULL;
}

Test(drwlock, write_lock_waits_for_the_reader_inside)
{
	struct ordering o = { 0 };
	pthread_t t;

	drwlock_init(&o.l);
	drwlock_reader_register(&o.l, &o.self);
	drwlock_read_lock(&o.l, &o.self);
	cr_assert_eq(pthread_create(&t, NULL, writer_thread, &o), 0);
	while (atomic_load(&o.l.writer) == DRWLOCK_WRITER_NONE && !atomic_load(&o.writer_done))
		sched_yield();	/* the writer has raised its flag and is visiting the slots */
	o.reader_left_at = atomic_fetch_add(&o.order, 1);
	drwlock_read_unlock(&o.l, &o.self);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_lt(o.reader_left_at, o.writer_in_at,
		     "the writer got in while a reader was inside its read section");
	drwlock_reader_unregister(&o.l, &o.self);
	drwlock_destroy(&o.l);
}

/* Registers, waits to be let go, then takes the read lock once. */
static void *reader_thread(void *arg)
{
	struct ordering *o = arg;
	struct drwlock_reader self = { 0 };

	drwlock_reader_register(&o->l, &self);
	sem_post(&o->registered);
	sem_wait(&o->go);
	drwlock_read_lock(&o->l, &self);
	o->reader_in_at = atomic_fetch_add(&o->order, 1);
	atomic_store(&o->reader_in, true);
	drwlock_read_unlock(&o->l, &self);
	drwlock_reader_unregister(&o->l, &self);
	return NULL;
}

Test(drwlock, a_reader_arriving_during_a_write_waits_for_the_unlock)
{
	struct ordering o = { 0 };
	pthread_t t;

	drwlock_init(&o.l);
	sem_init(&o.registered, 0, 0);
	sem_init(&o.go, 0, 0);
	cr_assert_eq(pthread_create(&t, NULL, reader_thread, &o), 0);
	sem_wait(&o.registered);
	drwlock_write_lock(&o.l);
	sem_post(&o.go);
	/* The reader saw the flag, backed off, and is going to sleep. */
	while (atomic_load(&o.l.writer) != DRWLOCK_WRITER_HELD_WAITERS &&
	       !atomic_load(&o.reader_in))
		sched_yield();
	o.writer_out_at = atomic_fetch_add(&o.order, 1);
	drwlock_write_unlock(&o.l);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_lt(o.writer_out_at, o.reader_in_at,
		     "a reader got in while the writer held the lock");
	drwlock_destroy(&o.l);
}

Test(drwlock, without_membarrier_the_reader_fences_and_it_still_excludes)
{
	struct ordering o = { 0 };
	pthread_t t;

	/* This test's own process (Criterion forks), and no reader yet. */
	drwlock_membarrier = false;
	drwlock_init(&o.l);
	drwlock_reader_register(&o.l, &o.self);
	drwlock_read_lock(&o.l, &o.self);
	cr_assert_eq(atomic_load(&o.self.state), DRWLOCK_FENCED | DRWLOCK_IDLE | DRWLOCK_READING);
	cr_assert_eq(pthread_create(&t, NULL, writer_thread, &o), 0);
	while (atomic_load(&o.l.writer) == DRWLOCK_WRITER_NONE && !atomic_load(&o.writer_done))
		sched_yield();
	o.reader_left_at = atomic_fetch_add(&o.order, 1);
	drwlock_read_unlock(&o.l, &o.self);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_lt(o.reader_left_at, o.writer_in_at);
	drwlock_reader_unregister(&o.l, &o.self);
	drwlock_destroy(&o.l);
}

/* The ifnet: after teardown's detach every read-side lock declines with NULL. */
Test(ifnet, every_lock_declines_after_detach)
{
	struct rwlock_ifnet *ifp;
	struct drwlock_reader self = { 0 };
	struct device *dev;

	ifp = rwlock_ifnet_new(device_new(7));
	cr_assert_eq((uintptr_t)ifp % TEARDOWN_CACHE_LINE, 0);
	drwlock_reader_register(&ifp->dist, &self);
	dev = rwlock_ifnet_enter_mutex(ifp);
	cr_assert_eq(device_read_state(dev), 7);
	rwlock_ifnet_exit_mutex(ifp, dev);
	dev = rwlock_ifnet_enter_rwlock(ifp);
	cr_assert_eq(device_read_state(dev), 7);
	rwlock_ifnet_exit_rwlock(ifp, dev);
	dev = rwlock_ifnet_enter_dist(ifp, &self);
	cr_assert_eq(device_read_state(dev), 7);
	rwlock_ifnet_exit_dist(ifp, &self);

	device_free(rwlock_ifnet_detach_dist(ifp));
	cr_assert_null(rwlock_ifnet_enter_mutex(ifp));
	cr_assert_null(rwlock_ifnet_enter_rwlock(ifp));
	cr_assert_null(rwlock_ifnet_enter_dist(ifp, &self));
	/* A declined reader left every lock free: a writer can still take each one. */
	cr_assert_eq(pthread_mutex_trylock(&ifp->mutex), 0);
	pthread_mutex_unlock(&ifp->mutex);
	cr_assert_eq(pthread_rwlock_trywrlock(&ifp->rwlock), 0);
	pthread_rwlock_unlock(&ifp->rwlock);
	cr_assert_eq(atomic_load(&self.state) & ~DRWLOCK_FENCED, DRWLOCK_IDLE);
	drwlock_reader_unregister(&ifp->dist, &self);
	rwlock_ifnet_free(ifp);
}

/* Misuse: each aborts with its message. */
static struct drwlock *registered_lock(struct drwlock_reader *r)
{
	static struct drwlock l;

	drwlock_init(&l);
	if (r)
		drwlock_reader_register(&l, r);
	return &l;
}

static void read_unlock_without_lock(void *arg)
{
	struct drwlock_reader r = { 0 };

	(void)arg;
	drwlock_read_unlock(registered_lock(&r), &r);
}

static void read_lock_unregistered(void *arg)
{
	struct drwlock_reader r = { 0 };

	(void)arg;
	drwlock_read_lock(registered_lock(NULL), &r);
}

static void read_lock_nested(void *arg)
{
	struct drwlock_reader r = { 0 };
	struct drwlock *l = registered_lock(&r);

	(void)arg;
	drwlock_read_lock(l, &r);
	drwlock_read_lock(l, &r);
}

static void write_lock_twice(void *arg)
{
	struct drwlock *l = registered_lock(NULL);

	(void)arg;
	drwlock_write_lock(l);
	drwlock_write_lock(l);
}

static void write_unlock_without_lock(void *arg)
{
	(void)arg;
	drwlock_write_unlock(registered_lock(NULL));
}

static void write_lock_inside_own_read_section(void *arg)
{
	struct drwlock_reader r = { 0 };
	struct drwlock *l = registered_lock(&r);

	(void)arg;
	drwlock_read_lock(l, &r);
	drwlock_write_lock(l);
}

static void destroy_with_readers(void *arg)
{
	struct drwlock_reader r = { 0 };

	(void)arg;
	drwlock_destroy(registered_lock(&r));
}

static void unregister_inside_read_section(void *arg)
{
	struct drwlock_reader r = { 0 };
	struct drwlock *l = registered_lock(&r);

	(void)arg;
	drwlock_read_lock(l, &r);
	drwlock_reader_unregister(l, &r);
}

static void register_twice(void *arg)
{
	struct drwlock_reader r = { 0 };
	struct drwlock *l = registered_lock(&r);

	(void)arg;
	drwlock_reader_register(l, &r);
}

static void teardown_twice(void *arg)
{
	struct rwlock_ifnet *ifp = rwlock_ifnet_new(device_new(1));

	(void)arg;
	device_free(rwlock_ifnet_detach_rwlock(ifp));
	rwlock_ifnet_detach_dist(ifp);
}

/*
 * A slot registered with one lock, used with another. The argument picks the mode: the fast
 * path (membarrier) or the fenced path (no membarrier); each child process sets it before it
 * registers, as the constructor would have at start-up. No writer runs, so no membarrier is
 * called and the test means the same on a kernel without it.
 */
static struct drwlock *two_locks_slot_on_first(struct drwlock_reader *r, void *mode)
{
	static struct drwlock l1, l2;

	drwlock_membarrier = mode != NULL;
	drwlock_init(&l1);
	drwlock_init(&l2);
	drwlock_reader_register(&l1, r);
	return &l2;
}

static void read_lock_other_lock(void *mode)
{
	struct drwlock_reader r = { 0 };

	drwlock_read_lock(two_locks_slot_on_first(&r, mode), &r);
}

static void read_unlock_other_lock(void *mode)
{
	struct drwlock_reader r = { 0 };
	struct drwlock *l2 = two_locks_slot_on_first(&r, mode);

	drwlock_read_lock(r.lock, &r);
	drwlock_read_unlock(l2, &r);
}

#define WRONG_LOCK_TEST(NAME, FN, MODE, OP) \
	Test(drwlock_misuse, NAME) \
	{ \
		char err[512]; \
		cr_assert(misuse_aborts_with(FN, MODE, "rwlock: misuse: drwlock_read_" OP \
					     " on a thread whose reader is not registered with " \
					     "this lock", err, sizeof(err)), \
			  "stderr: %s", err); \
	}

static char membarrier_mode;

WRONG_LOCK_TEST(read_lock_with_another_locks_slot_membarrier, read_lock_other_lock,
		&membarrier_mode, "lock")
WRONG_LOCK_TEST(read_lock_with_another_locks_slot_fenced, read_lock_other_lock, NULL, "lock")
WRONG_LOCK_TEST(read_unlock_with_another_locks_slot_membarrier, read_unlock_other_lock,
		&membarrier_mode, "unlock")
WRONG_LOCK_TEST(read_unlock_with_another_locks_slot_fenced, read_unlock_other_lock, NULL, "unlock")

/*
 * A writer that read-locks the lock it holds would wait for itself: the flag is its own. The
 * alarm is only a hang guard: without the check the child would sleep forever.
 */
static void read_lock_inside_own_write_section(void *mode)
{
	struct drwlock_reader r = { 0 };
	struct drwlock *l2 = two_locks_slot_on_first(&r, mode);

	alarm(30);
	drwlock_reader_unregister(r.lock, &r);
	drwlock_reader_register(l2, &r);
	/* The writer below fences itself: no membarrier needed. */
	drwlock_membarrier = false;
	drwlock_write_lock(l2);
	drwlock_read_lock(l2, &r);
}

static void write_lock_inside_own_read_section_mode(void *mode)
{
	struct drwlock_reader r = { 0 };
	struct drwlock *l2 = two_locks_slot_on_first(&r, mode);

	alarm(30);
	drwlock_reader_unregister(r.lock, &r);
	drwlock_reader_register(l2, &r);
	drwlock_read_lock(l2, &r);
	/* A reader's mode is its slot's; the writer's call is ours. */
	drwlock_membarrier = false;
	drwlock_write_lock(l2);
}

#define SELF_WAIT_TEST(NAME, FN, MODE, MESSAGE) \
	Test(drwlock_misuse, NAME) \
	{ \
		char err[512]; \
		cr_assert(misuse_aborts_with(FN, MODE, MESSAGE, err, sizeof(err)), "stderr: %s", \
			  err); \
	}

SELF_WAIT_TEST(read_lock_inside_own_write_section_membarrier, read_lock_inside_own_write_section,
	       &membarrier_mode, "rwlock: misuse: drwlock_read_lock by the thread that holds the "
	       "write lock")
SELF_WAIT_TEST(read_lock_inside_own_write_section_fenced, read_lock_inside_own_write_section,
	       NULL, "rwlock: misuse: drwlock_read_lock by the thread that holds the write lock")
SELF_WAIT_TEST(write_lock_inside_own_read_section_membarrier,
	       write_lock_inside_own_read_section_mode, &membarrier_mode,
	       "rwlock: misuse: drwlock_write_lock inside a read section of the same thread")
SELF_WAIT_TEST(write_lock_inside_own_read_section_fenced, write_lock_inside_own_read_section_mode,
	       NULL, "rwlock: misuse: drwlock_write_lock inside a read section of the same thread")

/* A slot that was neither zeroed nor unregistered: what a stack slot without "= { 0 }" holds. */
static void register_unzeroed_slot(void *arg)
{
	struct drwlock_reader r = { 0 };
	static struct drwlock l;

	(void)arg;
	/* Stale: the state reads UNREGISTERED, the rest does not. */
	r.lock = (struct drwlock *)&r;
	drwlock_init(&l);
	drwlock_reader_register(&l, &r);
}

static void register_slot_in_use_by_another_lock(void *arg)
{
	struct drwlock_reader r = { 0 };
	static struct drwlock l1, l2;

	(void)arg;
	drwlock_init(&l1);
	drwlock_init(&l2);
	drwlock_reader_register(&l1, &r);
	drwlock_reader_register(&l2, &r);
}

static void unregister_unregistered(void *arg)
{
	struct drwlock_reader r = { 0 };
	static struct drwlock l;

	(void)arg;
	drwlock_init(&l);
	drwlock_reader_unregister(&l, &r);
}

static void destroy_write_locked(void *arg)
{
	static struct drwlock l;

	(void)arg;
	drwlock_init(&l);
	drwlock_write_lock(&l);
	drwlock_destroy(&l);
}

#define MISUSE_TEST(NAME, FN, MESSAGE) \
	Test(drwlock_misuse, NAME) \
	{ \
		char err[512]; \
		cr_assert(misuse_aborts_with(FN, NULL, MESSAGE, err, sizeof(err)), \
			  "expected \"%s\"; stderr: %s", MESSAGE, err); \
	}

MISUSE_TEST(read_unlock_without_read_lock, read_unlock_without_lock,
	    "rwlock: misuse: drwlock_read_unlock without a matching drwlock_read_lock")
MISUSE_TEST(read_lock_on_an_unregistered_thread, read_lock_unregistered,
	    "rwlock: misuse: drwlock_read_lock on a thread whose reader is not registered")
MISUSE_TEST(read_lock_nested, read_lock_nested,
	    "rwlock: misuse: drwlock_read_lock inside a read section on the same reader")
MISUSE_TEST(write_lock_twice, write_lock_twice,
	    "rwlock: misuse: drwlock_write_lock twice on one thread")
MISUSE_TEST(write_unlock_without_write_lock, write_unlock_without_lock,
	    "rwlock: misuse: drwlock_write_unlock without drwlock_write_lock")
MISUSE_TEST(write_lock_inside_own_read_section, write_lock_inside_own_read_section,
	    "rwlock: misuse: drwlock_write_lock inside a read section of the same thread")
MISUSE_TEST(destroy_with_readers_registered, destroy_with_readers,
	    "rwlock: misuse: drwlock_destroy with 1 reader(s) still registered")
MISUSE_TEST(unregister_inside_read_section, unregister_inside_read_section,
	    "rwlock: misuse: drwlock_reader_unregister inside a read section")
MISUSE_TEST(register_twice, register_twice,
	    "rwlock: misuse: drwlock_reader_register: this reader is already registered")
MISUSE_TEST(teardown_twice, teardown_twice,
	    "rwlock: misuse: teardown twice: ifp->if_softc is already NULL")
MISUSE_TEST(register_a_slot_that_is_not_zeroed, register_unzeroed_slot,
	    "rwlock: misuse: drwlock_reader_register: the slot is not zeroed")
MISUSE_TEST(register_a_slot_in_use_by_another_lock, register_slot_in_use_by_another_lock,
	    "rwlock: misuse: drwlock_reader_register: this reader is already registered")
MISUSE_TEST(unregister_a_reader_not_registered, unregister_unregistered,
	    "rwlock: misuse: drwlock_reader_unregister: this reader is not registered with this "
	    "lock")
MISUSE_TEST(destroy_while_write_locked, destroy_write_locked,
	    "rwlock: misuse: drwlock_destroy while write-locked")
