/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A two-layer WDM device stack, small enough to read in one sitting: an upper filter attached
 * to a lower driver, an IRP, call_driver (IoCallDriver), complete_request (IoCompleteRequest),
 * the upper filter's completion routine, and its IRP_MN_REMOVE_DEVICE handler.
 *
 * The lower driver's extension is the scenario's struct device: the lower driver's state, and
 * the stand-in for its code. The upper filter's remove handler frees it when it detaches (the
 * last reference to the lower device object goes away, and the lower driver can unload), so any
 * instruction the lower dispatch routine runs after that point is a use after free.
 *
 * Everything is static inline so that the race lab (variants.c) and the benchmark
 * (remove_lock_bench.c) run the same code.
 */
#ifndef TEARDOWN_PATTERNS_REMOVE_LOCK_DEVICE_STACK_H
#define TEARDOWN_PATTERNS_REMOVE_LOCK_DEVICE_STACK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patterns/common/futex.h"
#include "patterns/remove_lock/remove_lock.h"
#include "scenario/device.h"
#include "scenario/scenario.h"

#define DEVSTACK_STATUS_SUCCESS ((int32_t)0)
#define DEVSTACK_STATUS_PENDING ((int32_t)0x00000103)	/* Windows' STATUS_PENDING */
#define DEVSTACK_STATUS_DELETE_PENDING REMOVE_LOCK_DELETE_PENDING

struct devstack_irp;
typedef void devstack_completion_routine(struct devstack_irp *irp, void *context);

struct devstack_irp {
	int32_t status;			/* IoStatus.Status */
	long information;		/* IoStatus.Information: the lower driver's state */
	bool pending;			/* IoMarkIrpPending: completion comes later */
	devstack_completion_routine *completion;	/* IoSetCompletionRoutine */
	void *completion_context;
	_Atomic uint32_t completed;	/* the requester's event, for pending IRPs */
	struct devstack_irp *next;	/* the lower driver's queue of started I/O */
	/*
	 * The requester's hold on the top device object from look-up until the upper filter has
	 * taken its remove lock (see devstack_lookup_done). NULL when the caller owns the stack.
	 */
	_Atomic uint32_t *lookup;
};

struct devstack_lower {
	struct device *extension;	/* the lower driver's state (and, in spirit, its code) */
	/* NULL: complete every IRP inside the dispatch routine. Else: hand it to the DPC. */
	void (*start_io)(void *context, struct devstack_irp *irp);
	void *start_io_context;
};

struct devstack_upper {
	struct remove_lock remove_lock;
	struct devstack_lower *attached_to;	/* IoAttachDeviceToDeviceStack's result */
};

struct devstack {
	struct devstack_upper upper;
	struct devstack_lower lower;
};

static inline void devstack_init(struct devstack *s, struct device *lower_extension)
{
	*s = (struct devstack){ .lower = { .extension = lower_extension } };
	remove_lock_init(&s->upper.remove_lock);
	s->upper.attached_to = &s->lower;
}

/* IoCompleteRequest: runs the upper filter's completion routine, then wakes the requester. */
static inline void devstack_complete_request(struct devstack_irp *irp, int32_t status)
{
	irp->status = status;
	if (irp->completion)
		irp->completion(irp, irp->completion_context);
	if (irp->pending) {
		/* release: the requester's acquire load sees status and information. */
		atomic_store_explicit(&irp->completed, 1, memory_order_release);
		/* Passes an address only, even if the IRP is gone. */
		futex_wake_all(&irp->completed);
	}
}

/* quote: lower_dispatch */
/* The lower driver's dispatch routine: it completes the IRP, and is not done yet. */
static inline int32_t devstack_lower_dispatch(struct devstack_lower *lower,
					       struct devstack_irp *irp)
{
	struct device *ext = lower->extension;
	int32_t status = DEVSTACK_STATUS_SUCCESS;

	irp->information = ext->state;			/* the request's result */
	if (!lower->start_io) {
		SCENARIO_NOTE("lower dispatch: IoCompleteRequest(irp)");
		devstack_complete_request(irp, status);	/* the IRP is no longer ours */
	} else {
		SCENARIO_NOTE("lower dispatch: starts the I/O; its DPC will complete the IRP");
		irp->pending = true;			/* IoMarkIrpPending */
		/* The IRP is no longer ours once start_io has it. */
		lower->start_io(lower->start_io_context, irp);
		status = DEVSTACK_STATUS_PENDING;
	}
	SCENARIO_READER_WINDOW();
	/* Not returned yet: the tail still uses the driver's state (statistics, a lock, code). */
	(void)device_read_state(ext);
	return status;
}
/* end quote: lower_dispatch */

