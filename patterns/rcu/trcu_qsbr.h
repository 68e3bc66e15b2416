/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trcu_qsbr: the quiescent-state-based flavour of trcu (liburcu's urcu-qsbr, the kernel's
 * non-preemptible RCU). The read side is empty. Instead, each registered thread says now and
 * then that it holds no RCU pointer at all (trcu_qsbr_quiescent_state), or that it will not
 * read for a while (trcu_qsbr_thread_offline). A registered thread starts online.
 *
 * Why it is enough: trcu_qsbr_synchronize() bumps a global counter (odd, stepping by 2, so
 * that it never reads as OFFLINE, 0, even when it wraps) after the caller's unpublish and
 * waits until every online reader has copied the new value into its own word (a quiescent
 * state after the bump) or is offline (word 0). A reader that copied the new
 * value had loaded it (acquire) after the bump: its later loads of the pointer see the
 * unpublish. Everything before its quiescent state happens before the writer's acquire load of
 * its word, and so before the free. Quiescent states and going offline/online are rare and pay
 * a full fence; the read side pays nothing.
 *
 * Misuse aborts with "teardown: rcu: misuse: ...": a quiescent state, offline or online on an
 * unregistered thread; trcu_qsbr_synchronize() on an online registered thread (it would wait
 * for itself: go offline first); registering twice; unregistering unregistered. The empty read
 * side cannot check anything: a reader that keeps a pointer past its quiescent state is a bug
 * no one detects, as with liburcu.
 */
#ifndef TEARDOWN_PATTERNS_RCU_TRCU_QSBR_H
#define TEARDOWN_PATTERNS_RCU_TRCU_QSBR_H

#include <stdatomic.h>
#include <stdint.h>

#include "patterns/rcu/trcu.h"

#define TRCU_QSBR_OFFLINE 0UL

struct trcu_qsbr_reader {
	_Atomic unsigned long ctr;	/* last grace-period counter seen, or OFFLINE */
	_Atomic uint32_t registered;
	struct trcu_qsbr_reader *prev, *next;
};

void trcu_qsbr_register_thread(void);
void trcu_qsbr_unregister_thread(void);
void trcu_qsbr_quiescent_state(void);
void trcu_qsbr_thread_offline(void);
void trcu_qsbr_thread_online(void);
void trcu_qsbr_synchronize(void);
/* For tests: is a writer asleep, waiting for some reader's quiescent state? */
bool trcu_qsbr_writer_sleeps(void);
/* For tests: sets the grace-period counter (odd), with no grace period running. */
void trcu_qsbr_set_counter(unsigned long ctr);

/* quote: qsbr_read */
static inline void trcu_qsbr_read_lock(void)
{
}

static inline void trcu_qsbr_read_unlock(void)
{
}
/* end quote: qsbr_read */

#endif /* TEARDOWN_PATTERNS_RCU_TRCU_QSBR_H */
