/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stalled reader, under an epoch and under hazard pointers, side by side. A reader parks
 * (on a semaphore, as a thread blocked on I/O or preempted for good would) while it holds one
 * object: inside a tepoch section, or with the object in a hazard slot. A writer meanwhile
 * replaces the published object again and again, retiring each old one, and reclaims as it
 * goes (tepoch_poll after each retirement; hazptr_retire scans by itself at its threshold).
 * Printed: objects retired but not yet freed, under each. The epoch holds back everything
 * retired after the reader entered; hazard pointers hold back the one object the slot names.
 * Exits 1 unless tepoch's count grows with the retirements while hazptr's stays at or below
 * its threshold plus one, and both reach zero (hazptr: the protected one alone) once the
 * reader leaves.
 * usage: stall_demo [RETIREMENTS]   (default 4000)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/epoch/tepoch.h"
#include "patterns/hazptr/hazptr.h"

#define OBJECT_SIZE 4096	/* about a softc */

struct object {
	struct tepoch_entry entry;
	struct hazptr_obj hobj;
	char payload[OBJECT_SIZE - sizeof(struct tepoch_entry) - sizeof(struct hazptr_obj)];
};

static struct tepoch epoch_domain;
static struct hazptr_domain hp_domain;
static _Atomic(void *) published;	/* the object readers find */
static sem_t reader_inside, reader_may_leave;
static size_t hp_max_pending;

static void epoch_free(struct tepoch_entry *e)
{
	free(teardown_container_of(e, struct object, entry));
}

static void hp_free(struct hazptr_obj *o)
{
	free(teardown_container_of(o, struct object, hobj));
}

static struct object *object_new(void)
{
	struct object *o = teardown_calloc("hazptr", 1, sizeof(*o));

	return o;
}

/* quote: stalled_readers */
static void *stalled_epoch_reader(void *unused)
{
	struct tepoch_record rec = { 0 };
	struct object *o;

	(void)unused;
	tepoch_register(&epoch_domain, &rec);
	tepoch_enter(&rec);
	o = atomic_load_explicit(&published, memory_order_acquire);
	sem_post(&reader_inside);
	sem_wait(&reader_may_leave);	/* parked, holding o through the section */
	(void)*(volatile char *)&o->payload[0];	/* still there: ASan would say */
	tepoch_exit(&rec);
	tepoch_unregister(&rec);
	return NULL;
}

static void *stalled_hazptr_reader(void *unused)
{
	struct hazptr_rec *rec = hazptr_register(&hp_domain);
	struct object *o;

	(void)unused;
	o = hazptr_protect(rec, 0, &published);
	sem_post(&reader_inside);
	sem_wait(&reader_may_leave);	/* parked, holding o through slot 0 */
	(void)*(volatile char *)&o->payload[0];	/* still there: ASan would say */
	hazptr_clear(rec, 0);
	hazptr_unregister(rec);
	return NULL;
}
/* end quote: stalled_readers */

/* Publishes a new object and retires the old one, n times. */
static void epoch_churn(struct tepoch_record *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct object *old = atomic_exchange_explicit(&published, object_new(),
							      memory_order_acq_rel);

		tepoch_call(w, &old->entry, epoch_free);
		tepoch_poll(w);
	}
}

static void hazptr_churn(struct hazptr_rec *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct object *old = atomic_exchange_explicit(&published, object_new(),
							      memory_order_acq_rel);

		hazptr_retire(w, &old->hobj, old, hp_free);
		if (w->n_retired > hp_max_pending)
			hp_max_pending = w->n_retired;
	}
}

static void start_reader(pthread_t *t, void *(*fn)(void *))
{
	int err = pthread_create(t, NULL, fn, NULL);

	if (err)
		teardown_die("hazptr", err, "pthread_create (the stalled reader)");
	sem_wait(&reader_inside);
}

static void stop_reader(pthread_t t)
{
	int err;

	sem_post(&reader_may_leave);
	err = pthread_join(t, NULL);
	if (err)
		teardown_die("hazptr", err, "pthread_join (the stalled reader)");
}

static int check(bool ok, const char *what)
{
	if (!ok)
		fprintf(stderr, "stall_demo: FAILED: %s\n", what);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	unsigned total = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 4000;
	struct tepoch_record ew = { 0 };
	struct hazptr_rec *hw;
	size_t epoch_pending[4], hp_pending[4], bound;
	pthread_t reader;
	int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (total < 4)
		total = 4;
	if (sem_init(&reader_inside, 0, 0) || sem_init(&reader_may_leave, 0, 0))
		teardown_die("hazptr", errno, "sem_init");

	tepoch_init(&epoch_domain);
	tepoch_register(&epoch_domain, &ew);
	atomic_store(&published, object_new());
	start_reader(&reader, stalled_epoch_reader);
	for (unsigned q = 0; q < 4; q++) {
		epoch_churn(&ew, total / 4);
		epoch_pending[q] = ew.n_pending;
	}
	stop_reader(reader);
	tepoch_poll(&ew);
	failed |= check(epoch_pending[3] == 4 * (total / 4) && ew.n_pending == 0,
			"tepoch: all held while stalled, all freed after");
	printf("%-24s %10s %10s %10s %10s %14s\n", "retired while stalled", "25%", "50%",
	       "75%", "100%", "after it left");
	printf("%-24s %10zu %10zu %10zu %10zu %14zu   (tepoch, objects not yet freed)\n",
	       "epoch (tepoch)", epoch_pending[0], epoch_pending[1], epoch_pending[2],
	       epoch_pending[3], ew.n_pending);
	free(atomic_exchange(&published, NULL));
	tepoch_unregister(&ew);
	tepoch_destroy(&epoch_domain);

	hazptr_domain_init(&hp_domain);
	atomic_store(&published, object_new());
	start_reader(&reader, stalled_hazptr_reader);
	hw = hazptr_register(&hp_domain);
	bound = hazptr_threshold(&hp_domain);
	for (unsigned q = 0; q < 4; q++) {
		hazptr_churn(hw, total / 4);
		hp_pending[q] = hw->n_retired;
	}
	stop_reader(reader);
	hazptr_scan(hw);
	printf("%-24s %10zu %10zu %10zu %10zu %14zu   (hazptr; most ever %zu, threshold %zu)\n",
	       "hazard pointers", hp_pending[0], hp_pending[1], hp_pending[2], hp_pending[3],
	       hw->n_retired, hp_max_pending, bound);
	failed |= check(hp_max_pending <= bound, "hazptr: held at most its threshold");
	failed |= check(hw->n_retired == 0, "hazptr: all freed once the reader left");
	free(atomic_exchange(&published, NULL));
	hazptr_unregister(hw);
	hazptr_domain_destroy(&hp_domain);
	printf("%s\n", failed ? "FAILED" : "ok: the epoch held every retired object while the "
	       "reader stalled; hazard pointers held at most their threshold");
	return failed;
}
