/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tepoch's contract: nesting, what synchronize waits for and what it does not, tepoch_call,
 * tepoch_poll and tepoch_barrier, the stalled reader, the no-membarrier mode, and misuse.
 * Deterministic: threads and semaphores; where a test must know that an advancer is blocked,
 * it watches the domain's futex word, never a clock.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/epoch/tepoch.h"
#include "tests/misuse.h"

/* A reader thread parked inside a section until told to leave. */
struct reader {
	struct tepoch *d;
	struct tepoch_record rec;
	sem_t entered, leave;
	atomic_int *order;
	int left_at;
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;

	tepoch_register(r->d, &r->rec);
	tepoch_enter(&r->rec);
	sem_post(&r->entered);
	sem_wait(&r->leave);
	if (r->order)
		r->left_at = atomic_fetch_add(r->order, 1);
	tepoch_exit(&r->rec);
	tepoch_unregister(&r->rec);
	return NULL;
}

static void reader_start(struct reader *r, struct tepoch *d, atomic_int *order, pthread_t *t)
{
	*r = (struct reader){ .d = d, .order = order };
	cr_assert_eq(sem_init(&r->entered, 0, 0), 0);
	cr_assert_eq(sem_init(&r->leave, 0, 0), 0);
	cr_assert_eq(pthread_create(t, NULL, reader_thread, r), 0);
	sem_wait(&r->entered);
}

struct writer {
	struct tepoch *d;
	atomic_int *order;
	int returned_at;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	struct tepoch_record rec = { 0 };

	tepoch_register(w->d, &rec);
	tepoch_synchronize(&rec);
	w->returned_at = atomic_fetch_add(w->order, 1);
	tepoch_unregister(&rec);
	return NULL;
}

/* The advancer has found a reader in an older section and gone to sleep on its futex. */
static void wait_until_advancer_sleeps(struct tepoch *d)
{
	while (!atomic_load(&d->writer_waiting))
		sched_yield();
}

/*
 * For tests that count steps or fences of synchronize past idle records: without membarrier
 * (kernel, seccomp, TEPOCH_NO_MEMBARRIER=1) synchronize ends at the fenced check instead.
 */
#define SKIP_WITHOUT_MEMBARRIER() \
	do { \
		if (!tepoch_uses_membarrier()) \
			cr_skip_test("needs membarrier: without it, synchronize past idle records " \
				     "ends at the fenced check, without a step (see " \
				     "synchronize_skips_the_step_when_every_other_record_is_idle)"); \
	} while (0)

struct counted {
	struct tepoch_entry entry;
	atomic_int *destroyed;
};

static void counted_destroy(struct tepoch_entry *entry)
{
	struct counted *c = teardown_container_of(entry, struct counted, entry);

	atomic_fetch_add(c->destroyed, 1);
	free(c);
}

static void retire_one(struct tepoch_record *rec, atomic_int *destroyed)
{
	struct counted *c = teardown_malloc("epoch", sizeof(*c));

	c->destroyed = destroyed;
	tepoch_call(rec, &c->entry, counted_destroy);
}

Test(epoch, nesting_is_one_section)
{
	struct tepoch d;
	struct tepoch_record rec = { 0 };

	tepoch_init(&d);
	tepoch_register(&d, &rec);
	tepoch_enter(&rec);
	tepoch_enter(&rec);
	cr_assert_eq(atomic_load(&rec.word) & TEPOCH_NEST_MASK, 2);
	tepoch_exit(&rec);
	cr_assert_eq(atomic_load(&rec.word) & TEPOCH_NEST_MASK, 1, "inner exit ends nothing");
	tepoch_exit(&rec);
	cr_assert_eq(atomic_load(&rec.word) & TEPOCH_NEST_MASK, 0);
	tepoch_synchronize(&rec);	/* outside any section: does not wait for itself */
	if (tepoch_uses_membarrier())
		cr_assert_geq(tepoch_epoch(&d), 2, "synchronize moves the epoch on");
	else	/* no other record: the fenced check ends it without a step */
		cr_assert_eq(tepoch_epoch(&d), 1, "synchronize stepped with nothing to wait for");
	tepoch_unregister(&rec);
	tepoch_destroy(&d);
}

