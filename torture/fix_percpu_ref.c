/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu_ref (the rundown lab's fourth fix).
 *
 * A ring of refs that is never freed, since a ref must outlive every tryget attempt. The writer
 * takes the next slot once its last life was released, gives it a new object, reinits its ref
 * (or inits it, the first time), publishes it, and kills the old slot's ref. Release, on
 * whichever thread puts last (the writer's kill included), retires the object. A reader that
 * still finds an old slot is turned away, or, a lap later, counted into its new life.
 */
#include <sched.h>

#include "patterns/rundown/percpu_ref.h"
#include "torture/torture.h"

#define PCPU_SLOTS 64

static struct pcpu_slot {
	struct percpu_ref ref;
	_Atomic(struct torture_obj *) obj;
	atomic_bool released;	/* release has retired the object: the slot may be reused */
	bool used;
} pcpu_slots[PCPU_SLOTS];

static _Atomic(struct pcpu_slot *) pcpu_current;
static unsigned pcpu_next;

static void pcpu_release(struct percpu_ref *ref)
{
	struct pcpu_slot *s = teardown_container_of(ref, struct pcpu_slot, ref);

	torture_obj_retire(atomic_load_explicit(&s->obj, memory_order_relaxed), false);
	/* release: pairs with the writer's acquire before it reuses the slot. */
	atomic_store_explicit(&s->released, true, memory_order_release);
}

/* A slot whose last life has not been released yet: a reader still holds its object. */
static void pcpu_wait_released(struct pcpu_slot *s)
{
	while (!atomic_load_explicit(&s->released, memory_order_acquire))
		sched_yield();
}

static void pcpu_publish(void)
{
	struct pcpu_slot *s = &pcpu_slots[pcpu_next++ % PCPU_SLOTS];

	if (s->used)
		pcpu_wait_released(s);
	atomic_store_explicit(&s->released, false, memory_order_relaxed);
	atomic_store_explicit(&s->obj, torture_obj_new(), memory_order_relaxed);
	/* reinit's release pairs with the get's acquire load of mode: a late get sees the object. */
	if (s->used)
		percpu_ref_reinit(&s->ref);
	else
		percpu_ref_init(&s->ref, pcpu_release);
	s->used = true;
	/* Release: pairs with the reader's acquire load of the slot. */
	atomic_store_explicit(&pcpu_current, s, memory_order_release);
}

static void pcpu_setup(void)
{
	for (unsigned i = 0; i < PCPU_SLOTS; i++)
		pcpu_slots[i].used = false;
	pcpu_next = 0;
	pcpu_publish();
}

static void pcpu_read(struct torture_reader *t)
{
	struct pcpu_slot *s = atomic_load_explicit(&pcpu_current, memory_order_acquire);

	torture_scribble(t);
	if (!percpu_ref_tryget_live(&s->ref)) {
		atomic_fetch_add_explicit(&t->declined, 1, memory_order_relaxed);
		return;
	}
	torture_use(t, atomic_load_explicit(&s->obj, memory_order_relaxed));
	percpu_ref_put(&s->ref);
}

static void pcpu_update(void)
{
	struct pcpu_slot *old = atomic_load_explicit(&pcpu_current, memory_order_relaxed);

	pcpu_publish();
	percpu_ref_kill(&old->ref);
}

static void pcpu_cleanup(void)
{
	percpu_ref_kill(&atomic_load_explicit(&pcpu_current, memory_order_relaxed)->ref);
	for (unsigned i = 0; i < PCPU_SLOTS; i++) {
		if (!pcpu_slots[i].used)
			continue;
		pcpu_wait_released(&pcpu_slots[i]);
		percpu_ref_exit(&pcpu_slots[i].ref);
	}
}

static void pcpu_reader_start(struct torture_reader *t)
{
	(void)t;
	percpu_ref_register_thread();
}

static void pcpu_reader_stop(struct torture_reader *t)
{
	(void)t;
	percpu_ref_unregister_thread();
}

const struct torture_fix torture_percpu_ref = {
	.name = "percpu_ref",
	.lab = "rundown",
	.unit = "kills",
	.no_membarrier_env = "RUNDOWN_CA_NO_MEMBARRIER",
	.uses_membarrier = percpu_ref_uses_membarrier,
	.registers = true,
	.setup = pcpu_setup,
	.reader_start = pcpu_reader_start,
	.reader_stop = pcpu_reader_stop,
	.read = pcpu_read,
	.update = pcpu_update,
	.cleanup = pcpu_cleanup,
};
