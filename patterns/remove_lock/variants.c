/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The remove-lock lab: an upper filter sends IRPs to a lower driver; IRP_MN_REMOVE_DEVICE
 * arrives meanwhile. Naive: one acquisition, released in the completion routine, which runs
 * inside the lower dispatch routine. Fixed: a second acquisition held across call_driver, with
 * completion inside the lower dispatch routine, or later on the lower driver's DPC thread.
 * In every variant the remove handler frees the upper filter's extension, remove lock and all,
 * right after IoReleaseRemoveLockAndWait (and IoDeleteDevice), while the last releaser may still
 * be returning.
 */
#include <pthread.h>
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/remove_lock/device_stack.h"
#include "scenario/scenario.h"

/* The lower driver's DPC: a thread that completes the I/O it started. */
struct lower_dpc {
	pthread_mutex_t lock;
	pthread_cond_t started;
	struct devstack_irp *queue;	/* I/O started, not yet completed */
	bool stopping;
	pthread_t thread;
};

/*
 * The registration point: the I/O manager's view of the device stack (devstack_io). It
 * outlives the stack; the upper filter's remove handler frees the stack (the upper extension,
 * with its remove lock) as soon as the count has drained.
 */
struct stack_reg {
	struct devstack_io io;
	struct lower_dpc *dpc;	/* NULL: the lower driver completes inside its dispatch */
};

static void dpc_start_io(void *context, struct devstack_irp *irp)
{
	struct lower_dpc *d = context;

	pthread_mutex_lock(&d->lock);
	irp->next = d->queue;
	d->queue = irp;
	pthread_cond_signal(&d->started);
	pthread_mutex_unlock(&d->lock);
}

static void *dpc_thread(void *arg)
{
	struct lower_dpc *d = arg;
	struct devstack_irp *irp;

	SCENARIO_THREAD_ROLE("T3 DPC");
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!d->queue && !d->stopping)
			pthread_cond_wait(&d->started, &d->lock);
		if (!d->queue)
			break;
		irp = d->queue;
		d->queue = irp->next;
		pthread_mutex_unlock(&d->lock);
		SCENARIO_NOTE("lower DPC: IoCompleteRequest(irp)");
		devstack_complete_request(irp, DEVSTACK_STATUS_SUCCESS);
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static void *reg_create(struct device *dev, struct lower_dpc *dpc)
{
	struct stack_reg *r = teardown_malloc("remove_lock", sizeof(*r));
	struct devstack *s = teardown_malloc("remove_lock", sizeof(*s));

	devstack_init(s, dev);
	if (dpc) {
		s->lower.start_io = dpc_start_io;
		s->lower.start_io_context = dpc;
	}
	atomic_init(&r->io.stack, s);
	atomic_init(&r->io.lookups, 0);
	r->dpc = dpc;
	return r;
}

static void *stack_create(struct device *dev)
{
	return reg_create(dev, NULL);
}

static void *async_stack_create(struct device *dev)
{
	struct lower_dpc *d = teardown_malloc("remove_lock", sizeof(*d));
	int err;

	err = pthread_mutex_init(&d->lock, NULL);
	if (err)
		teardown_die("remove_lock", err, "pthread_mutex_init (the DPC's lock)");
	err = pthread_cond_init(&d->started, NULL);
	if (err)
		teardown_die("remove_lock", err, "pthread_cond_init (the DPC's queue)");
	d->queue = NULL;
	d->stopping = false;
	err = pthread_create(&d->thread, NULL, dpc_thread, d);
	if (err)
		teardown_die("remove_lock", err, "pthread_create (the DPC thread)");
	return reg_create(dev, d);
}

/* All threads gone: only the registration point (and the DPC) are left to free. */
static void stack_destroy(void *reg)
{
	struct stack_reg *r = reg;
	struct lower_dpc *d = r->dpc;
	int err;

	if (d) {
		pthread_mutex_lock(&d->lock);
		d->stopping = true;
		pthread_cond_signal(&d->started);
		pthread_mutex_unlock(&d->lock);
		err = pthread_join(d->thread, NULL);
		if (err)
			teardown_die("remove_lock", err, "pthread_join (the DPC thread)");
		pthread_cond_destroy(&d->started);
		pthread_mutex_destroy(&d->lock);
		free(d);
	}
	free(r);
}

