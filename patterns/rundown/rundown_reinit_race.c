/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rundown_reinit hands a run-down ref to a new object while other threads keep acquiring.
 *
 * The owner publishes each new object with plain stores, as the contract allows: while the ref is
 * run down nobody may read it. The only thing that orders those stores before a holder's reads is
 * rundown_reinit's release store read by rundown_acquire's acquire compare-exchange. Built with
 * ThreadSanitizer, this program exits 66 with a data race report if either side of that pair is
 * weakened; under AddressSanitizer it checks only that every holder sees a live, complete object.
 * A plain C program, not Criterion: Criterion cannot start under ThreadSanitizer. Built twice:
 * for the one-word rundown, and with REINIT_CACHE_AWARE for the cache-aware one, whose acquire
 * pairs its load of `state` with rundown_ca_reinit()'s release in the same way.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "patterns/common/die.h"

#ifdef REINIT_CACHE_AWARE
#include "patterns/rundown/rundown_ca.h"

#define FLAVOUR "cache-aware rundown"
static struct rundown_ca *ref;
#define REF_SETUP() (ref = rundown_ca_new())
#define REF_FREE() rundown_ca_free(ref)
#define READER_START() rundown_ca_register_thread()
#define READER_STOP() rundown_ca_unregister_thread()
#define ACQUIRE() rundown_ca_acquire(ref)
#define RELEASE() rundown_ca_release(ref)
#define WAIT() rundown_ca_wait_for_release(ref)
#define REINIT() rundown_ca_reinit(ref)
#else
#include "patterns/rundown/rundown.h"

#define FLAVOUR "one-word rundown"
static struct rundown_ref ref = RUNDOWN_REF_INIT;
#define REF_SETUP() ((void)0)
#define REF_FREE() ((void)0)
#define READER_START() ((void)0)
#define READER_STOP() ((void)0)
#define ACQUIRE() rundown_acquire(&ref)
#define RELEASE() rundown_release(&ref)
#define WAIT() rundown_wait_for_release(&ref)
#define REINIT() rundown_reinit(&ref)
#endif

#define READERS 2
#define ROUNDS 200

/* What the ref protects: replaced by the owner after each rundown. */
struct owned {
	unsigned round;
	unsigned check;	/* round * 7 + 1: a holder that sees a half-built object notices */
};

static struct owned *current;		/* plain: the rundown is its only guard */
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

static void *reader(void *arg)
{
	(void)arg;
	READER_START();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct owned *o;

		if (!ACQUIRE()) {
			sched_yield();	/* run down: wait for the next reinit */
			continue;
		}
		o = current;
		if (o->check != o->round * 7 + 1) {
			fprintf(stderr, "holder saw round %u with check %u\n", o->round, o->check);
			abort();
		}
		atomic_fetch_add_explicit(&served, 1, memory_order_relaxed);
		RELEASE();
	}
	READER_STOP();
	return NULL;
}

int main(void)
{
	pthread_t t[READERS];
	int err;

	REF_SETUP();
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
		WAIT();
		free(current);
		/* Published before the reinit, as the contract says. */
		current = owned_new(round);
		REINIT();
	}
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	for (int i = 0; i < READERS; i++) {
		err = pthread_join(t[i], NULL);
		if (err)
			teardown_die("rundown", err, "pthread_join");
	}
	free(current);
	REF_FREE();
	printf("%s: %u reinits under %d acquiring threads, %lu protections granted\n", FLAVOUR,
	       ROUNDS, READERS, atomic_load(&served));
	return 0;
}
