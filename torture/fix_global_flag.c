/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The global flag with its activation count. The flag and the count must outlive the object
 * (they live beside the code), so each object is published with a gate from a ring that is
 * never freed: the writer publishes the next slot, shuts the old slot's gate (which waits for
 * the callbacks in flight), then retires its object. A slot is armed again only a whole lap
 * later; a callback that still finds it then is admitted to the slot's new object, or turned
 * away before. Re-arming stores the flag alone: the count is balanced by every enter and exit,
 * including those of late callbacks that are turned away.
 */
#include "patterns/global_flag/global_flag.h"
#include "torture/torture.h"

#define FLAG_SLOTS 64

static struct flag_slot {
	struct global_flag gate;
	_Atomic(struct torture_obj *) obj;
	bool used;
} flag_slots[FLAG_SLOTS];

static _Atomic(struct flag_slot *) flag_current;
static unsigned flag_next;

static void flag_publish(void)
{
	struct flag_slot *s = &flag_slots[flag_next++ % FLAG_SLOTS];

	atomic_store_explicit(&s->obj, torture_obj_new(), memory_order_relaxed);
	/* The gate was shut down a lap ago; the object is stamped before it admits again. */
	if (s->used)
		global_flag_reinit(&s->gate);
	s->used = true;
	/* Release: pairs with the reader's acquire load of the slot. */
	atomic_store_explicit(&flag_current, s, memory_order_release);
}

static void flag_setup(void)
{
	for (unsigned i = 0; i < FLAG_SLOTS; i++)
		flag_slots[i] = (struct flag_slot){ .gate = GLOBAL_FLAG_INIT };
	flag_next = 0;
	flag_publish();
}

static void flag_read(struct torture_reader *t)
{
	struct flag_slot *s = atomic_load_explicit(&flag_current, memory_order_acquire);

	if (!global_flag_enter(&s->gate)) {
		atomic_fetch_add_explicit(&t->declined, 1, memory_order_relaxed);
		return;
	}
	torture_use(t, atomic_load_explicit(&s->obj, memory_order_relaxed));
	global_flag_exit(&s->gate);
}

static void flag_update(void)
{
	struct flag_slot *old = atomic_load_explicit(&flag_current, memory_order_relaxed);

	flag_publish();
	global_flag_shutdown(&old->gate);
	torture_obj_retire(atomic_load_explicit(&old->obj, memory_order_relaxed), true);
}

static void flag_cleanup(void)
{
	struct flag_slot *s = atomic_load_explicit(&flag_current, memory_order_relaxed);

	global_flag_shutdown(&s->gate);
	torture_obj_retire(atomic_load_explicit(&s->obj, memory_order_relaxed), true);
}

const struct torture_fix torture_flag = {
	.name = "flag",
	.lab = "global_flag",
	.unit = "teardowns",
	.setup = flag_setup,
	.read = flag_read,
	.update = flag_update,
	.cleanup = flag_cleanup,
};
