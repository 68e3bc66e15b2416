/*
 * trcu's contract: nesting, what a grace period waits for and what it does not, trcu_call and
 * trcu_barrier, QSBR, and misuse. Deterministic: threads and semaphores; where a test must
 * know that a writer is blocked, it watches the writer's futex word, never a clock.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "patterns/rcu/trcu.h"
#include "patterns/rcu/trcu_qsbr.h"
#include "tests/misuse.h"

struct reader {
	sem_t entered, leave;
	atomic_int *order;
	int left_at;
	bool qsbr;
};

static void reader_init(struct reader *r, atomic_int *order, bool qsbr)
{
	sem_init(&r->entered, 0, 0);
	sem_init(&r->leave, 0, 0);
	r->order = order;
	r->qsbr = qsbr;
}

/* Enters a read-side critical section (QSBR: is online), waits to be told, leaves. */
static void *reader_thread(void *arg)
{
	struct reader *r = arg;

	if (r->qsbr) {
		trcu_qsbr_register_thread();
	} else {
		trcu_register_thread();
		trcu_read_lock();
	}
	sem_post(&r->entered);
	sem_wait(&r->leave);
	r->left_at = atomic_fetch_add(r->order, 1);
	if (r->qsbr) {
		trcu_qsbr_quiescent_state();
		trcu_qsbr_unregister_thread();
	} else {
		trcu_read_unlock();
		trcu_unregister_thread();
	}
	return NULL;
}

struct writer {
	atomic_int *order;
	int returned_at;
	bool qsbr;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;

	if (w->qsbr)
		trcu_qsbr_synchronize();
	else
		trcu_synchronize();
	w->returned_at = atomic_fetch_add(w->order, 1);
	return NULL;
}

/* The writer has scanned, found a reader in the way, and gone to sleep on its futex. */
static void wait_until_writer_sleeps(void)
{
	while (!atomic_load(&trcu_state.writer_waiting))
		sched_yield();
}

Test(grace, nesting_is_one_section)
{
	trcu_register_thread();
	trcu_read_lock();
	trcu_read_lock();
	cr_assert_eq(atomic_load(&trcu_self.word) & TRCU_NEST_MASK, 2);
	trcu_read_unlock();
	cr_assert_eq(atomic_load(&trcu_self.word) & TRCU_NEST_MASK, 1, "inner unlock ends nothing");
	trcu_read_unlock();
	cr_assert_eq(atomic_load(&trcu_self.word) & TRCU_NEST_MASK, 0);
	trcu_synchronize();	/* registered, outside any section: does not wait for itself */
	trcu_unregister_thread();
}

Test(grace, synchronize_waits_for_a_pre_existing_reader, .timeout = 20)
{
	atomic_int order = 0;
	struct reader r;
	struct writer w = { .order = &order };
	pthread_t rt, wt;

	reader_init(&r, &order, false);
	pthread_create(&rt, NULL, reader_thread, &r);
	sem_wait(&r.entered);
	pthread_create(&wt, NULL, writer_thread, &w);
	wait_until_writer_sleeps();
	sem_post(&r.leave);
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
	cr_assert_lt(r.left_at, w.returned_at, "synchronize returned while the reader was inside");
}

/* A reader that enters after the grace period began is not waited for (it would starve it). */
Test(grace, synchronize_does_not_wait_for_later_readers, .timeout = 20)
{
	atomic_int order = 0;
	struct reader early, late;
	struct writer w = { .order = &order };
	pthread_t et, lt, wt;

	reader_init(&early, &order, false);
	reader_init(&late, &order, false);
	pthread_create(&et, NULL, reader_thread, &early);
	sem_wait(&early.entered);
	pthread_create(&wt, NULL, writer_thread, &w);
	wait_until_writer_sleeps();
	pthread_create(&lt, NULL, reader_thread, &late);
	sem_wait(&late.entered);
	sem_post(&early.leave);
	pthread_join(wt, NULL);	/* hangs (and times out) if it waits for the late reader */
	sem_post(&late.leave);
	pthread_join(et, NULL);
	pthread_join(lt, NULL);
	cr_assert_lt(early.left_at, w.returned_at);
	cr_assert_lt(w.returned_at, late.left_at, "synchronize waited for a reader that came later");
}

