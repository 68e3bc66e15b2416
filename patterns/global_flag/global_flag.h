/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Global flag with an activation count: the smallest correct repair of the kauth folk remedy.
 *
 * The folk remedy checks an "alive" flag on entry to the callback and clears it before
 * unregistering. That narrows the window and does not close it: a callback that passed the
 * check still runs when teardown frees. The repair counts callbacks in flight *before* looking
 * at the flag, and teardown waits for the count to drain after clearing it (the shape of
 * Apple's KauthORama sample).
 *
 * Why it is enough: each side stores, then loads what the other stored (a store-load pattern).
 *   callback: in_flight++ ; load alive      teardown: alive = false ; load in_flight
 * With all four accesses seq_cst, at least one side sees the other's store: either the callback
 * sees alive == false and leaves without touching the device, or teardown sees in_flight > 0
 * and waits. Acquire/release alone would allow both loads to miss both stores.
 *
 * What it cannot do: protect the code. The flag, the count and the callback's last
 * instructions live in the kext; see chapters/01-global-flag.md.
 */
#ifndef TEARDOWN_PATTERNS_GLOBAL_FLAG_GLOBAL_FLAG_H
#define TEARDOWN_PATTERNS_GLOBAL_FLAG_GLOBAL_FLAG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "patterns/common/compiler.h"
#include "scenario/hooks.h"

struct global_flag {
	atomic_bool alive;
	_Atomic uint32_t in_flight;	/* callbacks between enter and exit */
};

#define GLOBAL_FLAG_INIT { .alive = true, .in_flight = 0 }

/* private: called only by the inline functions below; not API */
/* global_flag_exit() without a matching enter (the count was 0): aborts. */
void global_flag_exit_misuse(void) __attribute__((noreturn, cold));
/* The last callback out, after shutdown began: wakes global_flag_shutdown(). */
void global_flag_wake_shutdown(struct global_flag *gf);

/* Leaves a callback that global_flag_enter() admitted. Exit without enter aborts with a message. */
/* quote: exit */
static inline void global_flag_exit(struct global_flag *gf)
{
	/*
	 * seq_cst: pairs with global_flag_shutdown()'s load of in_flight (see the wake below).
	 * Past this decrement teardown may free the object; the flag and the count must outlive
	 * it (they live beside the code, not in the object), since the load and the wake below
	 * still touch them.
	 */
	uint32_t before = atomic_fetch_sub_explicit(&gf->in_flight, 1, memory_order_seq_cst);

	SCENARIO_RELEASER_TAIL();
	if (before == 1) {
		/*
		 * The last callback out wakes teardown, if teardown has begun. seq_cst, with the
		 * fetch_sub above: if teardown loaded in_flight == 1 before our decrement and went
		 * to sleep on it, its earlier store of alive = false precedes that load, which
		 * precedes our decrement and this load in the single seq_cst order: we see false.
		 */
		if (teardown_unlikely(!atomic_load_explicit(&gf->alive, memory_order_seq_cst)))
			global_flag_wake_shutdown(gf);
	} else if (teardown_unlikely(before == 0)) {
		global_flag_exit_misuse();
	}
}
/* end quote: exit */

/*
 * Enters a callback. Returns true if the object may be used until global_flag_exit(); false
 * once global_flag_shutdown() has begun (then do not call global_flag_exit()).
 */
/* quote: enter */
static inline bool global_flag_enter(struct global_flag *gf)
{
	/* seq_cst: the store half of the callback's store-load pair (see the top of this file). */
	atomic_fetch_add_explicit(&gf->in_flight, 1, memory_order_seq_cst);
	SCENARIO_NOTE("counts itself in flight");
	/* seq_cst: the load half; pairs with the exchange of alive in global_flag_shutdown(). */
	if (teardown_likely(atomic_load_explicit(&gf->alive, memory_order_seq_cst))) {
		SCENARIO_NOTE("checks the alive flag: set");
		return true;
	}
	SCENARIO_NOTE("checks the alive flag: clear");
	global_flag_exit(gf);
	return false;
}
/* end quote: enter */

/*
 * Clears the flag, then blocks until every admitted callback has left. Afterwards no callback
 * uses the object, and global_flag_enter() returns false. Calling it twice aborts.
 */
void global_flag_shutdown(struct global_flag *gf);

/*
 * Admits callbacks again after global_flag_shutdown() has returned: the registration armed
 * anew for a new object, as rundown_reinit() does for a rundown. Calling it on a flag that is
 * still alive aborts. Calling it while global_flag_shutdown() still waits is misuse that is not
 * detected (the count also holds callbacks on their way to being turned away).
 */
void global_flag_reinit(struct global_flag *gf);

#endif /* TEARDOWN_PATTERNS_GLOBAL_FLAG_GLOBAL_FLAG_H */
