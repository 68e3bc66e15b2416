/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hazptr. Readers register a record each and protect the published object in slot 0, use it
 * and clear the slot. The writer swaps in a new object and retires the old one; hazptr_retire
 * scans when the writer's list reaches the threshold, and one cycle in 16 the writer scans
 * anyway. Reclamation is not in generation order (a reader may hold an older object than a
 * newer one that goes), so a reclaim poisons its object without marking older ones done.
 */
#include <stdlib.h>

#include "patterns/common/die.h"
#include "patterns/hazptr/hazptr.h"
#include "torture/torture.h"

struct hazptr_retired {
	struct hazptr_obj node;
	struct torture_obj *obj;
};

static struct hazptr_domain hazptr_torture_domain;
static struct hazptr_rec *hazptr_writer;
static _Atomic(void *) hazptr_current;
static uint64_t hazptr_cycle;	/* the writer's */

static void hazptr_reclaim(struct hazptr_obj *node)
{
	struct hazptr_retired *r = teardown_container_of(node, struct hazptr_retired, node);

	torture_obj_retire(r->obj, false);
	torture_count_teardown();
	free(r);
}

static void hazptr_fix_setup(void)
{
	hazptr_domain_init(&hazptr_torture_domain);
	atomic_store_explicit(&hazptr_current, torture_obj_new(), memory_order_release);
	hazptr_cycle = 0;
}

static void hazptr_reader_start(struct torture_reader *t)
{
	t->state = hazptr_register(&hazptr_torture_domain);
}

static void hazptr_reader_stop(struct torture_reader *t)
{
	hazptr_unregister(t->state);
}

static void hazptr_read(struct torture_reader *t)
{
	struct hazptr_rec *r = t->state;
	struct torture_obj *o;

	torture_scribble(t);
	o = hazptr_protect(r, 0, &hazptr_current);
	torture_use(t, o);
	hazptr_clear(r, 0);
}

static void hazptr_writer_start(void)
{
	hazptr_writer = hazptr_register(&hazptr_torture_domain);
}

static void hazptr_writer_stop(void)
{
	hazptr_unregister(hazptr_writer);	/* what readers still hold becomes orphans */
}

static void hazptr_retire_obj(struct torture_obj *o)
{
	struct hazptr_retired *r = teardown_calloc("torture", 1, sizeof(*r));

	r->obj = o;
	hazptr_retire(hazptr_writer, &r->node, o, hazptr_reclaim);
}

static void hazptr_update(void)
{
	/* Release: the new object's stamp before a reader's acquire re-load finds it. */
	struct torture_obj *old = atomic_exchange_explicit(&hazptr_current, torture_obj_new(),
							   memory_order_acq_rel);

	hazptr_retire_obj(old);
	if (++hazptr_cycle % 16 == 0)
		hazptr_scan(hazptr_writer);
}

static void hazptr_fix_cleanup(void)
{
	hazptr_writer_start();
	hazptr_retire_obj(atomic_load_explicit(&hazptr_current, memory_order_relaxed));
	hazptr_writer_stop();
	hazptr_domain_destroy(&hazptr_torture_domain);
}

const struct torture_fix torture_hazptr = {
	.name = "hazptr",
	.lab = "hazptr",
	.unit = "objects reclaimed",
	.no_membarrier_env = "HAZPTR_NO_MEMBARRIER",
	.uses_membarrier = hazptr_uses_membarrier,
	.registers = true,
	.setup = hazptr_fix_setup,
	.reader_start = hazptr_reader_start,
	.reader_stop = hazptr_reader_stop,
	.read = hazptr_read,
	.writer_start = hazptr_writer_start,
	.update = hazptr_update,
	.writer_stop = hazptr_writer_stop,
	.cleanup = hazptr_fix_cleanup,
};
