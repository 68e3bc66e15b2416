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
#include <stdlib.h>

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
	sem_init(&r->entered, 0, 0);
	sem_init(&r->leave, 0, 0);
	pthread_create(t, NULL, reader_thread, r);
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

struct counted {
	struct tepoch_entry entry;
	atomic_int *destroyed;
};

static void counted_destroy(struct tepoch_entry *entry)
{
	struct counted *c = (struct counted *)entry;

	atomic_fetch_add(c->destroyed, 1);
	free(c);
}

static void retire_one(struct tepoch_record *rec, atomic_int *destroyed)
{
	struct counted *c = malloc(sizeof(*c));

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
	cr_assert_geq(tepoch_epoch(&d), 2, "synchronize moves the epoch on");
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
	pthread_create(&wt, NULL, writer_thread, &w);
	wait_until_advancer_sleeps(&d);
	sem_post(&r.leave);
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
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
	pthread_create(&wt, NULL, writer_thread, &w);
	wait_until_advancer_sleeps(&d);	/* one step taken; blocked on early for the second */
	reader_start(&late, &d, &order, &lt);
	sem_post(&early.leave);
	pthread_join(wt, NULL);	/* returns although late is still inside */
	sem_post(&late.leave);
	pthread_join(et, NULL);
	pthread_join(lt, NULL);
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
	pthread_join(rt, NULL);
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
	pthread_join(rt, NULL);
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
	struct misuse_ctx *c = calloc(1, sizeof(*c));

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
MISUSE_TEST(register_twice_aborts, register_twice, true,
	    "tepoch_register on a record already registered")
MISUSE_TEST(destroy_with_a_record_registered_aborts, destroy_in_use, true,
	    "tepoch_destroy with a record still registered")
MISUSE_TEST(destroy_with_orphans_pending_aborts, destroy_with_orphans, true,
	    "tepoch_destroy with 1 retired entries not yet destroyed")
