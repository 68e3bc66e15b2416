/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The remove lock's double acquire, through the lab's device stack (device_stack.h). The
 * requester looks the stack up (devstack_io) and sends an IRP through the upper filter's double
 * acquire. The lower driver's start_io completes the IRP at once (the completion routine
 * releases the IRP's acquisition) and then keeps using its extension, the object: only the
 * second acquisition, held across the call, still protects it. The writer's remove handler
 * acquires once more, releases and waits, deletes the device, and retires the extension.
 */
#include "patterns/remove_lock/device_stack.h"
#include "patterns/remove_lock/remove_lock.h"
#include "torture/torture.h"

#define REMOVE_SLOTS 64

static struct remove_slot {
	struct devstack stack;
	struct torture_obj *obj;
} remove_slots[REMOVE_SLOTS];

static struct devstack_io remove_io;
static unsigned remove_next;

/* The lower driver's start_io: complete the IRP, then use the extension, still in dispatch. */
static void remove_start_io(void *context, struct devstack_irp *irp)
{
	struct remove_slot *s = context;

	devstack_complete_request(irp, DEVSTACK_STATUS_SUCCESS);
	torture_use(torture_self(), s->obj);
}

static void remove_publish(void)
{
	struct remove_slot *s = &remove_slots[remove_next++ % REMOVE_SLOTS];

	s->obj = torture_obj_new();
	devstack_init(&s->stack, &s->obj->dev);
	s->stack.lower.start_io = remove_start_io;
	s->stack.lower.start_io_context = s;
	/* seq_cst: pairs with devstack_io_lookup()'s load; the stack is set up first. */
	atomic_store_explicit(&remove_io.stack, &s->stack, memory_order_seq_cst);
}

static void remove_setup(void)
{
	atomic_init(&remove_io.stack, NULL);
	atomic_init(&remove_io.lookups, 0);
	remove_next = 0;
	remove_publish();
}

static void remove_read(struct torture_reader *t)
{
	struct devstack_upper *upper = devstack_io_lookup(&remove_io);

	if (!upper || devstack_request_double_looked_up(upper, &remove_io.lookups) ==
		      SCENARIO_DECLINED)
		atomic_fetch_add_explicit(&t->declined, 1, memory_order_relaxed);
}

/* IRP_MN_REMOVE_DEVICE as the upper filter handles it, then IoDeleteDevice. */
static void remove_teardown(void)
{
	struct devstack *stack = atomic_load_explicit(&remove_io.stack, memory_order_relaxed);
	struct remove_slot *s = teardown_container_of(stack, struct remove_slot, stack);
	int32_t got = remove_lock_acquire(&stack->upper.remove_lock, &remove_io);

	if (got != REMOVE_LOCK_SUCCESS)
		teardown_die("torture", 0, "remove_lock: the remove handler's acquire failed");
	remove_lock_release_and_wait(&stack->upper.remove_lock, &remove_io);
	devstack_io_delete(&remove_io);
	torture_obj_retire(s->obj, true);
}

/* Requesters need a moment to reach a new stack: without it most find none, or a removed one. */
#define REMOVE_PACING 256

static void remove_update(void)
{
	for (unsigned i = 0; i < REMOVE_PACING; i++)
		teardown_cpu_relax();
	remove_teardown();
	remove_publish();
}

const struct torture_fix torture_remove_lock = {
	.name = "remove_lock",
	.lab = "remove_lock",
	.unit = "teardowns",
	.setup = remove_setup,
	.read = remove_read,
	.update = remove_update,
	.cleanup = remove_teardown,
};