static void synchronize_waits(void)
{
	struct tepoch d;
	atomic_int order = 0;
	struct reader r;
	struct writer w = { .d = &d, .order = &order };
	pthread_t rt, wt;

	tepoch_init(&d);
	reader_start(&r, &d, &order, &rt);
	cr_assert_eq(pthread_create(&wt, NULL, writer_thread, &w), 0);
	wait_until_advancer_sleeps(&d);
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(wt, NULL), 0);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_lt(r.left_at, w.returned_at, "synchronize returned while the reader was inside");
	tepoch_destroy(&d);
}

Test(epoch, synchronize_waits_for_a_pre_existing_reader, .timeout = 20)
{
	synchronize_waits();
}

/* The read side's full fence, when membarrier is not available. */
Test(epoch, synchronize_waits_without_membarrier, .timeout = 20)
{
	tepoch_membarrier = false;	/* this test's own process, before any thread starts */
	synchronize_waits();
}

/* A reader that entered after the epoch moved on is not waited for (it would starve us). */
Test(epoch, synchronize_does_not_wait_for_later_readers, .timeout = 20)
{
	struct tepoch d;
	atomic_int order = 0;
	struct reader early, late;
	struct writer w = { .d = &d, .order = &order };
	pthread_t et, lt, wt;

	tepoch_init(&d);
	reader_start(&early, &d, &order, &et);
	cr_assert_eq(pthread_create(&wt, NULL, writer_thread, &w), 0);
	wait_until_advancer_sleeps(&d);	/* one step taken; blocked on early for the second */
	reader_start(&late, &d, &order, &lt);
	sem_post(&early.leave);
	cr_assert_eq(pthread_join(wt, NULL), 0);	/* returns although late is still inside */
	sem_post(&late.leave);
	cr_assert_eq(pthread_join(et, NULL), 0);
	cr_assert_eq(pthread_join(lt, NULL), 0);
	cr_assert_lt(w.returned_at, late.left_at);
	tepoch_destroy(&d);
}

Test(epoch, poll_destroys_what_no_reader_can_hold)
{
	struct tepoch d;
	struct tepoch_record rec = { 0 };
	atomic_int destroyed = 0;

	tepoch_init(&d);
	tepoch_register(&d, &rec);
	retire_one(&rec, &destroyed);
	retire_one(&rec, &destroyed);
	cr_assert_eq(rec.n_pending, 2);
	cr_assert_eq(atomic_load(&destroyed), 0, "tepoch_call never destroys at once");
	cr_assert_eq(tepoch_poll(&rec), 2);
	cr_assert_eq(atomic_load(&destroyed), 2);
	cr_assert_eq(rec.n_pending, 0);
	tepoch_unregister(&rec);
	tepoch_destroy(&d);
}

/*
 * A destructor may retire another object through the same record (it unpublished it): that
 * entry waits for a grace period of its own, in barrier and in poll alike. In poll, the
 * destructor also steps the epoch past the `now` poll read, as another advancer could.
 */
struct chain {
	struct tepoch_entry first, second;
	struct tepoch_record *rec;
	bool step_first;
	int second_destroyed;
};

static void chain_second_destroy(struct tepoch_entry *e)
{
	struct chain *c = teardown_container_of(e, struct chain, second);

	c->second_destroyed++;
}

static void chain_first_destroy(struct tepoch_entry *e)
{
	struct chain *c = teardown_container_of(e, struct chain, first);

	if (c->step_first)
		tepoch_synchronize(c->rec);
	tepoch_call(c->rec, &c->second, chain_second_destroy);
}

static void retire_from_a_destructor(bool through_poll)
{
	struct tepoch d;
	struct tepoch_record rec = { 0 };
	struct chain c = { .rec = &rec, .step_first = through_poll };

	tepoch_init(&d);
	tepoch_register(&d, &rec);
	tepoch_call(&rec, &c.first, chain_first_destroy);
	if (through_poll) {
		tepoch_synchronize(&rec);
		tepoch_synchronize(&rec);
		cr_assert_eq(tepoch_poll(&rec), 1, "poll runs the first destructor only");
	} else {
		tepoch_barrier(&rec);
	}
	cr_assert_eq(c.second_destroyed, 0, "an entry retired by a destructor was destroyed in the "
		     "same run, with no grace period after its retirement");
	cr_assert_eq(rec.n_pending, 1);
	tepoch_barrier(&rec);
	cr_assert_eq(c.second_destroyed, 1);
	tepoch_unregister(&rec);
	tepoch_destroy(&d);
}

