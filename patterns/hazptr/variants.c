/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hazard-pointer lab: a device published through one shared pointer. The hot path protects
 * it in a hazard slot, reads it and clears the slot; teardown unpublishes it and retires it,
 * and a scan reclaims it once no slot holds it. In the forced schedule the reader stops after
 * its first load of the pointer, before its hazard is published: the window a scan cannot see.
 */
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/hazptr/hazptr.h"
#include "scenario/scenario.h"

struct hazptr_lab {
	struct hazptr_domain domain;
	_Atomic(void *) current;	/* the published device */
	struct hazptr_obj retire_node;
	struct device *retired;
};

static _Thread_local struct hazptr_rec *lab_rec;

static void *lab_create(struct device *dev)
{
	struct hazptr_lab *lab = teardown_aligned_alloc("hazptr", _Alignof(struct hazptr_lab),
							sizeof(*lab));

	hazptr_domain_init(&lab->domain);
	lab->retire_node = (struct hazptr_obj){ .retired = false };
	lab->retired = NULL;
	atomic_init(&lab->current, dev);	/* before any reader starts */
	return lab;
}

static void lab_destroy(void *reg)
{
	struct hazptr_lab *lab = reg;

	hazptr_domain_destroy(&lab->domain);	/* reclaims what is still retired */
	free(lab);
}

static void lab_reader_start(void *reg)
{
	lab_rec = hazptr_register(&((struct hazptr_lab *)reg)->domain);
}

static void lab_reader_stop(void *reg)
{
	(void)reg;
	hazptr_unregister(lab_rec);
}

/* quote: naive_protect */
static struct device *naive_enter(struct hazptr_lab *lab)
{
	struct device *dev = atomic_load_explicit(&lab->current, memory_order_acquire);

	if (!dev)
		return NULL;
	SCENARIO_READER_WINDOW();
	atomic_store_explicit(&lab_rec->slot[0], dev, memory_order_relaxed);
	hazptr_reader_fence();
	return dev;	/* no second look: a scan that ran before the store missed it */
}
/* end quote: naive_protect */

static struct device *fixed_enter(struct hazptr_lab *lab)
{
	return hazptr_protect(lab_rec, 0, &lab->current);
}

static void lab_exit(struct hazptr_lab *lab, struct device *dev)
{
	(void)lab, (void)dev;
	hazptr_clear(lab_rec, 0);
}

SCENARIO_DEFINE_CALLBACK(naive_callback, struct hazptr_lab, naive_enter, lab_exit)
SCENARIO_DEFINE_CALLBACK(fixed_callback, struct hazptr_lab, fixed_enter, lab_exit)

/* quote: retire_teardown */
static void device_reclaim(struct hazptr_obj *obj)
{
	struct hazptr_lab *lab = teardown_container_of(obj, struct hazptr_lab, retire_node);

	SCENARIO_NOTE("scan: no slot holds the device: reclaimed");
	device_free(lab->retired);
}

static void retire_teardown(void *reg)
{
	struct hazptr_lab *lab = reg;
	struct hazptr_rec *rec = hazptr_register(&lab->domain);
	size_t reclaimed;

	SCENARIO_NOTE("teardown: current = NULL, hazptr_retire(device)");
	/* Relaxed: the scan's membarrier (or fence) orders it before the slots' loads. */
	lab->retired = atomic_exchange_explicit(&lab->current, NULL, memory_order_relaxed);
	hazptr_retire(rec, &lab->retire_node, lab->retired, device_reclaim);
	reclaimed = hazptr_scan(rec);
	SCENARIO_NOTE("hazptr_scan: %zu reclaimed, %zu still protected", reclaimed,
		      rec->n_retired);
	(void)reclaimed;
	hazptr_unregister(rec);	/* what is still protected becomes an orphan */
}
/* end quote: retire_teardown */

static const struct scenario_variant hazptr_variants[] = {
	{
		.name = "naive",
		.story = "publish the hazard and use the pointer without loading it again",
		.expect = "heap-use-after-free",
		.create = lab_create,
		.reader_start = lab_reader_start,
		.reader_stop = lab_reader_stop,
		.callback = naive_callback,
		.teardown = retire_teardown,
		.destroy = lab_destroy,
	},
	{
		.name = "fixed",
		.story = "hazptr_protect: publish the hazard, fence, load again; teardown retires "
			 "and scans",
		.create = lab_create,
		.reader_start = lab_reader_start,
		.reader_stop = lab_reader_stop,
		.callback = fixed_callback,
		.teardown = retire_teardown,
		.destroy = lab_destroy,
	},
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "hazptr",
	.source_case = "a lock-free reader loads a shared pointer while teardown retires its "
		       "object",
	.variants = hazptr_variants,
	.n_variants = TEARDOWN_ARRAY_SIZE(hazptr_variants),
	.uses_membarrier = hazptr_uses_membarrier,
};
