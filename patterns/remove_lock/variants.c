/*
 * The remove-lock lab: an upper filter sends IRPs to a lower driver; IRP_MN_REMOVE_DEVICE
 * arrives meanwhile. Naive: one acquisition, released in the completion routine, which runs
 * inside the lower dispatch routine. Fixed: a second acquisition held across call_driver, with
 * completion inside the lower dispatch routine, or later on the lower driver's DPC thread.
 */
#include <pthread.h>
#include <stdlib.h>

#include "patterns/remove_lock/device_stack.h"
#include "scenario/scenario.h"

/* The stack, plus the lower driver's DPC: a thread that completes the I/O it started. */
struct async_stack {
	struct devstack stack;
	pthread_mutex_t lock;
	pthread_cond_t started;
	struct devstack_irp *queue;	/* I/O started, not yet completed */
	bool stopping;
	pthread_t dpc;
};

static void *stack_create(struct device *dev)
{
	struct devstack *s = malloc(sizeof(*s));

	devstack_init(s, dev);
	return s;
}

static void stack_destroy(void *reg)
{
	free(reg);
}

static struct async_stack *async_of(struct devstack_lower *lower)
{
	return (struct async_stack *)((char *)lower - offsetof(struct async_stack, stack.lower));
}

static void async_start_io(struct devstack_lower *lower, struct devstack_irp *irp)
{
	struct async_stack *a = async_of(lower);

	pthread_mutex_lock(&a->lock);
	irp->next = a->queue;
	a->queue = irp;
	pthread_cond_signal(&a->started);
	pthread_mutex_unlock(&a->lock);
}

static void *async_dpc(void *arg)
{
	struct async_stack *a = arg;
	struct devstack_irp *irp;

	SCENARIO_THREAD_ROLE("T3 DPC");
	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->queue && !a->stopping)
			pthread_cond_wait(&a->started, &a->lock);
		if (!a->queue)
			break;
		irp = a->queue;
		a->queue = irp->next;
		pthread_mutex_unlock(&a->lock);
		SCENARIO_NOTE("lower DPC: IoCompleteRequest(irp)");
		devstack_complete_request(irp, DEVSTACK_STATUS_SUCCESS);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static void *async_stack_create(struct device *dev)
{
	struct async_stack *a = malloc(sizeof(*a));

	devstack_init(&a->stack, dev);
	a->stack.lower.start_io = async_start_io;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->started, NULL);
	a->queue = NULL;
	a->stopping = false;
	if (pthread_create(&a->dpc, NULL, async_dpc, a) != 0)
		abort();
	return a;
}

static void async_stack_destroy(void *reg)
{
	struct async_stack *a = reg;

	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_cond_signal(&a->started);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->dpc, NULL);
	pthread_cond_destroy(&a->started);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* The hot path: the requester sends one IRP down the stack. */
static long single_callback(void *reg)
{
	return devstack_request_single(reg);
}

static long double_callback(void *reg)
{
	return devstack_request_double(reg);
}

/* Teardown: IRP_MN_REMOVE_DEVICE reaches the upper filter. */
static void remove_teardown(void *reg)
{
	devstack_upper_remove_device(reg);
}

static const struct scenario_variant remove_lock_variants[] = {
	{ .name = "naive", .story = "one remove-lock acquisition, released in the completion routine, "
	  "which runs inside the lower dispatch routine", .expect = "heap-use-after-free",
	  .create = stack_create, .callback = single_callback, .teardown = remove_teardown,
	  .destroy = stack_destroy },
	{ .name = "double", .story = "a second acquisition held across IoCallDriver; completion "
	  "inside the lower dispatch routine", .create = stack_create,
	  .callback = double_callback, .teardown = remove_teardown, .destroy = stack_destroy },
	{ .name = "double_async", .story = "a second acquisition held across IoCallDriver; the "
	  "lower driver's DPC completes the IRP on another thread", .create = async_stack_create,
	  .callback = double_callback, .teardown = remove_teardown,
	  .destroy = async_stack_destroy },
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "remove_lock",
	.seed = "Windows: the upper filter's completion routine releases its remove lock inside the "
		"lower dispatch routine; IRP_MN_REMOVE_DEVICE frees the lower driver under it",
	.variants = remove_lock_variants,
	.n_variants = sizeof(remove_lock_variants) / sizeof(remove_lock_variants[0]),
};