Test(epoch, barrier_gives_what_a_destructor_retires_its_own_grace_period)
{
	retire_from_a_destructor(false);
}

Test(epoch, poll_gives_what_a_destructor_retires_its_own_grace_period)
{
	retire_from_a_destructor(true);
}

/*
 * The known weakness: one reader parked in a section holds back every retirement, by every
 * thread, for as long as it stays; memory held grows with each one. It all goes once it leaves.
 */
Test(epoch, stalled_reader_holds_back_all_reclamation, .timeout = 20)
{
	struct tepoch d;
	struct tepoch_record rec = { 0 };
	atomic_int destroyed = 0;
	struct reader r;
	pthread_t rt;

	tepoch_init(&d);
	tepoch_register(&d, &rec);
	reader_start(&r, &d, NULL, &rt);
	for (int i = 1; i <= 1000; i++) {
		retire_one(&rec, &destroyed);
		cr_assert_eq(tepoch_poll(&rec), 0);
		cr_assert_eq(rec.n_pending, (size_t)i, "pending must grow while the reader stalls");
	}
	cr_assert_eq(atomic_load(&destroyed), 0);
	cr_assert_leq(tepoch_epoch(&d), 2, "the epoch moves at most one step past the reader");
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_eq(tepoch_poll(&rec), 1000, "everything goes once the reader has left");
	cr_assert_eq(rec.n_pending, 0);
	tepoch_unregister(&rec);
	tepoch_destroy(&d);
}

Test(epoch, barrier_runs_own_and_orphaned_destructors, .timeout = 20)
{
	struct tepoch d;
	struct tepoch_record gone = { 0 }, rec = { 0 };
	atomic_int destroyed = 0;

	tepoch_init(&d);
	tepoch_register(&d, &gone);
	retire_one(&gone, &destroyed);
	tepoch_unregister(&gone);	/* its pending entry becomes an orphan */
	cr_assert_eq(d.n_orphans, 1);
	tepoch_register(&d, &rec);
	retire_one(&rec, &destroyed);
	tepoch_barrier(&rec);
	cr_assert_eq(atomic_load(&destroyed), 2);
	cr_assert_eq(d.n_orphans, 0);
	cr_assert_eq(rec.n_pending, 0);
	tepoch_unregister(&rec);
	tepoch_destroy(&d);	/* would abort with an orphan left */
}

Test(epoch, barrier_waits_for_the_reader_then_destroys, .timeout = 20)
{
	struct tepoch d;
	struct tepoch_record rec = { 0 };
	atomic_int destroyed = 0;
	struct reader r;
	pthread_t rt;

	tepoch_init(&d);
	tepoch_register(&d, &rec);
	reader_start(&r, &d, NULL, &rt);
	retire_one(&rec, &destroyed);
	cr_assert_eq(tepoch_poll(&rec), 0);
	sem_post(&r.leave);	/* the barrier below would otherwise wait for ever */
	tepoch_barrier(&rec);
	cr_assert_eq(atomic_load(&destroyed), 1);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	tepoch_unregister(&rec);
	tepoch_destroy(&d);
}

/* Misuse: each aborts in a child process with its message. */
struct misuse_ctx {
	struct tepoch d;
	struct tepoch_record rec;
};

static struct misuse_ctx *ctx_new(bool registered)
{
	/* Aligned: the domain and the record have cache lines of their own. */
	struct misuse_ctx *c = teardown_aligned_alloc("epoch", _Alignof(struct misuse_ctx),
						      sizeof(*c));

	*c = (struct misuse_ctx){ .rec = { .domain = NULL } };

	tepoch_init(&c->d);
	if (registered)
		tepoch_register(&c->d, &c->rec);
	return c;
}

static void exit_without_enter(void *arg)
{
	tepoch_exit(&((struct misuse_ctx *)arg)->rec);
}