/* IoCallDriver, for a stack whose lower driver has one dispatch routine. */
static inline int32_t devstack_call_driver(struct devstack_lower *lower, struct devstack_irp *irp)
{
	return devstack_lower_dispatch(lower, irp);
}

/* Fails an IRP the upper filter will not pass down (no completion routine is set). */
static inline int32_t devstack_fail_request(struct devstack_irp *irp, int32_t status)
{
	devstack_complete_request(irp, status);
	return status;
}

/* quote: completion */
/*
 * The upper filter's completion routine: releases the acquisition taken for this IRP. After
 * the release it touches nothing of the upper filter's: the release may be the last, and the
 * remover may free the extension (and the remove lock in it) the moment it sees the count at 0.
 */
static inline void devstack_upper_completion(struct devstack_irp *irp, void *context)
{
	struct devstack_upper *upper = context;

	SCENARIO_NOTE("upper completion routine: IoReleaseRemoveLock (%u held before)",
		      remove_lock_count(&upper->remove_lock));
	remove_lock_release(&upper->remove_lock, irp);
	SCENARIO_RELEASER_TAIL();
}
/* end quote: completion */

/*
 * The requester lets go of the top device object: the upper filter now holds its remove lock
 * (or was refused one), and from here on only the remove lock keeps the extension alive. In
 * Windows the I/O manager's reference lasts until the IRP completes; letting go this early lets
 * the race lab free the extension right after IoReleaseRemoveLockAndWait, as the remove lock's
 * contract allows, and so see any touch of it after a last release.
 */
static inline void devstack_lookup_done(struct devstack_irp *irp)
{
	/* release: our fetch_add on the remove lock happens before the remover frees it. */
	if (irp->lookup && atomic_fetch_sub_explicit(irp->lookup, 1, memory_order_release) == 1)
		futex_wake_all(irp->lookup);	/* the counter outlives the extension */
}

/* quote: dispatch_single */
/*
 * Naive: the documentation as the case reads it. One acquisition, released in the completion
 * routine.
 */
static inline int32_t devstack_upper_dispatch_single(struct devstack_upper *upper,
						     struct devstack_irp *irp)
{
	int32_t got = remove_lock_acquire(&upper->remove_lock, irp);

	devstack_lookup_done(irp);
	if (got != REMOVE_LOCK_SUCCESS)
		return devstack_fail_request(irp, DEVSTACK_STATUS_DELETE_PENDING);
	irp->completion = devstack_upper_completion;	/* IoSetCompletionRoutine */
	irp->completion_context = upper;
	SCENARIO_NOTE("upper dispatch: IoAcquireRemoveLock (%u held); IoCallDriver(lower)",
		      remove_lock_count(&upper->remove_lock));
	return devstack_call_driver(upper->attached_to, irp);
}
/* end quote: dispatch_single */

/* quote: dispatch_double */
/* The fix: a second acquisition held across call_driver, released after it returns. */
static inline int32_t devstack_upper_dispatch_double(struct devstack_upper *upper,
						     struct devstack_irp *irp)
{
	const void *call_tag = &upper->attached_to;
	int32_t got = remove_lock_acquire(&upper->remove_lock, irp);
	int32_t status;

	devstack_lookup_done(irp);
	if (got != REMOVE_LOCK_SUCCESS)
		return devstack_fail_request(irp, DEVSTACK_STATUS_DELETE_PENDING);
	if (remove_lock_acquire(&upper->remove_lock, call_tag) != REMOVE_LOCK_SUCCESS) {
		remove_lock_release(&upper->remove_lock, irp);	/* removal began in between */
		SCENARIO_RELEASER_TAIL();
		return devstack_fail_request(irp, DEVSTACK_STATUS_DELETE_PENDING);
	}
	irp->completion = devstack_upper_completion;
	irp->completion_context = upper;
	SCENARIO_NOTE("upper dispatch: IoAcquireRemoveLock twice (%u held); IoCallDriver(lower)",
		      remove_lock_count(&upper->remove_lock));
	status = devstack_call_driver(upper->attached_to, irp);
	SCENARIO_NOTE("upper dispatch: IoCallDriver returned; IoReleaseRemoveLock");
	remove_lock_release(&upper->remove_lock, call_tag);
	SCENARIO_RELEASER_TAIL();
	return status;
}
/* end quote: dispatch_double */

/* No remove lock at all: what the IRP's trip costs by itself (benchmark only). */
static inline int32_t devstack_upper_dispatch_unlocked(struct devstack_upper *upper,
						       struct devstack_irp *irp)
{
	devstack_lookup_done(irp);
	return devstack_call_driver(upper->attached_to, irp);
}

/*
 * The requester (the I/O manager's caller): builds an IRP on its stack, sends it to the top of
 * the stack, and waits for it if it is pending. Returns the lower driver's state, or
 * SCENARIO_DECLINED when the upper filter failed the IRP because removal has begun.
 */
