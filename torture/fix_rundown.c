/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rundown lab's three fixes.
 *
 * The one-word and the cache-aware rundown: a ring of refs that is never freed, since a ref
 * must outlive every acquire attempt. The writer arms the next slot (its object, then
 * rundown_reinit), publishes it, waits for the old slot's holders and retires its object. A
 * reader that still finds an old slot is turned away, or, a lap later, admitted to its new
 * object, which reinit published.
 *
 * Last reference frees: the current object holds one reference; readers take theirs under the
 * look-up lock (as kref requires) and the last put, on whichever thread, retires the object.
 */
#include <pthread.h>

#include "patterns/rundown/rundown.h"
#include "patterns/rundown/rundown_ca.h"
#include "patterns/rundown/rundown_kref.h"
#include "torture/torture.h"

#define RUNDOWN_SLOTS 64

static struct rundown_slot {
	struct rundown_ref ref;
	struct rundown_ca *ca;
	_Atomic(struct torture_obj *) obj;
	bool used;
} rundown_slots[RUNDOWN_SLOTS];

static _Atomic(struct rundown_slot *) rundown_current;
static unsigned rundown_next;
static bool rundown_cache_aware;

static void rundown_publish(void)
{
	struct rundown_slot *s = &rundown_slots[rundown_next++ % RUNDOWN_SLOTS];

	atomic_store_explicit(&s->obj, torture_obj_new(), memory_order_relaxed);
	/* reinit's release pairs with acquire's acquire: the new object is seen by its holders. */
	if (s->used && rundown_cache_aware)
		rundown_ca_reinit(s->ca);
	else if (s->used)
		rundown_reinit(&s->ref);
	s->used = true;
	/* Release: pairs with the reader's acquire load of the slot. */
	atomic_store_explicit(&rundown_current, s, memory_order_release);
}

static void rundown_setup_common(bool cache_aware)
{
	rundown_cache_aware = cache_aware;
	for (unsigned i = 0; i < RUNDOWN_SLOTS; i++) {
		struct rundown_slot *s = &rundown_slots[i];

		rundown_init(&s->ref);
		s->ca = cache_aware ? rundown_ca_new() : NULL;
		s->used = false;
	}
	rundown_next = 0;
	rundown_publish();
}

static void rundown_setup(void)
{
	rundown_setup_common(false);
}

static void rundown_ca_setup(void)
{
	rundown_setup_common(true);
}

static void rundown_read(struct torture_reader *t)
{
	struct rundown_slot *s = atomic_load_explicit(&rundown_current, memory_order_acquire);

	if (!rundown_acquire(&s->ref)) {
		atomic_fetch_add_explicit(&t->declined, 1, memory_order_relaxed);
		return;
	}
	torture_use(t, atomic_load_explicit(&s->obj, memory_order_relaxed));
	rundown_release(&s->ref);
}

static void rundown_ca_read(struct torture_reader *t)
{
	struct rundown_slot *s = atomic_load_explicit(&rundown_current, memory_order_acquire);

	torture_scribble(t);
	if (!rundown_ca_acquire(s->ca)) {
		atomic_fetch_add_explicit(&t->declined, 1, memory_order_relaxed);
		return;
	}
	torture_use(t, atomic_load_explicit(&s->obj, memory_order_relaxed));
	rundown_ca_release(s->ca);
}

static void rundown_teardown(struct rundown_slot *s)
{
	if (rundown_cache_aware) {
		rundown_ca_wait_for_release(s->ca);
		rundown_ca_completed(s->ca);
	} else {
		rundown_wait_for_release(&s->ref);
		rundown_completed(&s->ref);
	}
	torture_obj_retire(atomic_load_explicit(&s->obj, memory_order_relaxed), true);
}

static void rundown_update(void)
{
	struct rundown_slot *old = atomic_load_explicit(&rundown_current, memory_order_relaxed);

	rundown_publish();
	rundown_teardown(old);
}

static void rundown_cleanup(void)
{
	rundown_teardown(atomic_load_explicit(&rundown_current, memory_order_relaxed));
	for (unsigned i = 0; i < RUNDOWN_SLOTS; i++)
		if (rundown_slots[i].ca)
			rundown_ca_free(rundown_slots[i].ca);
}

static void rundown_ca_reader_start(struct torture_reader *t)
{
	(void)t;
	rundown_ca_register_thread();
}

static void rundown_ca_reader_stop(struct torture_reader *t)
{
	(void)t;
	rundown_ca_unregister_thread();
}

const struct torture_fix torture_rundown = {
	.name = "rundown",
	.lab = "rundown",
	.unit = "teardowns",
	.setup = rundown_setup,
	.read = rundown_read,
	.update = rundown_update,
	.cleanup = rundown_cleanup,
};

const struct torture_fix torture_rundown_ca = {
	.name = "rundown_ca",
	.lab = "rundown",
	.unit = "teardowns",
	.no_membarrier_env = "RUNDOWN_CA_NO_MEMBARRIER",
	.uses_membarrier = rundown_ca_uses_membarrier,
	.registers = true,
	.setup = rundown_ca_setup,
	.reader_start = rundown_ca_reader_start,
	.reader_stop = rundown_ca_reader_stop,
	.read = rundown_ca_read,
	.update = rundown_update,
	.cleanup = rundown_cleanup,
};

/* Last reference frees. */
static pthread_mutex_t kref_lookup = PTHREAD_MUTEX_INITIALIZER;
static struct torture_obj *kref_current;	/* under kref_lookup; holds one reference */

static void kref_release(struct rundown_kref *k)
{
	torture_obj_retire(teardown_container_of(k, struct torture_obj, u.kref), false);
	torture_count_teardown();
}

static void kref_publish(void)
{
	struct torture_obj *o = torture_obj_new(), *old;

	rundown_kref_init(&o->u.kref);
	pthread_mutex_lock(&kref_lookup);
	old = kref_current;
	kref_current = o;
	pthread_mutex_unlock(&kref_lookup);
	if (old)
		rundown_kref_put(&old->u.kref, kref_release);
}

static void kref_setup(void)
{
	kref_current = NULL;
	kref_publish();
}

static void kref_read(struct torture_reader *t)
{
	struct torture_obj *o;

	pthread_mutex_lock(&kref_lookup);
	o = kref_current;
	if (!rundown_kref_get_unless_zero(&o->u.kref))
		teardown_die("torture", 0, "kref: the published object has a zero count");
	pthread_mutex_unlock(&kref_lookup);
	torture_use(t, o);
	rundown_kref_put(&o->u.kref, kref_release);
}

static void kref_cleanup(void)
{
	rundown_kref_put(&kref_current->u.kref, kref_release);
	kref_current = NULL;
}

const struct torture_fix torture_kref = {
	.name = "kref",
	.lab = "rundown",
	.unit = "teardowns",
	.setup = kref_setup,
	.read = kref_read,
	.update = kref_publish,
	.cleanup = kref_cleanup,
};
