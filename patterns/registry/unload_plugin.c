/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A driver as a loadable module: it allocates its instance, registers a listener with the
 * framework, and stops by unregistering and freeing. With count_itself it also keeps chapter 1's
 * repair, the flag and activation count (global_flag.h), in its own data: the count drains
 * before unregister, and the listener's last instructions after its decrement are still this
 * module's code.
 */
#include <stdlib.h>

#include "patterns/common/die.h"
#include "patterns/global_flag/global_flag.h"
#include "patterns/registry/unload_plugin.h"

struct plugin_instance {
	long state;
};

static const struct registry_plugin_host *plugin_host;
static struct plugin_instance *plugin_self;
static bool plugin_counts_itself;
static struct global_flag plugin_gate = GLOBAL_FLAG_INIT;

/* quote: plugin_listener */
static long plugin_listener(void *cookie, long arg)
{
	struct plugin_instance *self = cookie;
	long state;

	if (plugin_counts_itself && !global_flag_enter(&plugin_gate))
		return arg;
	state = self->state;
	if (plugin_counts_itself)
		global_flag_exit(&plugin_gate);	/* the count drops: stop may return now */
	plugin_host->last_step();		/* still this module's code, until the return */
	return state;
}

void registry_plugin_stop(void)
{
	if (plugin_counts_itself)
		global_flag_shutdown(&plugin_gate);	/* waits for the count to drain */
	plugin_host->unlisten();
	free(plugin_self);
}
/* end quote: plugin_listener */

void *registry_plugin_start(const struct registry_plugin_host *host, bool count_itself)
{
	plugin_host = host;
	plugin_counts_itself = count_itself;
	plugin_self = teardown_malloc("registry", sizeof(*plugin_self));
	plugin_self->state = 42;
	if (!host->listen(plugin_listener, plugin_self))
		teardown_die("registry", 0, "the framework refused the listener");
	return (void *)plugin_listener;
}
