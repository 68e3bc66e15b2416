/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tepoch. Readers register a record each and read inside tepoch_enter/exit. The writer swaps
 * in a new object and retires the old one with tepoch_call, then polls (which never waits:
 * it steps the epoch when no reader is in the way and runs what is safe); one cycle in 16
 * it calls tepoch_synchronize instead and retires at once, and when too many objects are
 * pending it calls tepoch_barrier. A destructor run marks its object done.
 */
#include <stdlib.h>

#include "patterns/epoch/tepoch.h"
#include "torture/torture.h"

#define EPOCH_MAX_PENDING 1024

static struct tepoch epoch_domain;
static struct tepoch_record *epoch_writer_record;
static _Atomic(struct torture_obj *) epoch_current;
static uint64_t epoch_cycle, epoch_pending;	/* the writer's */

static void epoch_destroy(struct tepoch_entry *entry)
{
	torture_obj_retire(teardown_container_of(entry, struct torture_obj, u.entry), true);
	torture_count_teardown();
	epoch_pending--;
}

static void epoch_setup(void)
{
	tepoch_init(&epoch_domain);
	atomic_store_explicit(&epoch_current, torture_obj_new(), memory_order_release);
	epoch_writer_record = teardown_aligned_alloc("torture", TEARDOWN_CACHE_LINE,
						     sizeof(*epoch_writer_record));
	*epoch_writer_record = (struct tepoch_record){ 0 };
	epoch_cycle = epoch_pending = 0;
}

static struct tepoch_record *epoch_record_new(void)
{
	struct tepoch_record *r = teardown_aligned_alloc("torture", TEARDOWN_CACHE_LINE,
							 sizeof(*r));

	*r = (struct tepoch_record){ 0 };
	tepoch_register(&epoch_domain, r);
	return r;
}

static void epoch_reader_start(struct torture_reader *t)
{
	t->state = epoch_record_new();
}

static void epoch_reader_stop(struct torture_reader *t)
{
	tepoch_unregister(t->state);
	free(t->state);
}

static void epoch_read(struct torture_reader *t)
{
	struct tepoch_record *r = t->state;

	torture_scribble(t);
	tepoch_enter(r);
	/* acquire: pairs with the writer's release exchange; the object is stamped first. */
	torture_use(t, atomic_load_explicit(&epoch_current, memory_order_acquire));
	tepoch_exit(r);
}

static void epoch_writer_start(void)
{
	tepoch_register(&epoch_domain, epoch_writer_record);
}

static void epoch_writer_stop(void)
{
	tepoch_barrier(epoch_writer_record);
	tepoch_unregister(epoch_writer_record);
}

static void epoch_update(void)
{
	struct tepoch_record *w = epoch_writer_record;
	struct torture_obj *old = atomic_exchange_explicit(&epoch_current, torture_obj_new(),
							   memory_order_acq_rel);

	if (++epoch_cycle % 16 == 0) {
		tepoch_synchronize(w);
		torture_obj_retire(old, true);
		torture_count_teardown();
		return;
	}
	tepoch_call(w, &old->u.entry, epoch_destroy);
	epoch_pending++;
	tepoch_poll(w);
	if (epoch_pending > EPOCH_MAX_PENDING)
		tepoch_barrier(w);
}

static void epoch_cleanup(void)
{
	epoch_writer_start();
	tepoch_barrier(epoch_writer_record);
	torture_obj_retire(atomic_load_explicit(&epoch_current, memory_order_relaxed), true);
	tepoch_unregister(epoch_writer_record);
	free(epoch_writer_record);
	tepoch_destroy(&epoch_domain);
}

const struct torture_fix torture_tepoch = {
	.name = "tepoch",
	.lab = "epoch",
	.unit = "objects reclaimed",
	.no_membarrier_env = "TEPOCH_NO_MEMBARRIER",
	.uses_membarrier = tepoch_uses_membarrier,
	.registers = true,
	.setup = epoch_setup,
	.reader_start = epoch_reader_start,
	.reader_stop = epoch_reader_stop,
	.read = epoch_read,
	.writer_start = epoch_writer_start,
	.update = epoch_update,
	.writer_stop = epoch_writer_stop,
	.cleanup = epoch_cleanup,
};