static void enter_unregistered(void *arg)
{
	tepoch_enter(&((struct misuse_ctx *)arg)->rec);
}

static void synchronize_inside(void *arg)
{
	struct misuse_ctx *c = arg;

	tepoch_enter(&c->rec);
	tepoch_synchronize(&c->rec);
}

static void barrier_inside(void *arg)
{
	struct misuse_ctx *c = arg;

	tepoch_enter(&c->rec);
	tepoch_barrier(&c->rec);
}

static void unregister_inside(void *arg)
{
	struct misuse_ctx *c = arg;

	tepoch_enter(&c->rec);
	tepoch_unregister(&c->rec);
}

static void poll_inside(void *arg)
{
	struct misuse_ctx *c = arg;

	tepoch_enter(&c->rec);
	tepoch_poll(&c->rec);
}

static void nest_too_deep(void *arg)
{
	struct misuse_ctx *c = arg;

	for (unsigned long i = 0; i <= TEPOCH_NEST_MASK; i++)
		tepoch_enter(&c->rec);
}

static void register_twice(void *arg)
{
	struct misuse_ctx *c = arg;

	tepoch_register(&c->d, &c->rec);
}

static void destroy_in_use(void *arg)
{
	tepoch_destroy(&((struct misuse_ctx *)arg)->d);
}

static void destroy_with_orphans(void *arg)
{
	struct misuse_ctx *c = arg;
	atomic_int destroyed = 0;

	retire_one(&c->rec, &destroyed);
	tepoch_unregister(&c->rec);
	tepoch_destroy(&c->d);
}

static void exit_unregistered(void *arg)
{
	tepoch_exit(&((struct misuse_ctx *)arg)->rec);
}

static void synchronize_unregistered(void *arg)
{
	tepoch_synchronize(&((struct misuse_ctx *)arg)->rec);
}

static void never_destroy(struct tepoch_entry *entry)
{
	(void)entry;
}

static void call_unregistered(void *arg)
{
	static struct tepoch_entry e;

	tepoch_call(&((struct misuse_ctx *)arg)->rec, &e, never_destroy);
}

static void call_without_destructor(void *arg)
{
	static struct tepoch_entry e;

	tepoch_call(&((struct misuse_ctx *)arg)->rec, &e, NULL);
}

/* A section through one record, a wait through another record of the same domain. */
static void synchronize_inside_through_another_record(void *arg)
{
	struct misuse_ctx *c = arg;
	struct tepoch_record other = { 0 };

	tepoch_register(&c->d, &other);
	tepoch_enter(&c->rec);
	tepoch_synchronize(&other);
}

Test(epoch_misuse, synchronize_inside_through_another_record_aborts, .timeout = 20)
{
	char err[512];

	cr_assert(misuse_aborts_with(synchronize_inside_through_another_record, ctx_new(true),
				     "epoch: misuse: a wait by a thread inside a section of the "
				     "same domain, through another record", err, sizeof(err)),
		  "stderr: %s", err);
}

#define MISUSE_TEST(NAME, FN, REGISTERED, MESSAGE) \
	Test(epoch_misuse, NAME) \
	{ \
		char err[512]; \
		cr_assert(misuse_aborts_with(FN, ctx_new(REGISTERED), "epoch: misuse: " MESSAGE, \
					     err, sizeof(err)), "stderr: %s", err); \
	}

MISUSE_TEST(exit_without_enter_aborts, exit_without_enter, true,
	    "tepoch_exit without a matching tepoch_enter")
MISUSE_TEST(enter_unregistered_aborts, enter_unregistered, false,
	    "tepoch_enter on a record that is not registered")
MISUSE_TEST(synchronize_inside_a_section_aborts, synchronize_inside, true,
	    "tepoch_synchronize inside an epoch section (it would wait for itself forever)")
MISUSE_TEST(barrier_inside_a_section_aborts, barrier_inside, true,
	    "tepoch_barrier inside an epoch section")
MISUSE_TEST(unregister_inside_a_section_aborts, unregister_inside, true,
	    "tepoch_unregister inside an epoch section")
MISUSE_TEST(poll_inside_a_section_aborts, poll_inside, true,
	    "tepoch_poll inside an epoch section (poll does not wait for the caller's own "
	    "section, so it could free what that section holds)")