/* A reader that leaves and at once re-enters has ended the section the writer waits for. */
static void *reentering_reader(void *arg)
{
	struct reader *r = arg;

	trcu_register_thread();
	trcu_read_lock();
	sem_post(&r->entered);
	sem_wait(&r->leave);
	r->left_at = atomic_fetch_add(r->order, 1);
	trcu_read_unlock();
	trcu_read_lock();	/* a new section: the writer must not wait for it */
	sem_post(&r->entered);
	sem_wait(&r->leave);
	trcu_read_unlock();
	trcu_unregister_thread();
	return NULL;
}

Test(grace, a_reader_that_re_enters_does_not_hold_the_writer, .timeout = 20)
{
	atomic_int order = 0;
	struct reader r;
	struct writer w = { .order = &order };
	pthread_t rt, wt;

	reader_init(&r, &order, false);
	pthread_create(&rt, NULL, reentering_reader, &r);
	sem_wait(&r.entered);
	pthread_create(&wt, NULL, writer_thread, &w);
	wait_until_writer_sleeps();
	sem_post(&r.leave);
	sem_wait(&r.entered);	/* inside its second section */
	pthread_join(wt, NULL);	/* hangs (and times out) if it waits for the second section */
	sem_post(&r.leave);
	pthread_join(rt, NULL);
	cr_assert_lt(r.left_at, w.returned_at);
}

#define N_CALLS 100

struct counted {
	struct trcu_head head;
	atomic_int runs;
};

static void count_run(struct trcu_head *head)
{
	atomic_fetch_add(&((struct counted *)head)->runs, 1);
}

Test(call, barrier_runs_every_callback_exactly_once)
{
	struct counted *c = calloc(N_CALLS, sizeof(*c));

	for (int i = 0; i < N_CALLS; i++)
		trcu_call(&c[i].head, count_run);
	trcu_barrier();
	for (int i = 0; i < N_CALLS; i++)
		cr_assert_eq(atomic_load(&c[i].runs), 1, "callback %d ran %d times", i,
			     atomic_load(&c[i].runs));
	trcu_barrier();	/* nothing queued: returns, runs nothing again */
	for (int i = 0; i < N_CALLS; i++)
		cr_assert_eq(atomic_load(&c[i].runs), 1);
	free(c);
}

Test(call, callback_waits_for_a_pre_existing_reader, .timeout = 20)
{
	atomic_int order = 0;
	struct reader r;
	struct counted c = { .runs = 0 };
	pthread_t rt;

	reader_init(&r, &order, false);
	pthread_create(&rt, NULL, reader_thread, &r);
	sem_wait(&r.entered);
	trcu_call(&c.head, count_run);
	wait_until_writer_sleeps();	/* the callback thread is in its grace period */
	cr_assert_eq(atomic_load(&c.runs), 0, "callback ran inside the reader's section");
	sem_post(&r.leave);
	trcu_barrier();
	pthread_join(rt, NULL);
	cr_assert_eq(atomic_load(&c.runs), 1);
}

/* The no-membarrier fallback: the grace-period tests again, in a child with membarrier off. */
Test(grace, fallback_without_membarrier_passes_too)
{
	char *argv[] = { "/proc/self/exe", "--filter=grace/*", NULL };
	/* A fresh environment: Criterion's worker variables would make the child a worker. */
	char *envp[] = { "TRCU_NO_MEMBARRIER=1", NULL };
	int status;
	pid_t pid;

	if (getenv("TRCU_NO_MEMBARRIER")) {
		cr_assert_not(trcu_uses_membarrier());
		return;
	}
	pid = fork();
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "grace/* failed without membarrier (status %#x)", status);
}

Test(qsbr, synchronize_waits_for_an_online_reader, .timeout = 20)
{
	atomic_int order = 0;
	struct reader r;
	struct writer w = { .order = &order, .qsbr = true };
	pthread_t rt, wt;

	reader_init(&r, &order, true);
	pthread_create(&rt, NULL, reader_thread, &r);
	sem_wait(&r.entered);
	pthread_create(&wt, NULL, writer_thread, &w);
	while (!trcu_qsbr_writer_sleeps())
		sched_yield();
	sem_post(&r.leave);
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
	cr_assert_lt(r.left_at, w.returned_at, "synchronize returned before the quiescent state");
}

