/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tsrcu's contract: indices and nesting, what a grace period waits for (its own domain's
 * readers, also asleep, also delayed across a flip) and what it does not (another domain's
 * readers, sections that begin after its flip), and misuse. Deterministic: threads and
 * semaphores; where a test must know that a writer sleeps, it watches the writer's futex word.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <unistd.h>

/* A reader can be stopped between its load of the index and its add (see tsrcu.h). */
static void read_lock_preempted(void);
#define TSRCU_READ_LOCK_PREEMPTED() read_lock_preempted()

#include "patterns/srcu/tsrcu.h"
#include "tests/misuse.h"

static struct tsrcu_domain da, db;

struct reader {
	struct tsrcu_domain *d;
	sem_t entered, leave;
	atomic_int *order;
	int left_at;
};

static void reader_init(struct reader *r, struct tsrcu_domain *d, atomic_int *order)
{
	cr_assert_eq(sem_init(&r->entered, 0, 0), 0);
	cr_assert_eq(sem_init(&r->leave, 0, 0), 0);
	r->d = d;
	r->order = order;
}

/* Enters, says so, sleeps until told to leave (a section that blocks), leaves. */
static void *sleeping_reader(void *arg)
{
	struct reader *r = arg;
	int idx = tsrcu_read_lock(r->d);

	sem_post(&r->entered);
	sem_wait(&r->leave);
	r->left_at = atomic_fetch_add(r->order, 1);
	tsrcu_read_unlock(r->d, idx);
	return NULL;
}

struct writer {
	struct tsrcu_domain *d;
	atomic_int *order;
	int returned_at;
	atomic_bool returned;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;

	tsrcu_synchronize(w->d);
	w->returned_at = atomic_fetch_add(w->order, 1);
	atomic_store(&w->returned, true);
	return NULL;
}

/* Waits until the writer sleeps on its futex or has returned. */
static void wait_writer_sleeps_or_returns(struct writer *w)
{
	while (!atomic_load(&w->d->writer_waiting) && !atomic_load(&w->returned))
		sched_yield();
}

static struct {
	bool armed;
	sem_t loaded, add;
} delayed;

static void read_lock_preempted(void)
{
	if (!delayed.armed)
		return;
	delayed.armed = false;
	sem_post(&delayed.loaded);
	sem_wait(&delayed.add);
}

Test(srcu, lock_returns_an_index_and_sections_nest_across_domains)
{
	int a, b, a2;

	tsrcu_domain_init(&da);
	tsrcu_domain_init(&db);
	a = tsrcu_read_lock(&da);
	tsrcu_synchronize(&db);	/* inside a section of da only: allowed */
	b = tsrcu_read_lock(&db);
	a2 = tsrcu_read_lock(&da);
	cr_assert(a == 0 || a == 1);
	cr_assert_eq(a, a2, "no grace period between them: the same half");
	tsrcu_read_unlock(&da, a);	/* not the innermost: allowed */
	tsrcu_read_unlock(&db, b);
	tsrcu_read_unlock(&da, a2);
	tsrcu_synchronize(&da);
	b = tsrcu_read_lock(&da);
	cr_assert_neq(b, a, "one flip: new sections count in the other half");
	tsrcu_read_unlock(&da, b);
	tsrcu_domain_destroy(&da);
	tsrcu_domain_destroy(&db);
}

Test(grace, synchronize_waits_for_a_reader_that_sleeps_in_its_section, .timeout = 20)
{
	atomic_int order = 0;
	struct reader r;
	struct writer w = { .d = &da, .order = &order };
	pthread_t rt, wt;

	tsrcu_domain_init(&da);
	reader_init(&r, &da, &order);
	cr_assert_eq(pthread_create(&rt, NULL, sleeping_reader, &r), 0);
	sem_wait(&r.entered);
	cr_assert_eq(pthread_create(&wt, NULL, writer_thread, &w), 0);
	wait_writer_sleeps_or_returns(&w);
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(wt, NULL), 0);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_lt(r.left_at, w.returned_at, "synchronize returned while a reader was inside");
	tsrcu_domain_destroy(&da);
}

Test(grace, a_reader_of_another_domain_does_not_hold_the_writer, .timeout = 20)
{
	atomic_int order = 0;
	struct reader r;
	pthread_t rt;

	tsrcu_domain_init(&da);
	tsrcu_domain_init(&db);
	reader_init(&r, &db, &order);
	cr_assert_eq(pthread_create(&rt, NULL, sleeping_reader, &r), 0);
	sem_wait(&r.entered);
	tsrcu_synchronize(&da);	/* returns although db's reader sleeps inside */
	tsrcu_synchronize(&da);
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	tsrcu_domain_destroy(&da);
	tsrcu_domain_destroy(&db);
}

/*
 * A reader loads the index, is preempted, and adds only after a whole grace period has
 * flipped the index: it counts in the half the next flip makes current. The next grace
 * period must still wait for it (its first drain does; one drain would not).
 */