/* The hot path: the requester sends one IRP down the stack. */
static long single_callback(void *reg)
{
	struct stack_reg *r = reg;
	struct devstack_upper *upper = devstack_io_lookup(&r->io);

	if (!upper)
		return SCENARIO_DECLINED;
	return devstack_request_single_looked_up(upper, &r->io.lookups);
}

static long double_callback(void *reg)
{
	struct stack_reg *r = reg;
	struct devstack_upper *upper = devstack_io_lookup(&r->io);

	if (!upper)
		return SCENARIO_DECLINED;
	return devstack_request_double_looked_up(upper, &r->io.lookups);
}

/*
 * Broken on purpose: the fix, but the upper dispatch routine reads its remove lock once more
 * after its last release, to log the count (as this lab's own completion routine once did).
 * The remove handler may already have freed the extension, and the lock in it.
 */
static int32_t dispatch_double_then_look(struct devstack_upper *upper, struct devstack_irp *irp)
{
	int32_t status = devstack_upper_dispatch_double(upper, irp);

	SCENARIO_NOTE("upper dispatch: logs the count after its release: %u held",
		      remove_lock_count(&upper->remove_lock));
	return status;
}

/* The requester, on a stack whose lower driver completes inside its dispatch (never pending). */
static long look_after_release_callback(void *reg)
{
	struct stack_reg *r = reg;
	struct devstack_upper *upper = devstack_io_lookup(&r->io);
	struct devstack_irp irp = { .status = DEVSTACK_STATUS_PENDING, .lookup = &r->io.lookups };

	if (!upper)
		return SCENARIO_DECLINED;
	dispatch_double_then_look(upper, &irp);
	return irp.status == DEVSTACK_STATUS_DELETE_PENDING ? SCENARIO_DECLINED : irp.information;
}

/* Teardown: IRP_MN_REMOVE_DEVICE reaches the upper filter, which then deletes its device. */
static void remove_teardown(void *reg)
{
	struct stack_reg *r = reg;
	struct devstack *s = atomic_load_explicit(&r->io.stack, memory_order_relaxed);

	devstack_upper_remove_device(s);
	devstack_io_delete(&r->io);
	SCENARIO_NOTE("IoDeleteDevice: frees the upper extension, and the remove lock in it");
	free(s);
}

static const struct scenario_variant remove_lock_variants[] = {
	{
		.name = "naive",
		.story = "one remove-lock acquisition, released in the completion routine, which "
			 "runs inside the lower dispatch routine",
		.expect = "heap-use-after-free",
		.create = stack_create,
		.callback = single_callback,
		.teardown = remove_teardown,
		.destroy = stack_destroy,
	},
	{
		.name = "double",
		.story = "a second acquisition held across IoCallDriver; completion inside the "
			 "lower dispatch routine",
		.create = stack_create,
		.callback = double_callback,
		.teardown = remove_teardown,
		.destroy = stack_destroy,
	},
	{
		.name = "look_after_release",
		.story = "the double acquire, but the dispatch routine reads its remove lock after "
			 "its last release; the remove handler has freed it",
		.expect = "heap-use-after-free",
		.schedule = "late",
		.create = stack_create,
		.callback = look_after_release_callback,
		.teardown = remove_teardown,
		.destroy = stack_destroy,
	},
	{
		.name = "double_async",
		.story = "a second acquisition held across IoCallDriver; the lower driver's DPC "
			 "completes the IRP on another thread",
		.create = async_stack_create,
		.callback = double_callback,
		.teardown = remove_teardown,
		.destroy = stack_destroy,
	},
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "remove_lock",
	.source_case = "Windows: the upper filter's completion routine releases its remove lock "
		       "inside the lower dispatch routine; IRP_MN_REMOVE_DEVICE frees the lower "
		       "driver under it",
	.variants = remove_lock_variants,
	.n_variants = TEARDOWN_ARRAY_SIZE(remove_lock_variants),
};
