/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kauth case: a kext's globals. kauth hands `instance` to every listener callback; the
 * kext unregisters (kauth_unlisten_scope) and frees the instance when it stops.
 * The three ways to enter the callback that this lab compares, as inline functions, so that the
 * race demo (variants.c) and the benchmark (global_flag_bench.c) run the same code.
 */
#ifndef TEARDOWN_PATTERNS_GLOBAL_FLAG_LISTENER_H
#define TEARDOWN_PATTERNS_GLOBAL_FLAG_LISTENER_H

#include <stdatomic.h>
#include <stddef.h>

#include "patterns/global_flag/global_flag.h"
#include "scenario/device.h"

struct global_flag_listener {
	_Atomic(struct device *) instance;	/* idata: relaxed, a plain pointer in spirit */
	atomic_bool alive;			/* the folk remedy's flag */
	struct global_flag gate;		/* the repair: flag plus activation count */
};

/* Naive: use the pointer kauth passed in. */
static inline struct device *global_flag_listener_enter_raw(struct global_flag_listener *l)
{
	struct device *dev = atomic_load_explicit(&l->instance, memory_order_relaxed);

	SCENARIO_NOTE("is handed the instance %p", (void *)dev);
	return dev;
}

/* Folk remedy: check the flag first. Acquire pairs with the teardown's release store of alive. */
/* quote: enter_flag */
static inline struct device *global_flag_listener_enter_flag(struct global_flag_listener *l)
{
	if (!atomic_load_explicit(&l->alive, memory_order_acquire)) {
		SCENARIO_NOTE("checks the alive flag: clear");
		return NULL;
	}
	SCENARIO_NOTE("checks the alive flag: set");
	return global_flag_listener_enter_raw(l);
}
/* end quote: enter_flag */

/* Repair: enter through the gate; the instance stays valid until global_flag_exit(). */
static inline struct device *global_flag_listener_enter_gate(struct global_flag_listener *l)
{
	if (!global_flag_enter(&l->gate))
		return NULL;
	return global_flag_listener_enter_raw(l);
}

static inline void global_flag_listener_exit_gate(struct global_flag_listener *l,
						  struct device *dev)
{
	(void)dev;
	global_flag_exit(&l->gate);
}

#define global_flag_listener_exit_none(l, dev) ((void)(l), (void)(dev))

#endif /* TEARDOWN_PATTERNS_GLOBAL_FLAG_LISTENER_H */
