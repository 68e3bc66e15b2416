/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The SRCU lab: a device published through one pointer, read under its own domain's read lock
 * (a section that may sleep). Teardown unpublishes it, waits for a grace period and frees it.
 * The naive twin waits for the grace period of another domain: a subsystem's own domain, say,
 * where the reader locked the device's. Each domain waits only for its own readers, so that
 * grace period returns at once, with the reader still inside.
 */
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/srcu/tsrcu.h"
#include "scenario/scenario.h"

struct srcu_lab {
	struct tsrcu_domain device_domain;	/* the device's readers */
	struct tsrcu_domain other_domain;	/* another subsystem's readers */
	_Atomic(struct device *) current;
};

static _Thread_local int lab_idx;	/* the index the reader's tsrcu_read_lock returned */

static void *lab_create(struct device *dev)
{
	struct srcu_lab *lab = teardown_aligned_alloc("srcu", _Alignof(struct srcu_lab),
						      sizeof(*lab));

	tsrcu_domain_init(&lab->device_domain);
	tsrcu_domain_init(&lab->other_domain);
	atomic_init(&lab->current, dev);	/* before any reader starts */
	return lab;
}

static void lab_destroy(void *reg)
{
	struct srcu_lab *lab = reg;

	tsrcu_domain_destroy(&lab->device_domain);
	tsrcu_domain_destroy(&lab->other_domain);
	free(lab);
}

/* quote: reader */
static struct device *lab_enter(struct srcu_lab *lab)
{
	struct device *dev;

	lab_idx = tsrcu_read_lock(&lab->device_domain);
	dev = tsrcu_dereference(lab->current);
	if (!dev)
		tsrcu_read_unlock(&lab->device_domain, lab_idx);
	return dev;	/* the section may sleep from here to lab_exit */
}

static void lab_exit(struct srcu_lab *lab, struct device *dev)
{
	(void)dev;
	tsrcu_read_unlock(&lab->device_domain, lab_idx);
}
/* end quote: reader */

SCENARIO_DEFINE_CALLBACK(lab_callback, struct srcu_lab, lab_enter, lab_exit)

static struct device *unpublish(struct srcu_lab *lab)
{
	/* Relaxed: the grace period's barrier orders it before the sums. */
	return atomic_exchange_explicit(&lab->current, NULL, memory_order_relaxed);
}

/* quote: naive_teardown */
static void naive_teardown(void *reg)
{
	struct srcu_lab *lab = reg;
	struct device *dev = unpublish(lab);

	SCENARIO_NOTE("teardown: current = NULL; tsrcu_synchronize(another domain)");
	tsrcu_synchronize(&lab->other_domain);	/* no reader there: returns at once */
	SCENARIO_NOTE("teardown: free(device)");
	device_free(dev);
}
/* end quote: naive_teardown */

/* quote: fixed_teardown */
static void fixed_teardown(void *reg)
{
	struct srcu_lab *lab = reg;
	struct device *dev = unpublish(lab);

	SCENARIO_NOTE("teardown: current = NULL; tsrcu_synchronize(device's domain)");
	tsrcu_synchronize(&lab->device_domain);
	SCENARIO_NOTE("teardown: free(device)");
	device_free(dev);
}
/* end quote: fixed_teardown */

static const struct scenario_variant srcu_variants[] = {
	{
		.name = "naive",
		.story = "the reader locks the device's domain; teardown waits for another "
			 "domain's grace period, which does not wait for it",
		.expect = "heap-use-after-free",
		.create = lab_create,
		.callback = lab_callback,
		.teardown = naive_teardown,
		.destroy = lab_destroy,
	},
	{
		.name = "fixed",
		.story = "teardown waits for a grace period of the domain the reader locked",
		.create = lab_create,
		.callback = lab_callback,
		.teardown = fixed_teardown,
		.destroy = lab_destroy,
	},
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "srcu",
	.source_case = "a reader that may sleep holds a device while teardown frees it",
	.variants = srcu_variants,
	.n_variants = TEARDOWN_ARRAY_SIZE(srcu_variants),
	.uses_membarrier = tsrcu_uses_membarrier,
};
