/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The known weakness of epochs, measured: one reader parked inside a section (on a semaphore,
 * as a thread blocked on I/O or preempted for good would be) holds back the reclamation of
 * everything that every thread retires, however unrelated. Retires softc-sized objects while
 * the reader stalls and reports what is held; then lets the reader go and polls once.
 * Exits 1 if memory held does not grow while stalled, or is not all reclaimed afterwards.
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

#define OBJECT_SIZE 4096	/* about a softc */

struct object {
	struct tepoch_entry entry;
	char payload[OBJECT_SIZE - sizeof(struct tepoch_entry)];
};

static struct tepoch domain;
static sem_t reader_inside, reader_may_leave;

static void object_destroy(struct tepoch_entry *entry)
{
	free(teardown_container_of(entry, struct object, entry));
}

/* quote: stalled_reader */
static void *stalled_reader(void *unused)
{
	struct tepoch_record rec = { 0 };

	(void)unused;
	tepoch_register(&domain, &rec);
	tepoch_enter(&rec);
	sem_post(&reader_inside);
	/* Parked inside the section: sleeping there is what epoch(9) forbids. */
	sem_wait(&reader_may_leave);
	tepoch_exit(&rec);
	tepoch_unregister(&rec);
	return NULL;
}
/* end quote: stalled_reader */

static void report(const char *phase, struct tepoch_record *w)
{
	printf("%-34s %9llu %9llu %9zu %10.1f %6lu\n", phase, (unsigned long long)w->n_retired,
	       (unsigned long long)w->n_destroyed, w->n_pending,
	       w->n_pending * (double)OBJECT_SIZE / 1024.0, tepoch_epoch(&domain));
}

/* Retires n objects, polling after each, as a writer that never blocks would. */
static void retire_and_poll(struct tepoch_record *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct object *obj = teardown_malloc("epoch", sizeof(*obj));

		tepoch_call(w, &obj->entry, object_destroy);
		tepoch_poll(w);
	}
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
	struct tepoch_record w = { 0 };
	pthread_t reader;
	int failed = 0, err;
	size_t held_before;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (total < 4)
		total = 4;
	tepoch_init(&domain);
	if (sem_init(&reader_inside, 0, 0) || sem_init(&reader_may_leave, 0, 0))
		teardown_die("epoch", errno, "sem_init");
	tepoch_register(&domain, &w);
	printf("%-34s %9s %9s %9s %10s %6s\n", "phase", "retired", "destroyed", "pending",
	       "KiB held", "epoch");

	retire_and_poll(&w, total / 4);
	report("no reader in a section", &w);
	failed |= check(w.n_pending <= 1, "without a stalled reader, poll keeps up");

	err = pthread_create(&reader, NULL, stalled_reader, NULL);
	if (err)
		teardown_die("epoch", err, "pthread_create (the stalled reader)");
	sem_wait(&reader_inside);
	held_before = w.n_pending;
	for (unsigned q = 1; q <= 4; q++) {
		char phase[64];

		retire_and_poll(&w, total / 4);
		snprintf(phase, sizeof(phase), "reader stalled, %u%% retired", q * 25);
		report(phase, &w);
	}
	failed |= check(w.n_pending == held_before + 4 * (total / 4),
			"while the reader stalls, nothing retired after it entered is destroyed");

	sem_post(&reader_may_leave);
	err = pthread_join(reader, NULL);
	if (err)
		teardown_die("epoch", err, "pthread_join (the stalled reader)");
	tepoch_poll(&w);
	report("reader left; one tepoch_poll", &w);
	failed |= check(w.n_pending == 0, "once the reader has left, one poll reclaims everything");

	tepoch_unregister(&w);
	tepoch_destroy(&domain);
	printf("%s\n", failed ? "FAILED" : "ok: held memory grew while the reader stalled, "
	       "and was all reclaimed once it left");
	return failed;
}
