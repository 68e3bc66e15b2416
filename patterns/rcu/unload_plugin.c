/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A loadable module, as a shared object: it publishes one object, and its exit routine retires
 * that object with the call API it is handed (call_rcu in a kernel module). The callback that
 * frees the object is code in this module, so it must run before the module is unloaded.
 */
#include <stdlib.h>
#include <unistd.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/rcu/trcu.h"

struct trcu_plugin_object {
	struct trcu_head rcu;
	long state;
};

/* quote: plugin_callback */
static void plugin_free_object(struct trcu_head *head)
{
	static const char line[] = "module: plugin_free_object() runs, frees the object\n";

	if (write(STDOUT_FILENO, line, sizeof(line) - 1) < 0)
		abort();
	free(teardown_container_of(head, struct trcu_plugin_object, rcu));
}

/* The module's exit routine: unpublished by the caller, retired here; returns the callback. */
void *trcu_plugin_exit(struct trcu_plugin_object *obj,
		       void (*call)(struct trcu_head *head, void (*func)(struct trcu_head *head)))
{
	call(&obj->rcu, plugin_free_object);
	return (void *)plugin_free_object;
}
/* end quote: plugin_callback */

struct trcu_plugin_object *trcu_plugin_init(void)
{
	struct trcu_plugin_object *obj = teardown_malloc("rcu", sizeof(*obj));

	obj->state = 42;
	return obj;
}
