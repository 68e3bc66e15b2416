/* SPDX-License-Identifier: BSD-2-Clause */
#include "patterns/global_flag/global_flag.h"

#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"

void global_flag_exit_misuse(void)
{
	teardown_misuse("global_flag", "global_flag_exit without a matching global_flag_enter");
}

void global_flag_wake_shutdown(struct global_flag *gf)
{
	futex_wake_all(&gf->in_flight);
}

/* quote: shutdown */
void global_flag_shutdown(struct global_flag *gf)
{
	uint32_t in_flight;

	/* seq_cst: the store half of teardown's store-load pair (see global_flag.h). */
	if (!atomic_exchange_explicit(&gf->alive, false, memory_order_seq_cst))
		teardown_misuse("global_flag", "global_flag_shutdown called twice");
	SCENARIO_NOTE("clears the alive flag");
	/*
	 * seq_cst: the load half. Reading 0 also acquires every admitted callback's decrement, so
	 * all their uses of the object happen before whatever the caller frees next.
	 */
	while ((in_flight = atomic_load_explicit(&gf->in_flight, memory_order_seq_cst)) != 0) {
		SCENARIO_NOTE("sees %u callback(s) in flight", in_flight);
		SCENARIO_TEARDOWN_BLOCKS();
		futex_wait_while(&gf->in_flight, in_flight);
	}
	SCENARIO_NOTE("sees no callback in flight");
}
/* end quote: shutdown */

void global_flag_reinit(struct global_flag *gf)
{
	/*
	 * Release: pairs with global_flag_enter()'s load of alive, so that a callback admitted
	 * from now on sees whatever the caller published for the new object before this call.
	 */
	if (atomic_exchange_explicit(&gf->alive, true, memory_order_release))
		teardown_misuse("global_flag", "global_flag_reinit on a flag that was not shut down");
}