MISUSE_TEST(nesting_past_the_limit_aborts, nest_too_deep, true,
	    "tepoch_enter nested more than 65535 deep")
MISUSE_TEST(register_twice_aborts, register_twice, true,
	    "tepoch_register on a record already registered")
MISUSE_TEST(destroy_with_a_record_registered_aborts, destroy_in_use, true,
	    "tepoch_destroy with a record still registered")
MISUSE_TEST(destroy_with_orphans_pending_aborts, destroy_with_orphans, true,
	    "tepoch_destroy with 1 retired entries not yet destroyed")
MISUSE_TEST(exit_unregistered_aborts, exit_unregistered, false,
	    "tepoch_exit on a record that is not registered")
MISUSE_TEST(synchronize_unregistered_aborts, synchronize_unregistered, false,
	    "tepoch_synchronize on a record that is not registered")
MISUSE_TEST(call_unregistered_aborts, call_unregistered, false,
	    "tepoch_call on a record that is not registered")
MISUSE_TEST(call_without_destructor_aborts, call_without_destructor, true,
	    "tepoch_call with a NULL destructor")

/*
 * The epoch wraps: its field has TEPOCH_EPOCH_MASK + 1 values. A domain started at the last
 * epoch reaches 0 on its next step; nothing may be freed early or looped on there.
 */
Test(epoch_wrap, retire_across_the_wrap_waits_for_the_reader, .timeout = 20)
{
	struct tepoch d;
	struct tepoch_record rec = { 0 };
	atomic_int destroyed = 0;
	struct reader r;
	pthread_t rt;

	tepoch_init_at(&d, TEPOCH_EPOCH_MASK);
	tepoch_register(&d, &rec);
	reader_start(&r, &d, NULL, &rt);	/* inside a section at the last epoch */
	retire_one(&rec, &destroyed);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(tepoch_poll(&rec), 0,
			     "freed while a reader of the last epoch holds it");
	cr_assert_eq(atomic_load(&destroyed), 0);
	cr_assert_eq(tepoch_epoch(&d), 0, "one step past the reader, to epoch 0");
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_eq(tepoch_poll(&rec), 1, "reclaimed once the reader has left");
	cr_assert_eq(tepoch_epoch(&d), 1);
	tepoch_unregister(&rec);
	tepoch_destroy(&d);
}

Test(epoch_wrap, poll_without_reader_steps_across_the_wrap, .timeout = 20)
{
	for (unsigned long start = TEPOCH_EPOCH_MASK - 2; start != 2; start = (start + 1) &
	     TEPOCH_EPOCH_MASK) {
		struct tepoch d;
		struct tepoch_record rec = { 0 };
		atomic_int destroyed = 0;

		tepoch_init_at(&d, start);
		tepoch_register(&d, &rec);
		retire_one(&rec, &destroyed);
		cr_assert_eq(tepoch_poll(&rec), 1, "from epoch %lu", start);
		cr_assert_eq(tepoch_epoch(&d), (start + 2) & TEPOCH_EPOCH_MASK,
			     "two steps from %lu", start);
		tepoch_unregister(&rec);
		tepoch_destroy(&d);
	}
}

Test(epoch_wrap, synchronize_across_the_wrap_waits_for_the_reader, .timeout = 20)
{
	struct tepoch d;
	atomic_int order = 0;
	struct reader r;
	struct writer w = { .d = &d, .order = &order };
	pthread_t rt, wt;

	tepoch_init_at(&d, TEPOCH_EPOCH_MASK);
	reader_start(&r, &d, &order, &rt);
	cr_assert_eq(pthread_create(&wt, NULL, writer_thread, &w), 0);
	wait_until_advancer_sleeps(&d);
	cr_assert_eq(tepoch_epoch(&d), 0);
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(wt, NULL), 0);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_lt(r.left_at, w.returned_at, "synchronize returned while the reader was inside");
	tepoch_destroy(&d);
}

/*
 * A whole lap: an idle record last seen at epoch X shows X again 2^BITS steps later. The step
 * from X must settle it with a fence, as it would any idle record behind the epoch, not take it
 * for one that has moved on. Only the 15-bit build can go round in a test's time.
 */
