/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trcu's contract: nesting, what a grace period waits for and what it does not, trcu_call and
 * trcu_barrier, QSBR, and misuse. Deterministic: threads and semaphores; where a test must
 * know that a writer is blocked, it watches the writer's futex word, never a clock.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* A reader can be stopped between its load of the phase and its store (see trcu.h). */
static void read_lock_preempted(void);
#define TRCU_READ_LOCK_PREEMPTED() read_lock_preempted()

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
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
	cr_assert_eq(sem_init(&r->entered, 0, 0), 0);
	cr_assert_eq(sem_init(&r->leave, 0, 0), 0);
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

Test(grace, nesting_to_the_limit_works)
{
	trcu_register_thread();
	for (unsigned long i = 0; i < TRCU_NEST_MASK; i++)
		trcu_read_lock();
	cr_assert_eq(atomic_load(&trcu_self.word) & TRCU_NEST_MASK, 65535);
	for (unsigned long i = 0; i < TRCU_NEST_MASK; i++)
		trcu_read_unlock();
	cr_assert_eq(atomic_load(&trcu_self.word) & TRCU_NEST_MASK, 0);
	trcu_unregister_thread();
}

Test(grace, synchronize_waits_for_a_pre_existing_reader, .timeout = 20)
{
	atomic_int order = 0;
	struct reader r;
	struct writer w = { .order = &order };
	pthread_t rt, wt;

	reader_init(&r, &order, false);
	cr_assert_eq(pthread_create(&rt, NULL, reader_thread, &r), 0);
	sem_wait(&r.entered);
	cr_assert_eq(pthread_create(&wt, NULL, writer_thread, &w), 0);
	wait_until_writer_sleeps();
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(wt, NULL), 0);
	cr_assert_eq(pthread_join(rt, NULL), 0);
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
	cr_assert_eq(pthread_create(&et, NULL, reader_thread, &early), 0);
	sem_wait(&early.entered);
	cr_assert_eq(pthread_create(&wt, NULL, writer_thread, &w), 0);
	wait_until_writer_sleeps();
	cr_assert_eq(pthread_create(&lt, NULL, reader_thread, &late), 0);
	sem_wait(&late.entered);
	sem_post(&early.leave);
	/* Hangs (and times out) if it waits for the late reader. */
	cr_assert_eq(pthread_join(wt, NULL), 0);
	sem_post(&late.leave);
	cr_assert_eq(pthread_join(et, NULL), 0);
	cr_assert_eq(pthread_join(lt, NULL), 0);
	cr_assert_lt(early.left_at, w.returned_at);
	cr_assert_lt(w.returned_at, late.left_at,
		     "synchronize waited for a reader that came later");
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
	cr_assert_eq(pthread_create(&rt, NULL, reentering_reader, &r), 0);
	sem_wait(&r.entered);
	cr_assert_eq(pthread_create(&wt, NULL, writer_thread, &w), 0);
	wait_until_writer_sleeps();
	sem_post(&r.leave);
	sem_wait(&r.entered);	/* inside its second section */
	/* Hangs (and times out) if it waits for the second section. */
	cr_assert_eq(pthread_join(wt, NULL), 0);
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_lt(r.left_at, w.returned_at);
}

/* A reader stopped in trcu_read_lock() after it loaded the phase, before it stored it. */
static struct {
	sem_t loaded, store;
} delayed;
static _Thread_local bool stop_in_read_lock;

static void read_lock_preempted(void)
{
	if (!stop_in_read_lock)
		return;
	stop_in_read_lock = false;
	sem_post(&delayed.loaded);
	sem_wait(&delayed.store);
}

static void *delayed_reader(void *arg)
{
	struct reader *r = arg;

	trcu_register_thread();
	stop_in_read_lock = true;
	trcu_read_lock();
	sem_post(&r->entered);
	sem_wait(&r->leave);
	r->left_at = atomic_fetch_add(r->order, 1);
	trcu_read_unlock();
	trcu_unregister_thread();
	return NULL;
}

struct flagged_writer {
	struct writer w;
	atomic_bool returned;
};

static void *flagged_writer_thread(void *arg)
{
	struct flagged_writer *f = arg;

	writer_thread(&f->w);
	atomic_store(&f->returned, true);
	return NULL;
}

