/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu_ref_reinit hands a released ref to a new object while other threads keep trying gets.
 *
 * The owner kills the ref, waits for release, frees the object and publishes the next one with
 * plain stores, then reinits: while the ref is dead nobody may read the object. The only thing
 * that orders those stores before a new holder's reads is percpu_ref_reinit's release store of
 * the mode, read by the get's acquire load. Built with ThreadSanitizer, this program exits 66
 * with a data race report if either side of that pair is weakened; under AddressSanitizer it
 * checks only that every holder sees a live, complete object. A plain C program, not Criterion:
 * Criterion cannot start under ThreadSanitizer.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "patterns/common/die.h"
#include "patterns/rundown/percpu_ref.h"

#define READERS 2
#define ROUNDS 200

/* What the ref protects: replaced by the owner after each release. */
struct owned {
	unsigned round;
	unsigned check;	/* round * 7 + 1: a holder that sees a half-built object notices */
};

static struct percpu_ref ref;
static struct owned *current;		/* plain: the ref is its only guard */
static atomic_bool released;		/* release has run */
static atomic_ulong served;		/* relaxed: a count, never an ordering edge */
static atomic_bool stop;

/* Halt at the first report, so that a weakened ordering fails the test with exit code 66. */
const char *__tsan_default_options(void)
{
	return "halt_on_error=1:exitcode=66";
}

static struct owned *owned_new(unsigned round)
{
	struct owned *o = teardown_malloc("rundown", sizeof(*o));

	o->round = round;
	o->check = round * 7 + 1;
	return o;
}

static void owned_release(struct percpu_ref *r)
{
	(void)r;
	atomic_store_explicit(&released, true, memory_order_release);	/* the owner's acquire */
}

static void *reader(void *arg)
{
	(void)arg;
	percpu_ref_register_thread();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct owned *o;

		if (!percpu_ref_tryget_live(&ref)) {
			sched_yield();	/* dead: wait for the next reinit */
			continue;
		}
		o = current;
		if (o->check != o->round * 7 + 1) {
			fprintf(stderr, "holder saw round %u with check %u\n", o->round, o->check);
			abort();
		}
		atomic_fetch_add_explicit(&served, 1, memory_order_relaxed);
		percpu_ref_put(&ref);
	}
	percpu_ref_unregister_thread();
	return NULL;
}

int main(void)
{
	pthread_t t[READERS];
	int err;

	percpu_ref_init(&ref, owned_release);
	current = owned_new(0);
	for (int i = 0; i < READERS; i++) {
		err = pthread_create(&t[i], NULL, reader, NULL);
		if (err)
			teardown_die("rundown", err, "pthread_create");
	}
	for (unsigned round = 1; round <= ROUNDS; round++) {
		unsigned long before = atomic_load_explicit(&served, memory_order_relaxed);

		/* Let a holder in under the current object; relaxed: no edge the test relies on. */
		while (atomic_load_explicit(&served, memory_order_relaxed) == before)
			sched_yield();
		percpu_ref_kill(&ref);
		while (!atomic_load_explicit(&released, memory_order_acquire))
			sched_yield();
		atomic_store_explicit(&released, false, memory_order_relaxed);
		free(current);
		/* Published before the reinit, as the contract says. */
		current = owned_new(round);
		percpu_ref_reinit(&ref);
	}
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	for (int i = 0; i < READERS; i++) {
		err = pthread_join(t[i], NULL);
		if (err)
			teardown_die("rundown", err, "pthread_join");
	}
	percpu_ref_kill(&ref);
	percpu_ref_exit(&ref);
	free(current);
	printf("percpu_ref: %u reinits under %d threads trying gets, %lu references granted\n",
	       ROUNDS, READERS, atomic_load(&served));
	return 0;
}
