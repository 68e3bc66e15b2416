/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Between the unload demo (the framework and the loader) and its module (a driver as a shared
 * object): what the framework offers the driver, and the module's entry points.
 */
#ifndef TEARDOWN_PATTERNS_REGISTRY_UNLOAD_PLUGIN_H
#define TEARDOWN_PATTERNS_REGISTRY_UNLOAD_PLUGIN_H

#include <stdbool.h>

#include "patterns/registry/registry.h"

struct registry_plugin_host {
	bool (*listen)(registry_fn *fn, void *cookie);	/* kauth_listen_scope, or register */
	void (*unlisten)(void);		/* kauth_unlisten_scope, or registry_unregister */
	/*
	 * Called by the listener as its very last step before it returns (after its activation
	 * count's decrement, where it keeps one): the demo holds the thread here.
	 */
	void (*last_step)(void);
};

/*
 * The module's entry points, found with dlsym. count_itself: the driver keeps chapter 1's
 * flag and activation count around its listener (the best a driver can do with kauth).
 */
typedef void *registry_plugin_start_fn(const struct registry_plugin_host *host, bool count_itself);
typedef void registry_plugin_stop_fn(void);

#endif /* TEARDOWN_PATTERNS_REGISTRY_UNLOAD_PLUGIN_H */
