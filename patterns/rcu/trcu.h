/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trcu: a minimal userspace RCU, general flavour (the reader announces itself with one store,
 * as liburcu's urcu-memb does; the writer pays with membarrier(2)). The QSBR flavour is in
 * trcu_qsbr.h. Every public symbol is trcu_*, so it links beside liburcu's rcu_* and urcu_*.
 *
 * Each registered thread owns one word: nesting depth in the low bits, a "registered" bit, and
 * the grace-period phase (one bit) its outermost trcu_read_lock() copied from
 * trcu_state.section. A grace period (trcu_synchronize), as liburcu's urcu-memb does it:
 *
 *	membarrier	the caller's unpublish, then everything below
 *	wait, phase 1	for each section that copied the other phase (a reader that loaded
 *			the phase before the last flip and stored it late)
 *	flip the phase
 *	wait, phase 2	for each section seen in phase 1 with the phase the flip made old
 *
 * A reader is waited for only while its word shows depth >= 1 and the phase being waited out;
 * a word at depth 0, or a section with the phase that is current, lets the writer go on. So a
 * reader that re-enters back to back holds phase 1 for at most the section it was in at the
 * membarrier, and phase 2 for the section it is in at the flip and any it begins before the
 * flip reaches it (in practice none or one), however long it keeps entering.
 *
 * Why it is enough (the grace-period guarantee): the caller unpublished the object before
 * trcu_synchronize(). Take a section S that found the object; it stored its word (depth 1,
 * phase p) and only then loaded the pointer. membarrier() acts as a full barrier in every
 * running thread of the process, at some point B of its program, and as one in the writer
 * between the unpublish and everything after. S's pointer load did not see the unpublish, so
 * it comes before B; so does S's store of its word, and the load of p before it. Hence:
 *  - every scan sees S's word or a later value; a word at depth 0, or with a phase copied
 *    later, means S has ended;
 *  - p was loaded before this grace period's flip: it is the phase before the flip, or, if the
 *    reader was delayed between its load of the phase and its store, an older value, which
 *    may be either phase. Phase 1 waits while the word shows a section with the other phase,
 *    so when it lets the reader go the word shows depth 0 (S has ended), or a section with
 *    the current phase: S or a later one. Phase 2, after the flip, waits until the word shows
 *    depth 0 or a section with the new phase; S has neither, so S has ended.
 * One phase is not enough: a reader delayed between its load and its store across one flip
 * stores a phase that the next grace period's flip makes "new", and that grace period would
 * not wait for it (tested: grace/a_reader_delayed_across_a_flip_is_waited_for).
 * The wait ends by loading (acquire) the word a reader stored (release) when it left or
 * re-entered: everything the reader did inside S happens before whatever the writer frees
 * next. That edge is on the word itself, so ThreadSanitizer sees it; the membarrier adds no
 * happens-before edge and needs no annotation (see chapters/05-rcu.md).
 *
 * Without membarrier (old kernel, seccomp) the reader pays a full fence after its store
 * instead: the same argument with two fences, store-buffering for "every scan sees S's word"
 * and message passing for "p was loaded before the flip". TRCU_NO_MEMBARRIER=1 forces that
 * mode at start-up.
 *
 * Misuse aborts with "teardown: rcu: misuse: ...": trcu_read_lock() on a thread that did not
 * call trcu_register_thread(); trcu_read_unlock() without trcu_read_lock(); trcu_synchronize()
 * or trcu_barrier() inside a read-side critical section (it would wait for itself);
 * trcu_unregister_thread() inside one; registering twice; unregistering unregistered.
 * A registered thread must unregister before it exits.
 */
#ifndef TEARDOWN_PATTERNS_RCU_TRCU_H
#define TEARDOWN_PATTERNS_RCU_TRCU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "patterns/common/asymmetric_fence.h"
#include "patterns/common/compiler.h"
#include "scenario/hooks.h"

/* Publication, as in the kernel: release on store, acquire (consume, in spirit) on load. */
#define trcu_assign_pointer(p, v) atomic_store_explicit(&(p), (v), memory_order_release)
#define trcu_dereference(p) atomic_load_explicit(&(p), memory_order_acquire)

/* Embedded in an object retired with trcu_call(), like the kernel's struct rcu_head. */
struct trcu_head {
	struct trcu_head *next;
	void (*func)(struct trcu_head *head);
};

#define TRCU_NEST_MASK 0xffffUL		/* read-side nesting depth */
#define TRCU_REGISTERED 0x10000UL	/* set from register to unregister */
#define TRCU_PHASE 0x20000UL		/* flipped by each grace period */

struct trcu_reader {
	_Atomic unsigned long word;
	unsigned char wait;		/* the writer's (TRCU_WAIT_*), under the registry lock */
	struct trcu_reader *prev, *next;	/* the registry */
};

struct trcu_state {
	bool membarrier;		/* decided once, before main() */
	_Atomic uint32_t writer_waiting;	/* futex: a writer sleeps until a reader leaves */
	/* REGISTERED plus the grace-period phase: what an outermost trcu_read_lock() stores. */
	_Atomic unsigned long section;
};

void trcu_register_thread(void);
void trcu_unregister_thread(void);
/* Blocks until every read-side critical section that began before the call has ended. */
void trcu_synchronize(void);
/* Runs func(head) on the callback thread after a grace period. Callable from any thread. */
void trcu_call(struct trcu_head *head, void (*func)(struct trcu_head *head));
/* Blocks until every callback queued (by any thread) before the call has run. */
void trcu_barrier(void);
bool trcu_uses_membarrier(void);

/* private: called only by the inline functions below; not API */
extern struct trcu_state trcu_state;
extern _Thread_local struct trcu_reader trcu_self __attribute__((tls_model("initial-exec")));
/* Out of line: nested lock, unregistered thread, depth overflow; misuse; waking the writer. */
unsigned long trcu_read_lock_slow(unsigned long word);
void trcu_read_unlock_misuse(unsigned long word) __attribute__((noreturn));
void trcu_wake_writer(void);

/*
 * Where a reader preempted between its load of the phase and its store of its word stops. A
 * unit test defines it before including this file, to hold a reader there across a grace period.
 */
#ifndef TRCU_READ_LOCK_PREEMPTED
#define TRCU_READ_LOCK_PREEMPTED() ((void)0)
#endif

/* The reader's half of the store-load pairing with the writer's membarrier (or fence). */
static inline void trcu_reader_fence(void)
{
	asym_fence_light(trcu_state.membarrier);
}

/* quote: read_lock */
static inline void trcu_read_lock(void)
{
	unsigned long w = atomic_load_explicit(&trcu_self.word, memory_order_relaxed);

	/*
	 * Outermost: store the current phase, depth 1. The value does not depend on the load
	 * of w (that only picks the branch), so back-to-back sections do not chain through
	 * store-to-load forwarding. Relaxed: a stale phase is what phase 1 of trcu_synchronize()
	 * waits out (see the top of this file).
	 */
	if (teardown_likely((w & (TRCU_REGISTERED | TRCU_NEST_MASK)) == TRCU_REGISTERED))
		w = atomic_load_explicit(&trcu_state.section, memory_order_relaxed) + 1;
	else
		w = trcu_read_lock_slow(w);
	TRCU_READ_LOCK_PREEMPTED();	/* a unit test's stop; nothing elsewhere */
	/*
	 * The word must be visible before this section loads any RCU pointer: the store-load pair
	 * with the writer's unpublish-then-scan, ordered by trcu_reader_fence() here and membarrier
	 * there. Release (a plain mov on x86) so that a writer that reads this value also
	 * synchronizes with the unlock before it, without relying on release sequences.
	 */
	atomic_store_explicit(&trcu_self.word, w, memory_order_release);
	trcu_reader_fence();
}
/* end quote: read_lock */

/* quote: read_unlock */
static inline void trcu_read_unlock(void)
{
	unsigned long w = atomic_load_explicit(&trcu_self.word, memory_order_relaxed);

	if (teardown_unlikely(!(w & TRCU_NEST_MASK)))
		trcu_read_unlock_misuse(w);
	/* release: this section's loads happen before the writer's acquire scan, then the free. */
	atomic_store_explicit(&trcu_self.word, w - 1, memory_order_release);
	/* The writer may return and free from here on: what follows touches only trcu_state. */
	SCENARIO_RELEASER_TAIL();
	/* Store-load again: our word, then writer_waiting (writer: writer_waiting, then words). */
	trcu_reader_fence();
	if (teardown_unlikely(atomic_load_explicit(&trcu_state.writer_waiting,
						   memory_order_relaxed)))
		trcu_wake_writer();
}
/* end quote: read_unlock */

#endif /* TEARDOWN_PATTERNS_RCU_TRCU_H */