/*
 * A reader loads the phase, is preempted, and stores it only after a whole grace period has
 * flipped the phase: its section looks like one that began after the next grace period's flip.
 * The next grace period must still wait for it (its phase 1 does; a single flip would not).
 */
Test(grace, a_reader_delayed_across_a_flip_is_waited_for, .timeout = 20)
{
	atomic_int order = 0;
	struct reader r;
	struct flagged_writer f = { .w = { .order = &order } };
	pthread_t rt, wt;

	cr_assert_eq(sem_init(&delayed.loaded, 0, 0), 0);
	cr_assert_eq(sem_init(&delayed.store, 0, 0), 0);
	reader_init(&r, &order, false);
	cr_assert_eq(pthread_create(&rt, NULL, delayed_reader, &r), 0);
	sem_wait(&delayed.loaded);
	trcu_synchronize();	/* the reader is at depth 0: returns, and flips the phase */
	sem_post(&delayed.store);
	sem_wait(&r.entered);	/* inside, with the phase from before that flip */
	cr_assert_eq(pthread_create(&wt, NULL, flagged_writer_thread, &f), 0);
	while (!atomic_load(&trcu_state.writer_waiting) && !atomic_load(&f.returned))
		sched_yield();
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(wt, NULL), 0);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_lt(r.left_at, f.w.returned_at, "synchronize returned while a reader that stored "
		     "a phase from before the last flip was inside");
}

/*
 * A reader that enters sections back to back, each long enough for a writer to go to sleep in
 * it. It counts the sections it ends while a writer sleeps waiting for a reader: the sections a
 * grace period waited through. A grace period waits for the section in progress and at most
 * one more per phase; it must not wait for every section that follows.
 */
#define STREAM_SPIN 20000	/* pauses per section */
#define STREAM_SECTIONS 2000	/* the reader's sections the writer runs against */
#define STREAM_BOUND 3		/* sections one grace period may sleep through */
#define STREAM_GIVE_UP 100	/* then the reader stops, so that a starved writer returns */

struct stream {
	pthread_t thread;
	bool qsbr;
	atomic_bool stop;
	atomic_long sections, slept_through;
};

static bool stream_writer_sleeps(struct stream *s)
{
	return s->qsbr ? trcu_qsbr_writer_sleeps() : atomic_load(&trcu_state.writer_waiting);
}

static void *stream_reader(void *arg)
{
	struct stream *s = arg;

	if (s->qsbr)
		trcu_qsbr_register_thread();
	else
		trcu_register_thread();
	while (!atomic_load(&s->stop)) {
		if (!s->qsbr)
			trcu_read_lock();
		for (int i = 0; i < STREAM_SPIN; i++)
			teardown_cpu_relax();
		if (stream_writer_sleeps(s) &&
		    atomic_fetch_add(&s->slept_through, 1) + 1 >= STREAM_GIVE_UP)
			atomic_store(&s->stop, true);
		if (s->qsbr)
			trcu_qsbr_quiescent_state();
		else
			trcu_read_unlock();
		atomic_fetch_add(&s->sections, 1);
	}
	if (s->qsbr)
		trcu_qsbr_unregister_thread();
	else
		trcu_unregister_thread();
	return NULL;
}

static struct trcu_head stream_head;

static void stream_nothing(struct trcu_head *head)
{
	(void)head;
}

static void call_and_barrier(void)
{
	trcu_call(&stream_head, stream_nothing);
	trcu_barrier();
}

/* Runs grace(), again and again, against a back-to-back reader; returns the worst count. */
static long worst_sections_slept_through(bool qsbr, void (*grace)(void))
{
	struct stream s = { .qsbr = qsbr };
	long worst = 0;

	cr_assert_eq(pthread_create(&s.thread, NULL, stream_reader, &s), 0);
	while (!atomic_load(&s.sections))
		sched_yield();
	while (atomic_load(&s.sections) < STREAM_SECTIONS && !atomic_load(&s.stop)) {
		long n;

		atomic_store(&s.slept_through, 0);
		grace();
		n = atomic_load(&s.slept_through);
		worst = n > worst ? n : worst;
	}
	atomic_store(&s.stop, true);
	cr_assert_eq(pthread_join(s.thread, NULL), 0);
	return worst;
}

