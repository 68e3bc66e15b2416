/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tsrcu. Readers lock the domain, load the published object, use it and unlock with the
 * index the lock returned. The writer swaps in a new object, waits for the domain's grace
 * period and retires the old one: every older generation is then unreachable.
 */
#include "patterns/srcu/tsrcu.h"
#include "torture/torture.h"

static struct tsrcu_domain srcu_torture_domain;
static _Atomic(struct torture_obj *) srcu_current;

static void srcu_setup(void)
{
	tsrcu_domain_init(&srcu_torture_domain);
	tsrcu_assign_pointer(srcu_current, torture_obj_new());
}

static void srcu_read(struct torture_reader *t)
{
	int idx;

	torture_scribble(t);
	idx = tsrcu_read_lock(&srcu_torture_domain);
	torture_use(t, tsrcu_dereference(srcu_current));
	tsrcu_read_unlock(&srcu_torture_domain, idx);
}

static void srcu_update(void)
{
	struct torture_obj *old = atomic_load_explicit(&srcu_current, memory_order_relaxed);

	tsrcu_assign_pointer(srcu_current, torture_obj_new());
	tsrcu_synchronize(&srcu_torture_domain);
	torture_obj_retire(old, true);
}

static void srcu_cleanup(void)
{
	torture_obj_retire(atomic_load_explicit(&srcu_current, memory_order_relaxed), true);
	tsrcu_domain_destroy(&srcu_torture_domain);
}

const struct torture_fix torture_srcu = {
	.name = "srcu",
	.lab = "srcu",
	.unit = "grace periods",
	.no_membarrier_env = "TSRCU_NO_MEMBARRIER",
	.uses_membarrier = tsrcu_uses_membarrier,
	.setup = srcu_setup,
	.read = srcu_read,
	.update = srcu_update,
	.cleanup = srcu_cleanup,
};
