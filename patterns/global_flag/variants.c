/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The global-flag lab: the raw pointer, the folk remedies, and the repair, plugged into the one
 * teardown scenario. Teardown is written out in full for each, as a kext's stop routine would be.
 */
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/global_flag/listener.h"
#include "scenario/scenario.h"

static void *listener_create(struct device *dev)
{
	struct global_flag_listener *l = teardown_malloc("global_flag", sizeof(*l));

	*l = (struct global_flag_listener){
		.instance = dev, .alive = true, .gate = GLOBAL_FLAG_INIT
	};
	return l;
}

static void listener_destroy(void *reg)
{
	free(reg);
}

static struct device *listener_unlisten(struct global_flag_listener *l)
{
	SCENARIO_NOTE("unregisters the listener (kauth_unlisten_scope)");
	return atomic_exchange_explicit(&l->instance, NULL, memory_order_relaxed);
}

/* Naive: unregister and free; a callback already running keeps its pointer. */
SCENARIO_DEFINE_CALLBACK(raw_callback, struct global_flag_listener,
			 global_flag_listener_enter_raw, global_flag_listener_exit_none)

static void raw_teardown(void *reg)
{
	device_free(listener_unlisten(reg));
}

/* Folk remedy 1: clear a global flag before unregistering. */
SCENARIO_DEFINE_CALLBACK(flag_callback, struct global_flag_listener,
			 global_flag_listener_enter_flag, global_flag_listener_exit_none)

/* quote: flag_teardown */
static void flag_clear(struct global_flag_listener *l)
{
	/* release: pairs with the callback's acquire load; the flag itself is not what is wrong. */
	atomic_store_explicit(&l->alive, false, memory_order_release);
	SCENARIO_NOTE("clears the alive flag");
}

static void flag_teardown(void *reg)
{
	flag_clear(reg);
	device_free(listener_unlisten(reg));
}
/* end quote: flag_teardown */

/* Folk remedy 2: ... and sleep a second before freeing. */
/* quote: flag_sleep_teardown */
static void flag_sleep_teardown(void *reg)
{
	flag_clear(reg);
	struct device *dev = listener_unlisten(reg);
	scenario_grace_sleep(1);
	device_free(dev);
}
/* end quote: flag_sleep_teardown */

/* The repair: flag plus activation count, and teardown drains the count before freeing. */
SCENARIO_DEFINE_CALLBACK(gate_callback, struct global_flag_listener,
			 global_flag_listener_enter_gate, global_flag_listener_exit_gate)

/* quote: gate_teardown */
static void gate_teardown(void *reg)
{
	struct global_flag_listener *l = reg;

	global_flag_shutdown(&l->gate);
	device_free(listener_unlisten(l));
}
/* end quote: gate_teardown */

static const struct scenario_variant global_flag_variants[] = {
	{
		.name = "naive",
		.story = "the callback uses the raw instance pointer kauth handed it",
		.expect = "heap-use-after-free",
		.create = listener_create,
		.callback = raw_callback,
		.teardown = raw_teardown,
		.destroy = listener_destroy,
	},
	{
		.name = "flag",
		.story = "a global alive flag, checked on entry, cleared before unregistering",
		.expect = "heap-use-after-free",
		.create = listener_create,
		.callback = flag_callback,
		.teardown = flag_teardown,
		.destroy = listener_destroy,
	},
	{
		.name = "flag_sleep",
		.story = "the flag, and sleep a second before freeing",
		.expect = "data race",
		.create = listener_create,
		.callback = flag_callback,
		.teardown = flag_sleep_teardown,
		.destroy = listener_destroy,
	},
	{
		.name = "fixed",
		.story = "the flag plus an activation count that teardown drains",
		.create = listener_create,
		.callback = gate_callback,
		.teardown = gate_teardown,
		.destroy = listener_destroy,
	},
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "global_flag",
	.source_case = "macOS kauth: a listener callback still running when the kext frees its "
		"instance",
	.variants = global_flag_variants,
	.n_variants = TEARDOWN_ARRAY_SIZE(global_flag_variants),
};