Test(qsbr, offline_readers_do_not_block)
{
	trcu_qsbr_register_thread();
	trcu_qsbr_thread_offline();
	trcu_qsbr_synchronize();	/* would self-deadlock if it waited for us */
	trcu_qsbr_thread_online();
	trcu_qsbr_unregister_thread();
}

static void unlock_without_lock(void *arg)
{
	(void)arg;
	trcu_register_thread();
	trcu_read_unlock();
}

static void unlock_unregistered(void *arg)
{
	(void)arg;
	trcu_read_unlock();
}

static void lock_unregistered(void *arg)
{
	(void)arg;
	trcu_read_lock();
}

static void synchronize_inside_section(void *arg)
{
	(void)arg;
	trcu_register_thread();
	trcu_read_lock();
	trcu_synchronize();
}

static void barrier_inside_section(void *arg)
{
	(void)arg;
	trcu_register_thread();
	trcu_read_lock();
	trcu_barrier();
}

static void unregister_inside_section(void *arg)
{
	(void)arg;
	trcu_register_thread();
	trcu_read_lock();
	trcu_unregister_thread();
}

static void register_twice(void *arg)
{
	(void)arg;
	trcu_register_thread();
	trcu_register_thread();
}

static void unregister_unregistered(void *arg)
{
	(void)arg;
	trcu_unregister_thread();
}

static void call_without_callback(void *arg)
{
	static struct trcu_head head;

	(void)arg;
	trcu_call(&head, NULL);
}

static void qsbr_quiescent_unregistered(void *arg)
{
	(void)arg;
	trcu_qsbr_quiescent_state();
}

static void qsbr_synchronize_online(void *arg)
{
	(void)arg;
	trcu_qsbr_register_thread();
	trcu_qsbr_synchronize();
}

static void qsbr_register_twice(void *arg)
{
	(void)arg;
	trcu_qsbr_register_thread();
	trcu_qsbr_register_thread();
}

#define ASSERT_MISUSE(fn, message) \
	do { \
		char err_[512]; \
		cr_assert(misuse_aborts_with(fn, NULL, "rcu: misuse: " message, err_, sizeof(err_)), \
			  "stderr: %s", err_); \
	} while (0)

Test(misuse, unlock_without_lock)
{
	ASSERT_MISUSE(unlock_without_lock, "trcu_read_unlock without a matching trcu_read_lock");
}

Test(misuse, unlock_on_unregistered_thread)
{
	ASSERT_MISUSE(unlock_unregistered, "trcu_read_unlock on a thread that did not call "
		      "trcu_register_thread");
}

Test(misuse, read_lock_on_unregistered_thread)
{
	ASSERT_MISUSE(lock_unregistered, "trcu_read_lock on a thread that did not call "
		      "trcu_register_thread");
}

Test(misuse, synchronize_inside_read_side_section_is_a_self_deadlock)
{
	ASSERT_MISUSE(synchronize_inside_section, "trcu_synchronize inside a read-side critical "
		      "section (it would wait for itself forever)");
}

Test(misuse, barrier_inside_read_side_section_is_a_self_deadlock)
{
	ASSERT_MISUSE(barrier_inside_section, "trcu_barrier inside a read-side critical section");
}

Test(misuse, unregister_inside_read_side_section)
{
	ASSERT_MISUSE(unregister_inside_section, "trcu_unregister_thread inside a read-side "
		      "critical section");
}

Test(misuse, register_twice)
{
	ASSERT_MISUSE(register_twice, "trcu_register_thread called twice on one thread");
}

Test(misuse, unregister_unregistered)
{
	ASSERT_MISUSE(unregister_unregistered, "trcu_unregister_thread on a thread that is not "
		      "registered");
}

Test(misuse, call_without_callback)
{
	ASSERT_MISUSE(call_without_callback, "trcu_call with a NULL callback");
}

Test(misuse, qsbr_quiescent_state_on_unregistered_thread)
{
	ASSERT_MISUSE(qsbr_quiescent_unregistered, "trcu_qsbr_quiescent_state on a thread that "
		      "did not call trcu_qsbr_register_thread");
}

Test(misuse, qsbr_synchronize_on_online_reader_is_a_self_deadlock)
{
	ASSERT_MISUSE(qsbr_synchronize_online, "trcu_qsbr_synchronize on an online reader thread");
}

Test(misuse, qsbr_register_twice)
{
	ASSERT_MISUSE(qsbr_register_twice, "trcu_qsbr_register_thread called twice on one thread");
}
