/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The registry lab: a driver registers a listener whose cookie is its instance, and stops by
 * unregistering and freeing the instance. With kauth_unlisten_scope() (naive) a call already
 * inside the listener reads the freed instance; with registry_unregister() (fixed) the stop
 * routine is written the same way and is right, because unregister drains.
 */
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/registry/registry.h"
#include "patterns/registry/unlisten.h"
#include "scenario/scenario.h"

struct registry_lab {
	struct registry registry;	/* the framework's: outlives the driver */
	struct unlisten_scope scope;	/* the naive framework's */
	struct registry_handle handle;
	struct device *instance;	/* the driver's pointer to itself */
};

/* The driver's listener: its cookie is the driver instance. */
/* quote: listener */
static long lab_listener(void *cookie, long arg)
{
	struct device *dev = cookie;

	(void)arg;
	SCENARIO_NOTE("the listener is called with its instance %p", cookie);
	SCENARIO_READER_WINDOW();
	return device_read_state(dev);
}
/* end quote: listener */

static struct registry_lab *lab_new(struct device *dev)
{
	struct registry_lab *lab = teardown_malloc("registry", sizeof(*lab));

	registry_init(&lab->registry);
	lab->scope = (struct unlisten_scope){ .fn = NULL, .cookie = NULL };
	lab->instance = dev;
	return lab;
}

static void *naive_create(struct device *dev)
{
	struct registry_lab *lab = lab_new(dev);

	unlisten_scope_listen(&lab->scope, lab_listener, dev);
	return lab;
}

static void *fixed_create(struct device *dev)
{
	struct registry_lab *lab = lab_new(dev);

	if (!registry_register(&lab->registry, lab_listener, dev, &lab->handle))
		teardown_die("registry", 0, "a fresh registry has no free slot");
	return lab;
}

static void lab_destroy(void *reg)
{
	struct registry_lab *lab = reg;

	registry_shutdown(&lab->registry);
	free(lab);
}

/* Naive: kauth_unlisten_scope(), then the driver frees itself. */
static long naive_callback(void *reg)
{
	struct registry_lab *lab = reg;
	long state = SCENARIO_DECLINED;

	return unlisten_scope_call(&lab->scope, 0, &state) ? state : SCENARIO_DECLINED;
}

/* quote: naive_stop */
static void naive_teardown(void *reg)
{
	struct registry_lab *lab = reg;

	unlisten_scope_unlisten(&lab->scope);
	device_free(lab->instance);
}
/* end quote: naive_stop */

/* Fixed: the same stop routine, through an unregister that drains. */
static long fixed_callback(void *reg)
{
	struct registry_lab *lab = reg;
	long state = SCENARIO_DECLINED;

	return registry_call(&lab->registry, 0, &state) ? state : SCENARIO_DECLINED;
}

/* quote: fixed_stop */
static void fixed_teardown(void *reg)
{
	struct registry_lab *lab = reg;

	SCENARIO_NOTE("unregisters the listener (registry_unregister): drains");
	registry_unregister(&lab->registry, lab->handle);
	SCENARIO_NOTE("registry_unregister returned: no call running, none can start");
	device_free(lab->instance);
}
/* end quote: fixed_stop */

static const struct scenario_variant registry_variants[] = {
	{
		.name = "naive",
		.story = "kauth_unlisten_scope: unregister returns while a call is in the listener",
		.expect = "heap-use-after-free",
		.create = naive_create,
		.callback = naive_callback,
		.teardown = naive_teardown,
		.destroy = lab_destroy,
	},
	{
		.name = "fixed",
		.story = "registry_unregister returns once no call runs and none can start",
		.create = fixed_create,
		.callback = fixed_callback,
		.teardown = fixed_teardown,
		.destroy = lab_destroy,
	},
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "registry",
	.source_case = "macOS kauth: kauth_unlisten_scope returns while a listener callback still "
		"runs",
	.variants = registry_variants,
	.n_variants = TEARDOWN_ARRAY_SIZE(registry_variants),
};
