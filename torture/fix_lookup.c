/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The look-up idiom (patterns/lookup): the published object holds one reference. Readers
 * register with trcu; each looks the object up and takes a reference with get_unless_zero inside
 * a read-side section, leaves the section, uses the object and puts. The writer publishes a new
 * object, then drops the old one's published reference; the last put, on whichever thread,
 * hands the object to trcu_call, whose callback retires it after a grace period (trcu_barrier
 * when too many are queued, and when the writer stops).
 */
#include "patterns/lookup/lookup.h"
#include "torture/torture.h"

#define LOOKUP_MAX_QUEUED 1024

static _Atomic(struct torture_obj *) lookup_current;
static _Atomic unsigned lookup_queued;	/* handed to trcu_call, not yet retired */

static void lookup_retire(struct trcu_head *head)
{
	torture_obj_retire(teardown_container_of(head, struct torture_obj, u.lookup.head), false);
	atomic_fetch_sub_explicit(&lookup_queued, 1, memory_order_relaxed);
}

static void lookup_release(struct rundown_kref *k)
{
	struct torture_obj *o = teardown_container_of(k, struct torture_obj, u.lookup.kref);

	torture_count_teardown();
	atomic_fetch_add_explicit(&lookup_queued, 1, memory_order_relaxed);
	trcu_call(&o->u.lookup.head, lookup_retire);
}

static void lookup_publish(void)
{
	struct torture_obj *o = torture_obj_new(), *old;

	rundown_kref_init(&o->u.lookup.kref);	/* the published reference */
	/* Release: the count and the object, then the pointer (rcu_assign_pointer). */
	old = atomic_exchange_explicit(&lookup_current, o, memory_order_release);
	if (old)	/* after the unpublish, as lookup_remove does */
		rundown_kref_put(&old->u.lookup.kref, lookup_release);
}

static void lookup_setup(void)
{
	atomic_store(&lookup_current, NULL);
	lookup_publish();
}

static void lookup_update(void)
{
	lookup_publish();
	if (atomic_load_explicit(&lookup_queued, memory_order_relaxed) > LOOKUP_MAX_QUEUED)
		trcu_barrier();
}

static void lookup_reader_start(struct torture_reader *t)
{
	(void)t;
	trcu_register_thread();
}

static void lookup_reader_stop(struct torture_reader *t)
{
	(void)t;
	trcu_unregister_thread();
}

static void lookup_read(struct torture_reader *t)
{
	struct torture_obj *o;

	torture_scribble(t);
	trcu_read_lock();
	o = trcu_dereference(lookup_current);
	if (!rundown_kref_get_unless_zero(&o->u.lookup.kref))
		o = NULL;
	trcu_read_unlock();
	if (!o) {
		atomic_fetch_add_explicit(&t->declined, 1, memory_order_relaxed);
		return;
	}
	torture_use(t, o);
	rundown_kref_put(&o->u.lookup.kref, lookup_release);
}

static void lookup_writer_stop(void)
{
	trcu_barrier();
}

static void lookup_cleanup(void)
{
	struct torture_obj *o = atomic_exchange(&lookup_current, NULL);

	rundown_kref_put(&o->u.lookup.kref, lookup_release);
	trcu_barrier();
}

const struct torture_fix torture_lookup = {
	.name = "lookup",
	.lab = "lookup",
	.unit = "teardowns",
	.no_membarrier_env = "TRCU_NO_MEMBARRIER",
	.uses_membarrier = trcu_uses_membarrier,
	.registers = true,
	.setup = lookup_setup,
	.reader_start = lookup_reader_start,
	.reader_stop = lookup_reader_stop,
	.read = lookup_read,
	.update = lookup_update,
	.writer_stop = lookup_writer_stop,
	.cleanup = lookup_cleanup,
};
