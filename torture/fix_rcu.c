/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trcu, both flavours. The writer swaps in a new object, waits for a grace period and retires
 * the old one. General flavour: readers register, and read inside trcu_read_lock/unlock; one
 * cycle in 8 the writer hands the old object to trcu_call instead, whose callback thread retires
 * it after a grace period (trcu_barrier when too many are queued, and when the writer stops). QSBR:
 * readers register and announce a quiescent state after every object they use; under churn
 * they also go offline and online, or unregister and register again.
 */
#include "patterns/rcu/trcu.h"
#include "patterns/rcu/trcu_qsbr.h"
#include "torture/torture.h"

static _Atomic(struct torture_obj *) rcu_current;

static void rcu_setup(void)
{
	trcu_assign_pointer(rcu_current, torture_obj_new());
}

static void rcu_reader_start(struct torture_reader *t)
{
	(void)t;
	trcu_register_thread();
}

static void rcu_reader_stop(struct torture_reader *t)
{
	(void)t;
	trcu_unregister_thread();
}

static void rcu_read(struct torture_reader *t)
{
	torture_scribble(t);
	trcu_read_lock();
	torture_use(t, trcu_dereference(rcu_current));
	trcu_read_unlock();
}

#define RCU_MAX_QUEUED 1024

static _Atomic unsigned rcu_queued;	/* handed to trcu_call, not yet retired */
static unsigned rcu_cycle;		/* the writer's */

static void rcu_callback(struct trcu_head *head)
{
	torture_obj_retire(teardown_container_of(head, struct torture_obj, u.head), true);
	atomic_fetch_sub_explicit(&rcu_queued, 1, memory_order_relaxed);
}

static void rcu_update(void)
{
	struct torture_obj *old = atomic_load_explicit(&rcu_current, memory_order_relaxed);

	trcu_assign_pointer(rcu_current, torture_obj_new());
	if (++rcu_cycle % 8 == 0) {
		atomic_fetch_add_explicit(&rcu_queued, 1, memory_order_relaxed);
		trcu_call(&old->u.head, rcu_callback);
		if (atomic_load_explicit(&rcu_queued, memory_order_relaxed) > RCU_MAX_QUEUED)
			trcu_barrier();
		return;
	}
	trcu_synchronize();
	torture_obj_retire(old, true);
}

static void rcu_writer_stop(void)
{
	trcu_barrier();
}

static void qsbr_update(void)
{
	struct torture_obj *old = atomic_load_explicit(&rcu_current, memory_order_relaxed);

	trcu_assign_pointer(rcu_current, torture_obj_new());
	trcu_qsbr_synchronize();
	torture_obj_retire(old, true);
}

static void rcu_cleanup(void)
{
	torture_obj_retire(atomic_load_explicit(&rcu_current, memory_order_relaxed), true);
}

const struct torture_fix torture_trcu = {
	.name = "trcu",
	.lab = "rcu",
	.unit = "grace periods",
	.no_membarrier_env = "TRCU_NO_MEMBARRIER",
	.uses_membarrier = trcu_uses_membarrier,
	.registers = true,
	.setup = rcu_setup,
	.reader_start = rcu_reader_start,
	.reader_stop = rcu_reader_stop,
	.read = rcu_read,
	.update = rcu_update,
	.writer_stop = rcu_writer_stop,
	.cleanup = rcu_cleanup,
};

static void qsbr_reader_start(struct torture_reader *t)
{
	(void)t;
	trcu_qsbr_register_thread();
}

static void qsbr_reader_stop(struct torture_reader *t)
{
	(void)t;
	trcu_qsbr_unregister_thread();
}

static void qsbr_read(struct torture_reader *t)
{
	trcu_qsbr_read_lock();
	torture_use(t, trcu_dereference(rcu_current));
	trcu_qsbr_read_unlock();
	if ((torture_rand(t) & 255) == 0) {
		trcu_qsbr_thread_offline();
		trcu_qsbr_thread_online();
	} else {
		trcu_qsbr_quiescent_state();
	}
}

const struct torture_fix torture_trcu_qsbr = {
	.name = "trcu_qsbr",
	.lab = "rcu",
	.unit = "grace periods",
	.registers = true,
	.setup = rcu_setup,
	.reader_start = qsbr_reader_start,
	.reader_stop = qsbr_reader_stop,
	.read = qsbr_read,
	.update = qsbr_update,
	.cleanup = rcu_cleanup,
};
