/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * drwlock. Readers take the read lock and use the current object; the writer takes the write
 * lock, swaps in a new object and retires the old one inside its section, so a reader that the
 * write lock let in by mistake sees the done mark and the poison while it still reads.
 */
#include <stdlib.h>

#include "patterns/rwlock/drwlock.h"
#include "torture/torture.h"

static struct drwlock rw_lock;
static _Atomic(struct torture_obj *) rw_current;

static void rw_setup(void)
{
	drwlock_init(&rw_lock);
	atomic_store_explicit(&rw_current, torture_obj_new(), memory_order_relaxed);
}

static void rw_reader_start(struct torture_reader *t)
{
	struct drwlock_reader *r = teardown_aligned_alloc("torture", TEARDOWN_CACHE_LINE,
							  sizeof(*r));

	*r = (struct drwlock_reader){ 0 };
	drwlock_reader_register(&rw_lock, r);
	t->state = r;
}

static void rw_reader_stop(struct torture_reader *t)
{
	drwlock_reader_unregister(&rw_lock, t->state);
	free(t->state);
}

static void rw_read(struct torture_reader *t)
{
	torture_scribble(t);
	drwlock_read_lock(&rw_lock, t->state);
	/* Relaxed: the read lock orders it (write_unlock's release, read_lock's acquire). */
	torture_use(t, atomic_load_explicit(&rw_current, memory_order_relaxed));
	drwlock_read_unlock(&rw_lock, t->state);
}

static void rw_update(void)
{
	struct torture_obj *next = torture_obj_new(), *old;

	drwlock_write_lock(&rw_lock);
	old = atomic_load_explicit(&rw_current, memory_order_relaxed);
	atomic_store_explicit(&rw_current, next, memory_order_relaxed);
	torture_obj_retire(old, true);
	drwlock_write_unlock(&rw_lock);
}

static void rw_cleanup(void)
{
	torture_obj_retire(atomic_load_explicit(&rw_current, memory_order_relaxed), true);
	drwlock_destroy(&rw_lock);
}

const struct torture_fix torture_drwlock = {
	.name = "drwlock",
	.lab = "rwlock",
	.unit = "teardowns",
	.no_membarrier_env = "DRWLOCK_NO_MEMBARRIER",
	.uses_membarrier = drwlock_uses_membarrier,
	.registers = true,
	.setup = rw_setup,
	.reader_start = rw_reader_start,
	.reader_stop = rw_reader_stop,
	.read = rw_read,
	.update = rw_update,
	.cleanup = rw_cleanup,
};
