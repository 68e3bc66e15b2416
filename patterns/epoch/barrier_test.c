/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tepoch_barrier destroys an object only after the reader that holds it has left; in every
 * build, TSan's included (Criterion cannot start under TSan, so this test is plain C). The
 * reader is let go only once the barrier is seen asleep, not returned; it then reads the object
 * and marks it as it leaves, and the destructor checks the mark. A barrier that did not wait
 * frees the object under the reader: ASan and TSan report that use, and the checks report it
 * in the plain build. The reader's exit is all that orders its use before the destructor: TSan
 * also reports a relaxed exit. Flags and counts, no clock. Exits 1 on failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/epoch/tepoch.h"

struct held {
	struct tepoch_entry entry;
	long value;
	bool reader_left;	/* plain: the barrier's wait orders it before the destructor */
};

static struct tepoch domain;
static struct held *_Atomic slot;
static sem_t reader_inside, reader_may_leave, reader_may_unregister;
static atomic_bool barrier_returned;
static atomic_int destroyed, destroyed_early;
static long seen;

static void held_destroy(struct tepoch_entry *entry)
{
	struct held *h = teardown_container_of(entry, struct held, entry);

	if (!h->reader_left)
		atomic_fetch_add(&destroyed_early, 1);
	atomic_fetch_add(&destroyed, 1);
	free(h);
}

static void *reader(void *unused)
{
	struct tepoch_record rec = { 0 };
	struct held *h;

	(void)unused;
	tepoch_register(&domain, &rec);
	tepoch_enter(&rec);
	h = atomic_load_explicit(&slot, memory_order_acquire);
	sem_post(&reader_inside);
	sem_wait(&reader_may_leave);
	seen = h->value;
	h->reader_left = true;
	tepoch_exit(&rec);
	/* Not before the barrier returned: its lock would order us before the destructor too. */
	sem_wait(&reader_may_unregister);
	tepoch_unregister(&rec);
	return NULL;
}

static void *barrier_caller(void *unused)
{
	struct tepoch_record rec = { 0 };
	struct held *h = atomic_exchange(&slot, NULL);	/* unpublish */

	(void)unused;
	tepoch_register(&domain, &rec);
	tepoch_call(&rec, &h->entry, held_destroy);
	tepoch_barrier(&rec);
	atomic_store(&barrier_returned, true);
	tepoch_unregister(&rec);
	return NULL;
}

static int check(bool ok, const char *what)
{
	if (!ok)
		fprintf(stderr, "barrier_test: FAILED: %s\n", what);
	return ok ? 0 : 1;
}

int main(void)
{
	struct held *h = teardown_calloc("epoch", 1, sizeof(*h));
	pthread_t rt, bt;
	int failed = 0, err;

	h->value = 42;
	atomic_init(&slot, h);
	tepoch_init(&domain);
	if (sem_init(&reader_inside, 0, 0) || sem_init(&reader_may_leave, 0, 0) ||
	    sem_init(&reader_may_unregister, 0, 0))
		teardown_die("epoch", errno, "sem_init");
	err = pthread_create(&rt, NULL, reader, NULL);
	if (err)
		teardown_die("epoch", err, "pthread_create (the reader)");
	sem_wait(&reader_inside);
	err = pthread_create(&bt, NULL, barrier_caller, NULL);
	if (err)
		teardown_die("epoch", err, "pthread_create (the barrier caller)");
	/* Asleep waiting for the reader, or (if it did not wait) already returned. */
	while (!atomic_load(&domain.writer_waiting) && !atomic_load(&barrier_returned))
		sched_yield();
	failed |= check(!atomic_load(&barrier_returned), "tepoch_barrier returned with the "
			"reader inside");
	sem_post(&reader_may_leave);
	err = pthread_join(bt, NULL);
	if (err)
		teardown_die("epoch", err, "pthread_join (the barrier caller)");
	sem_post(&reader_may_unregister);
	err = pthread_join(rt, NULL);
	if (err)
		teardown_die("epoch", err, "pthread_join (the reader)");
	failed |= check(seen == 42, "the reader saw its object");
	failed |= check(atomic_load(&destroyed) == 1, "the barrier ran the destructor");
	failed |= check(atomic_load(&destroyed_early) == 0, "the destructor ran before the reader "
			"left");
	tepoch_destroy(&domain);
	printf("%s\n", failed ? "FAILED" : "ok: tepoch_barrier destroyed the object after its "
	       "reader left");
	return failed;
}
