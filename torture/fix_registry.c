/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The registration point that drains. The registry is the framework's and lives for the whole
 * run; each object is published by registering a listener whose cookie is the object. The
 * writer registers the next object's listener, unregisters the old one (which returns only when
 * no call of it runs or can start) and retires the old object. A reader makes one call through
 * the registry; every listener it reaches uses its object.
 */
#include <stdint.h>

#include "patterns/common/die.h"
#include "patterns/registry/registry.h"
#include "torture/torture.h"

static struct registry registry_point;
static struct registry_handle registry_current;
static struct torture_obj *registry_current_obj;

static long registry_listener(void *cookie, long arg)
{
	torture_use((struct torture_reader *)(intptr_t)arg, cookie);
	return 0;
}

static void registry_publish(void)
{
	registry_current_obj = torture_obj_new();
	if (!registry_register(&registry_point, registry_listener, registry_current_obj,
			       &registry_current))
		teardown_die("registry", 0, "no free slot for the next listener");
}

static void registry_fix_setup(void)
{
	registry_init(&registry_point);
	registry_publish();
}

static void registry_read(struct torture_reader *t)
{
	long result;

	if (!registry_call(&registry_point, (long)(intptr_t)t, &result))
		atomic_fetch_add_explicit(&t->declined, 1, memory_order_relaxed);
}

static void registry_update(void)
{
	struct registry_handle old = registry_current;
	struct torture_obj *old_obj = registry_current_obj;

	registry_publish();
	registry_unregister(&registry_point, old);
	torture_obj_retire(old_obj, true);
}

static void registry_cleanup(void)
{
	registry_unregister(&registry_point, registry_current);
	torture_obj_retire(registry_current_obj, true);
	registry_shutdown(&registry_point);
}

const struct torture_fix torture_registry = {
	.name = "registry",
	.lab = "registry",
	.unit = "teardowns",
	.setup = registry_fix_setup,
	.read = registry_read,
	.update = registry_update,
	.cleanup = registry_cleanup,
};