Test(grace, a_stream_of_readers_does_not_starve_synchronize, .timeout = 120)
{
	long worst = worst_sections_slept_through(false, trcu_synchronize);

	cr_assert_leq(worst, STREAM_BOUND, "one trcu_synchronize slept through %ld sections of a "
		      "reader entering back to back", worst);
}

Test(call, a_stream_of_readers_does_not_starve_barrier, .timeout = 120)
{
	long worst = worst_sections_slept_through(false, call_and_barrier);

	cr_assert_leq(worst, STREAM_BOUND, "one trcu_call + trcu_barrier slept through %ld "
		      "sections of a reader entering back to back", worst);
}

Test(qsbr, a_stream_of_quiescent_states_does_not_starve_synchronize, .timeout = 120)
{
	long worst = worst_sections_slept_through(true, trcu_qsbr_synchronize);

	cr_assert_leq(worst, STREAM_BOUND, "one trcu_qsbr_synchronize slept through %ld quiescent "
		      "states of a reader reporting back to back", worst);
}

#define N_CALLS 100

struct counted {
	struct trcu_head head;
	atomic_int runs;
};

static void count_run(struct trcu_head *head)
{
	atomic_fetch_add(&teardown_container_of(head, struct counted, head)->runs, 1);
}

Test(call, barrier_runs_every_callback_exactly_once)
{
	struct counted *c = teardown_calloc("rcu", N_CALLS, sizeof(*c));

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

/*
 * The first trcu_call() starts the callback thread. In a child whose address space has no room
 * for another thread's stack, pthread_create fails (EAGAIN): a fatal error with errno and place,
 * not misuse. Root ignores RLIMIT_NPROC, so the limit is on the address space; the stacks glibc
 * keeps from threads that have exited (the fork copied them) are used up first.
 */
static void *parked_thread(void *unused)
{
	(void)unused;
	for (;;)
		pause();
	return NULL;
}

static void call_without_room_for_a_thread(void *arg)
{
	struct rlimit as = { 0, 0 };
	unsigned long pages = 0;
	FILE *statm = fopen("/proc/self/statm", "r");
	pthread_t t;

	if (!statm || fscanf(statm, "%lu", &pages) != 1)
		abort();
	fclose(statm);
	as.rlim_cur = as.rlim_max = pages * (rlim_t)sysconf(_SC_PAGESIZE);
	if (setrlimit(RLIMIT_AS, &as))
		abort();
	for (int i = 0; i < 1000; i++)
		if (pthread_create(&t, NULL, parked_thread, NULL))
			break;
	trcu_call(arg, count_run);
}

Test(call, a_callback_thread_that_cannot_start_is_fatal)
{
	struct counted c = { 0 };
	char err[512];

	if (TEARDOWN_ASAN)	/* ASan maps its own shadow and reports the failure first */
		cr_skip_test("AddressSanitizer reserves the address space this test limits");
	cr_assert(misuse_aborts_with(call_without_room_for_a_thread, &c.head,
				     "teardown: rcu: fatal: cannot start the callback thread at ",
				     err, sizeof(err)),
		  "stderr: %s", err);
	cr_assert(strstr(err, "Resource temporarily unavailable"), "stderr: %s", err);
}

Test(call, callback_waits_for_a_pre_existing_reader, .timeout = 20)
{
	atomic_int order = 0;
	struct reader r;
	struct counted c = { .runs = 0 };
	pthread_t rt;

	reader_init(&r, &order, false);
	cr_assert_eq(pthread_create(&rt, NULL, reader_thread, &r), 0);
	sem_wait(&r.entered);
	trcu_call(&c.head, count_run);
	wait_until_writer_sleeps();	/* the callback thread is in its grace period */
	cr_assert_eq(atomic_load(&c.runs), 0, "callback ran inside the reader's section");
	sem_post(&r.leave);
	trcu_barrier();
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_eq(atomic_load(&c.runs), 1);
}

/* The no-membarrier fallback: the grace-period tests again, in a child with membarrier off. */
Test(grace, fallback_without_membarrier_passes_too)
{
	/*
	 * One job: the stream test wants its two threads on the two CPUs, and Criterion's parallel
	 * runner leaks 48 bytes that LeakSanitizer reports under --config=asan.
	 */
	char *argv[] = { "/proc/self/exe", "--filter=grace/*", "--jobs=1", NULL };
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
	cr_assert_eq(pthread_create(&rt, NULL, reader_thread, &r), 0);
	sem_wait(&r.entered);
	cr_assert_eq(pthread_create(&wt, NULL, writer_thread, &w), 0);
	while (!trcu_qsbr_writer_sleeps())
		sched_yield();
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(wt, NULL), 0);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_lt(r.left_at, w.returned_at, "synchronize returned before the quiescent state");
}