Test(epoch_wrap, an_idle_record_a_lap_old_is_settled_by_a_fence, .timeout = 60)
{
	struct tepoch d;
	struct tepoch_record idle = { 0 }, rec = { 0 };
	uint64_t fences;

	if (TEPOCH_EPOCH_MASK > 0xffff)
		cr_skip_test("a lap of %lu steps", TEPOCH_EPOCH_MASK);
	SKIP_WITHOUT_MEMBARRIER();
	tepoch_init_at(&d, 5);
	tepoch_register(&d, &idle);
	tepoch_register(&d, &rec);
	tepoch_synchronize(&rec);
	cr_assert_eq(d.n_fences, 1, "from 5: idle shows 5 and needs none; from 6 it needs one");
	for (unsigned long i = 0; i < TEPOCH_EPOCH_MASK; i++)
		tepoch_synchronize(&rec);
	cr_assert_eq(tepoch_epoch(&d), 5);
	fences = d.n_fences;
	tepoch_synchronize(&rec);
	cr_assert_eq(d.n_fences - fences, 2, "from 5 again, a lap later: idle's word is a lap old");
	tepoch_unregister(&rec);
	tepoch_unregister(&idle);
	tepoch_destroy(&d);
}

/*
 * The idle-record path: a record outside any section, last seen before the epoch, is settled
 * with a membarrier (or a fence) before the epoch moves past it; one that shows the current
 * epoch needs none. What the fence does cannot be seen on x86 or by TSan; that it is issued can.
 */
Test(epoch, a_step_past_an_idle_record_fences_first)
{
	struct tepoch d;
	struct tepoch_record idle = { 0 }, rec = { 0 };

	SKIP_WITHOUT_MEMBARRIER();
	tepoch_init(&d);
	tepoch_register(&d, &rec);
	tepoch_synchronize(&rec);
	cr_assert_eq(d.n_fences, 0, "no other record: nothing to settle");
	tepoch_register(&d, &idle);	/* shows the current epoch, 2 */
	tepoch_synchronize(&rec);	/* from 2: none; from 3: idle is behind */
	cr_assert_eq(d.n_fences, 1);
	tepoch_synchronize(&rec);	/* from 3 and from 4: behind both times */
	cr_assert_eq(d.n_fences, 3);
	/*
	 * Unchanged since two steps back, idle is parked now: each wait goes to its fence after
	 * one scan instead of spinning TEPOCH_IDLE_SCANS scans first.
	 */
	uint64_t scans = d.n_scans;

	tepoch_synchronize(&rec);	/* from 5 and from 6 */
	cr_assert_eq(d.n_fences, 5);
	cr_assert_leq(d.n_scans - scans, 4, "one scan, the fence, one scan, in each of two waits; "
		      "%llu scans", (unsigned long long)(d.n_scans - scans));
	tepoch_unregister(&idle);
	tepoch_unregister(&rec);
	tepoch_destroy(&d);
}

/*
 * The fenced mode's check: after the advancer's one fence, every other record seen outside any
 * section is settled, so synchronize ends there, without a step and without a second fence.
 */
Test(epoch, synchronize_skips_the_step_when_every_other_record_is_idle)
{
	struct tepoch d;
	struct tepoch_record idle = { 0 }, rec = { 0 };
	unsigned long epoch;
	uint64_t fences;

	tepoch_membarrier = false;	/* this test's own process, before any thread starts */
	tepoch_init(&d);
	tepoch_register(&d, &idle);
	tepoch_register(&d, &rec);
	epoch = tepoch_epoch(&d);
	fences = d.n_fences;
	tepoch_synchronize(&rec);
	cr_assert_eq(tepoch_epoch(&d), epoch, "synchronize stepped although every other record "
		     "was outside any section");
	cr_assert_eq(d.n_fences - fences, 1, "the check's one fence, and no other");
	tepoch_unregister(&rec);
	tepoch_unregister(&idle);
	tepoch_destroy(&d);
}