#define DEVSTACK_DEFINE_REQUEST(NAME, DISPATCH) \
	static inline long NAME##_looked_up(struct devstack_upper *upper, \
					    _Atomic uint32_t *lookup) \
	{ \
		struct devstack_irp irp = { .status = DEVSTACK_STATUS_PENDING, .lookup = lookup }; \
		if (DISPATCH(upper, &irp) == DEVSTACK_STATUS_PENDING) \
			devstack_wait_for_completion(&irp); \
		return irp.status == DEVSTACK_STATUS_DELETE_PENDING ? SCENARIO_DECLINED \
								    : irp.information; \
	} \
	static inline long NAME(struct devstack *s) \
	{ \
		return NAME##_looked_up(&s->upper, NULL); \
	}

static inline void devstack_wait_for_completion(struct devstack_irp *irp)
{
	/* acquire: pairs with the release store in devstack_complete_request(). */
	while (!atomic_load_explicit(&irp->completed, memory_order_acquire))
		futex_wait_while(&irp->completed, 0);
}

DEVSTACK_DEFINE_REQUEST(devstack_request_single, devstack_upper_dispatch_single)
DEVSTACK_DEFINE_REQUEST(devstack_request_double, devstack_upper_dispatch_double)
DEVSTACK_DEFINE_REQUEST(devstack_request_unlocked, devstack_upper_dispatch_unlocked)

/* quote: remove_device */
/* The upper filter's IRP_MN_REMOVE_DEVICE handler, in the order Microsoft documents. */
static inline void devstack_upper_remove_device(struct devstack *s)
{
	struct devstack_upper *upper = &s->upper;
	struct devstack_irp remove_irp = { .status = DEVSTACK_STATUS_PENDING };

	if (remove_lock_acquire(&upper->remove_lock, &remove_irp) != REMOVE_LOCK_SUCCESS)
		return;		/* a second remove: the first one did everything */
	/*
	 * Passing the IRP down is narrated only: the lower driver deletes its device object, and
	 * the deletion is deferred while the upper filter is still attached to it.
	 */
	SCENARIO_NOTE("IRP_MN_REMOVE_DEVICE: upper acquires once more (%u held); passes it down",
		      remove_lock_count(&upper->remove_lock));
	remove_lock_release_and_wait(&upper->remove_lock, &remove_irp);
	SCENARIO_NOTE("IoDetachDevice: last reference to the lower device; the lower driver goes");
	device_free(upper->attached_to->extension);
	upper->attached_to->extension = NULL;
	upper->attached_to = NULL;
}
/* end quote: remove_device */

/*
 * The I/O manager's side, for a stack the upper filter's remove handler frees: where requesters
 * find the top of the stack. It outlives the stack.
 */
struct devstack_io {
	_Atomic(struct devstack *) stack;	/* NULL once the upper device object is deleted */
	/* Requesters between look-up and the upper filter's first acquire. */
	_Atomic uint32_t lookups;
};

/*
 * The top of the stack, or NULL once it is deleted. On success the caller sends one IRP with
 * `lookup` = &io->lookups, and the upper filter lets go of it (devstack_lookup_done) once it has
 * tried its first acquire. seq_cst, with devstack_io_delete(): each side stores, then loads
 * what the other stored (lookups++ ; load stack / stack = NULL ; load lookups), so either we
 * see NULL or the deleter waits for our devstack_lookup_done().
 */
static inline struct devstack_upper *devstack_io_lookup(struct devstack_io *io)
{
	struct devstack *s;

	atomic_fetch_add_explicit(&io->lookups, 1, memory_order_seq_cst);
	s = atomic_load_explicit(&io->stack, memory_order_seq_cst);
	if (s)
		return &s->upper;
	if (atomic_fetch_sub_explicit(&io->lookups, 1, memory_order_release) == 1)
		futex_wake_all(&io->lookups);
	return NULL;
}

/*
 * IoDeleteDevice, after the remove handler: no look-up finds the stack any more, and one in
 * progress ends at the upper filter's first acquire (which fails now). Then the stack's memory,
 * the upper extension with its remove lock, may go.
 */
static inline void devstack_io_delete(struct devstack_io *io)
{
	uint32_t n;

	/* seq_cst: the store-load pair with devstack_io_lookup() (see there). */
	atomic_store_explicit(&io->stack, NULL, memory_order_seq_cst);
	/* seq_cst, so acquire too: pairs with devstack_lookup_done()'s release. */
	while ((n = atomic_load_explicit(&io->lookups, memory_order_seq_cst)) != 0)
		futex_wait_while(&io->lookups, n);
}

#endif /* TEARDOWN_PATTERNS_REMOVE_LOCK_DEVICE_STACK_H */