/* A reader goes offline, a grace period runs, and it comes back online holding pointers. */
static void *online_after_a_grace_period(void *arg)
{
	struct reader *r = arg;

	trcu_qsbr_register_thread();
	trcu_qsbr_thread_offline();
	sem_post(&r->entered);
	sem_wait(&r->leave);
	trcu_qsbr_thread_online();	/* stores the counter as it is now */
	sem_post(&r->entered);
	sem_wait(&r->leave);
	r->left_at = atomic_fetch_add(r->order, 1);
	trcu_qsbr_quiescent_state();
	trcu_qsbr_unregister_thread();
	return NULL;
}

/* The counter wraps (in 2^32 grace periods on a 32-bit target); it must never read as offline. */
Test(qsbr, the_counter_wraps_without_looking_offline, .timeout = 20)
{
	atomic_int order = 0;
	struct reader r;
	struct writer w = { .order = &order, .qsbr = true };
	struct flagged_writer f = { .w = w };
	pthread_t rt, wt;

	reader_init(&r, &order, true);
	trcu_qsbr_set_counter(ULONG_MAX);
	cr_assert_eq(pthread_create(&rt, NULL, online_after_a_grace_period, &r), 0);
	sem_wait(&r.entered);
	trcu_qsbr_synchronize();	/* the counter wraps */
	sem_post(&r.leave);
	sem_wait(&r.entered);		/* online, with the counter after the wrap */
	cr_assert_eq(pthread_create(&wt, NULL, flagged_writer_thread, &f), 0);
	while (!trcu_qsbr_writer_sleeps() && !atomic_load(&f.returned))
		sched_yield();
	sem_post(&r.leave);
	cr_assert_eq(pthread_join(wt, NULL), 0);
	cr_assert_eq(pthread_join(rt, NULL), 0);
	cr_assert_lt(r.left_at, f.w.returned_at, "synchronize returned before the quiescent state "
		     "of a reader online since the counter wrapped");
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

static void nest_past_the_limit(void *arg)
{
	(void)arg;
	trcu_register_thread();
	for (unsigned long i = 0; i < 65535; i++)
		trcu_read_lock();
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

static void barrier_from_the_callback(struct trcu_head *head)
{
	(void)head;
	trcu_barrier();
}

/* The callback's trcu_barrier aborts the process; the barrier here waits for that callback. */
static void barrier_from_a_callback(void *arg)
{
	static struct trcu_head head;

	(void)arg;
	trcu_call(&head, barrier_from_the_callback);
	trcu_barrier();
}

static void qsbr_set_even_counter(void *arg)
{
	(void)arg;
	trcu_qsbr_set_counter(2);
}

#define ASSERT_MISUSE(fn, message) \
	do { \
		char err_[512]; \
		cr_assert(misuse_aborts_with(fn, NULL, "rcu: misuse: " message, err_, \
					     sizeof(err_)), \
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

Test(misuse, nesting_past_the_limit)
{
	ASSERT_MISUSE(nest_past_the_limit, "trcu_read_lock nested more than 65535 deep");
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

/* Without the check, the callback waits for itself: the timeout is a hang guard. */
Test(misuse, barrier_from_a_callback_is_a_self_deadlock, .timeout = 20)
{
	ASSERT_MISUSE(barrier_from_a_callback, "trcu_barrier from a trcu_call callback (it would "
		      "wait for itself forever)");
}

Test(misuse, qsbr_set_counter_even)
{
	ASSERT_MISUSE(qsbr_set_even_counter, "trcu_qsbr_set_counter(2): the counter must be odd");
}