/* Nesting: 65535 deep is allowed, one more aborts (the depth has 16 bits). */
Test(epoch, nesting_reaches_the_documented_limit)
{
	struct tepoch d;
	struct tepoch_record rec = { 0 };

	tepoch_init(&d);
	tepoch_register(&d, &rec);
	for (unsigned long i = 0; i < TEPOCH_NEST_MASK; i++)
		tepoch_enter(&rec);
	cr_assert_eq(atomic_load(&rec.word) & TEPOCH_NEST_MASK, 65535);
	for (unsigned long i = 0; i < TEPOCH_NEST_MASK; i++)
		tepoch_exit(&rec);
	tepoch_unregister(&rec);
	tepoch_destroy(&d);
}

/*
 * tepoch_barrier runs a destructor only after the reader that holds the object has left. The
 * reader marks the object as it leaves; the destructor checks the mark. The reader is let go
 * only once the barrier is seen asleep and not returned: flags and counts, no clock.
 */
struct held {
	struct tepoch_entry entry;
	long value;
	bool reader_left;	/* plain: the barrier's wait orders it before the destructor */
	atomic_int *destroyed_early, *destroyed;
};

static void held_destroy(struct tepoch_entry *entry)
{
	struct held *h = teardown_container_of(entry, struct held, entry);

	if (!h->reader_left)
		atomic_fetch_add(h->destroyed_early, 1);
	atomic_fetch_add(h->destroyed, 1);
	free(h);
}

struct holding_reader {
	struct tepoch *d;
	struct held *_Atomic *slot;
	sem_t entered, leave;
	long seen;
};

static void *holding_reader_thread(void *arg)
{
	struct holding_reader *r = arg;
	struct tepoch_record rec = { 0 };
	struct held *h;

	tepoch_register(r->d, &rec);
	tepoch_enter(&rec);
	h = atomic_load_explicit(r->slot, memory_order_acquire);
	sem_post(&r->entered);
	sem_wait(&r->leave);
	r->seen = h->value;	/* a use after free if the barrier did not wait */
	h->reader_left = true;
	tepoch_exit(&rec);
	tepoch_unregister(&rec);
	return NULL;
}

struct barrier_caller {
	struct tepoch *d;
	struct held *_Atomic *slot;
	atomic_bool returned;
	bool orphan;	/* retire through a record that unregisters at once */
};

static void *barrier_caller_thread(void *arg)
{
	struct barrier_caller *b = arg;
	struct tepoch_record rec = { 0 }, gone = { 0 };
	struct held *h = atomic_exchange(b->slot, NULL);	/* unpublish */

	tepoch_register(b->d, &rec);
	if (b->orphan) {
		tepoch_register(b->d, &gone);
		tepoch_call(&gone, &h->entry, held_destroy);
		tepoch_unregister(&gone);
	} else {
		tepoch_call(&rec, &h->entry, held_destroy);
	}
	tepoch_barrier(&rec);
	atomic_store(&b->returned, true);
	tepoch_unregister(&rec);
	return NULL;
}

static void barrier_waits_for_the_holder(bool orphan)
{
	struct tepoch d;
	atomic_int destroyed = 0, destroyed_early = 0;
	struct held *h = teardown_calloc("epoch", 1, sizeof(*h));
	struct held *_Atomic slot;
	struct holding_reader r = { .d = &d, .slot = &slot };
	struct barrier_caller b = { .d = &d, .slot = &slot, .orphan = orphan };
	pthread_t rt, bt;

	h->value = 42;
	h->destroyed = &destroyed;
	h->destroyed_early = &destroyed_early;
	atomic_init(&slot, h);
	tepoch_init(&d);
	cr_assert_eq(sem_init(&r.entered, 0, 0), 0);
	cr_assert_eq(sem_init(&r.leave, 0, 0), 0);
	cr_assert_eq(pthread_create(&rt, NULL, holding_reader_thread, &r), 0);
	sem_wait(&r.entered);
	cr_assert_eq(pthread_create(&bt, NULL, barrier_caller_thread, &b), 0);
	/* Asleep waiting for the reader, or (if it did not wait) already returned. */
	while (!atomic_load(&d.writer_waiting) && !atomic_load(&b.returned))
		sched_yield();
	cr_assert_not(atomic_load(&b.returned), "tepoch_barrier returned with the reader inside");
	cr_assert_eq(atomic_load(&destroyed), 0, "destructor ran with the reader inside");
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(bt, NULL), 0);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_eq(r.seen, 42);
	cr_assert_eq(atomic_load(&destroyed), 1, "the barrier runs the destructor");
	cr_assert_eq(atomic_load(&destroyed_early), 0, "destructor ran before the reader left");
	tepoch_destroy(&d);
}