Test(grace, a_reader_delayed_across_a_flip_is_waited_for, .timeout = 20)
{
	atomic_int order = 0;
	struct reader r;
	struct writer w = { .d = &da, .order = &order };
	pthread_t rt, wt;

	tsrcu_domain_init(&da);
	cr_assert_eq(sem_init(&delayed.loaded, 0, 0), 0);
	cr_assert_eq(sem_init(&delayed.add, 0, 0), 0);
	delayed.armed = true;
	reader_init(&r, &da, &order);
	cr_assert_eq(pthread_create(&rt, NULL, sleeping_reader, &r), 0);
	sem_wait(&delayed.loaded);
	tsrcu_synchronize(&da);	/* the reader has not counted: returns, and flips */
	sem_post(&delayed.add);
	sem_wait(&r.entered);	/* inside, counted in the half from before that flip */
	cr_assert_eq(pthread_create(&wt, NULL, writer_thread, &w), 0);
	wait_writer_sleeps_or_returns(&w);
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(wt, NULL), 0);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_lt(r.left_at, w.returned_at, "synchronize returned while a reader that counted "
		     "in the half from before the last flip was inside");
	tsrcu_domain_destroy(&da);
}

/*
 * A reader that always holds a section: it enters the next before it leaves the last. With
 * the flip, its sections that begin after it count in the new half and the writer returns;
 * without it, the half the writer drains never empties. Bounded: the reader gives up after
 * OVERLAP_GIVE_UP sections, so that a starved writer returns and the test fails.
 */
#define OVERLAP_GIVE_UP 100000

struct overlap {
	struct writer *w;
	long sections;
};

static void *overlapping_reader(void *arg)
{
	struct overlap *o = arg;
	int idx = tsrcu_read_lock(&da);

	while (!atomic_load(&o->w->returned) && o->sections < OVERLAP_GIVE_UP) {
		int next = tsrcu_read_lock(&da);

		tsrcu_read_unlock(&da, idx);
		idx = next;
		o->sections++;
		sched_yield();
	}
	tsrcu_read_unlock(&da, idx);
	return NULL;
}

Test(grace, readers_that_begin_after_the_flip_do_not_hold_the_writer, .timeout = 60)
{
	atomic_int order = 0;
	struct writer w = { .d = &da, .order = &order };
	struct overlap o = { .w = &w };
	pthread_t rt, wt;

	tsrcu_domain_init(&da);
	cr_assert_eq(pthread_create(&rt, NULL, overlapping_reader, &o), 0);
	cr_assert_eq(pthread_create(&wt, NULL, writer_thread, &w), 0);
	cr_assert_eq(pthread_join(wt, NULL), 0);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_lt(o.sections, OVERLAP_GIVE_UP, "the writer returned only when the reader "
		     "stopped entering");
	tsrcu_domain_destroy(&da);
}

/* ---- misuse ---- */

#define ASSERT_MISUSE(fn, message) \
	do { \
		char err_[512]; \
		cr_assert(misuse_aborts_with(fn, NULL, "srcu: misuse: " message, err_, \
					     sizeof(err_)), \
			  "stderr: %s", err_); \
	} while (0)

static void unlock_with_the_wrong_index(void *arg)
{
	int idx;

	(void)arg;
	tsrcu_domain_init(&da);
	idx = tsrcu_read_lock(&da);
	tsrcu_read_unlock(&da, !idx);
}

static void unlock_without_lock(void *arg)
{
	(void)arg;
	tsrcu_domain_init(&da);
	tsrcu_read_unlock(&da, 0);
}

static void unlock_on_another_domain(void *arg)
{
	(void)arg;
	tsrcu_domain_init(&da);
	tsrcu_domain_init(&db);
	tsrcu_read_unlock(&db, tsrcu_read_lock(&da));
}

static void synchronize_inside_own_section(void *arg)
{
	(void)arg;
	alarm(10);	/* without the check it waits for itself: fail on SIGALRM, not a hang */
	tsrcu_domain_init(&da);
	tsrcu_read_lock(&da);
	tsrcu_synchronize(&da);
}

static void destroy_with_a_reader_inside(void *arg)
{
	(void)arg;
	tsrcu_domain_init(&da);
	tsrcu_read_lock(&da);
	tsrcu_domain_destroy(&da);
}

static void too_many_sections(void *arg)
{
	(void)arg;
	tsrcu_domain_init(&da);
	for (int i = 0; i <= TSRCU_MAX_HELD; i++)
		tsrcu_read_lock(&da);
}

Test(misuse, unlock_with_the_wrong_index)
{
	ASSERT_MISUSE(unlock_with_the_wrong_index, "tsrcu_read_unlock with index");
}

Test(misuse, unlock_without_lock)
{
	ASSERT_MISUSE(unlock_without_lock, "tsrcu_read_unlock with index 0, which no section of "
		      "this thread holds on this domain");
}

Test(misuse, unlock_on_another_domain)
{
	ASSERT_MISUSE(unlock_on_another_domain, "tsrcu_read_unlock with index 0, which no section "
		      "of this thread holds on this domain");
}

Test(misuse, synchronize_inside_a_section_of_the_same_domain)
{
	ASSERT_MISUSE(synchronize_inside_own_section, "tsrcu_synchronize inside a read-side "
		      "section of the same domain");
}

Test(misuse, destroy_with_a_reader_inside)
{
	ASSERT_MISUSE(destroy_with_a_reader_inside, "tsrcu_domain_destroy with 1 reader(s) inside");
}

Test(misuse, more_sections_than_a_thread_may_hold)
{
	ASSERT_MISUSE(too_many_sections, "tsrcu_read_lock: more than 8 sections held by one "
		      "thread");
}