Test(epoch, barrier_destroys_only_after_the_holder_left, .timeout = 20)
{
	barrier_waits_for_the_holder(false);
}

Test(epoch, barrier_destroys_an_orphan_only_after_the_holder_left, .timeout = 20)
{
	barrier_waits_for_the_holder(true);
}

/*
 * Orphans and poll: threads come and go, each retiring objects it does not wait for. Code that
 * only ever polls must still reclaim what they left behind.
 */
struct churner {
	struct tepoch *d;
	atomic_int *destroyed;
	int retire;
};

static void *churner_thread(void *arg)
{
	struct churner *c = arg;
	struct tepoch_record rec = { 0 };

	tepoch_register(c->d, &rec);
	for (int i = 0; i < c->retire; i++)
		retire_one(&rec, c->destroyed);
	tepoch_unregister(&rec);	/* leaves them all as orphans */
	return NULL;
}

Test(epoch, poll_reclaims_what_exited_threads_left, .timeout = 20)
{
	enum { THREADS = 64, EACH = 10 };
	struct tepoch d;
	struct tepoch_record rec = { 0 };
	atomic_int destroyed = 0;
	struct churner c = { .d = &d, .destroyed = &destroyed, .retire = EACH };
	size_t most_orphans = 0;

	tepoch_init(&d);
	tepoch_register(&d, &rec);
	for (int i = 0; i < THREADS; i++) {
		pthread_t t;

		cr_assert_eq(pthread_create(&t, NULL, churner_thread, &c), 0);
		cr_assert_eq(pthread_join(t, NULL), 0);
		if (d.n_orphans > most_orphans)
			most_orphans = d.n_orphans;
		tepoch_poll(&rec);
	}
	tepoch_poll(&rec);
	cr_assert_eq(atomic_load(&destroyed), THREADS * EACH, "orphans leaked: %d of %d destroyed",
		     atomic_load(&destroyed), THREADS * EACH);
	cr_assert_eq(d.n_orphans, 0);
	cr_assert_leq(most_orphans, EACH, "orphans piled up to %zu", most_orphans);
	tepoch_unregister(&rec);
	tepoch_destroy(&d);
}

/* An orphan a reader still holds is not freed by poll until the reader has left. */
Test(epoch, poll_keeps_an_orphan_its_reader_holds, .timeout = 20)
{
	struct tepoch d;
	struct tepoch_record rec = { 0 };
	atomic_int destroyed = 0, destroyed_early = 0;
	struct held *h = teardown_calloc("epoch", 1, sizeof(*h));
	struct held *_Atomic slot;
	struct holding_reader r = { .d = &d, .slot = &slot };
	struct tepoch_record gone = { 0 };
	pthread_t rt;

	h->value = 7;
	h->destroyed = &destroyed;
	h->destroyed_early = &destroyed_early;
	atomic_init(&slot, h);
	tepoch_init(&d);
	tepoch_register(&d, &rec);
	cr_assert_eq(sem_init(&r.entered, 0, 0), 0);
	cr_assert_eq(sem_init(&r.leave, 0, 0), 0);
	cr_assert_eq(pthread_create(&rt, NULL, holding_reader_thread, &r), 0);
	sem_wait(&r.entered);
	tepoch_register(&d, &gone);
	tepoch_call(&gone, &atomic_exchange(&slot, NULL)->entry, held_destroy);
	tepoch_unregister(&gone);
	for (int i = 0; i < 4; i++)
		tepoch_poll(&rec);
	cr_assert_eq(atomic_load(&destroyed), 0, "an orphan was freed under its reader");
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	tepoch_poll(&rec);
	cr_assert_eq(atomic_load(&destroyed), 1, "poll reclaims the orphan once the reader left");
	cr_assert_eq(atomic_load(&destroyed_early), 0);
	cr_assert_eq(d.n_orphans, 0);
	tepoch_unregister(&rec);
	tepoch_destroy(&d);
}
