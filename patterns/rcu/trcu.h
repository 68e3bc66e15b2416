/*
 * trcu: a minimal userspace RCU, general flavour (the reader announces itself with one store,
 * as liburcu's urcu-memb does; the writer pays with membarrier(2)). The QSBR flavour is in
 * trcu_qsbr.h. Every public symbol is trcu_*, so it links beside liburcu's rcu_* and urcu_*.
 *
 * Each registered thread owns one word: nesting depth in the low bits, a "registered" bit, and
 * the grace-period sequence its outermost trcu_read_lock() copied from trcu_state.section. A
 * grace period (trcu_synchronize) bumps the sequence, issues one membarrier, snapshots every
 * word, and waits for each reader that was inside a critical section to leave it: its depth
 * drops to 0, or its sequence moves on (it left, and entered a new section).
 *
 * Why it is enough (the grace-period guarantee): the caller unpublished the object before
 * trcu_synchronize(). A reader that found the object had stored its word before loading the
 * pointer. membarrier() acts as a full barrier in every running thread of the process, at some
 * point of its program, and as one in the writer between its unpublish and its scan; so either
 * the scan sees that reader's word, and waits for it, or the reader's load of the pointer
 * comes after the unpublish and cannot find the object. The wait ends by loading (acquire) the
 * word a reader stored (release) when it left: everything the reader did inside happens before
 * whatever the writer frees next. That edge is on the word itself, so ThreadSanitizer sees it;
 * the membarrier adds no happens-before edge and needs no annotation (see chapters/05-rcu.md).
 *
 * Without membarrier (old kernel, seccomp) the reader pays a full fence instead: the same
 * argument with two fences (store-buffering). TRCU_NO_MEMBARRIER=1 forces that mode at start-up.
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
#define TRCU_SEQ_ONE 0x20000UL		/* bumped by each grace period */

struct trcu_reader {
	_Atomic unsigned long word;
	unsigned long snapshot;		/* the writer's, under the registry lock */
	struct trcu_reader *prev, *next;	/* the registry */
};

struct trcu_state {
	bool membarrier;		/* decided once, before main() */
	_Atomic uint32_t writer_waiting;	/* futex: a writer sleeps until a reader leaves */
	/* REGISTERED plus the grace-period sequence: what an outermost trcu_read_lock() stores. */
	_Atomic unsigned long section;
};

extern struct trcu_state trcu_state;
extern _Thread_local struct trcu_reader trcu_self __attribute__((tls_model("initial-exec")));

void trcu_register_thread(void);
void trcu_unregister_thread(void);
/* Blocks until every read-side critical section that began before the call has ended. */
void trcu_synchronize(void);
/* Runs func(head) on the callback thread after a grace period. Callable from any thread. */
void trcu_call(struct trcu_head *head, void (*func)(struct trcu_head *head));
/* Blocks until every callback queued (by any thread) before the call has run. */
void trcu_barrier(void);
bool trcu_uses_membarrier(void);

/* Out of line: nested lock, unregistered thread, depth overflow; misuse; waking the writer. */
unsigned long trcu_read_lock_slow(unsigned long word);
void trcu_read_unlock_misuse(unsigned long word) __attribute__((noreturn));
void trcu_wake_writer(void);

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
	 * Outermost: store the current sequence, depth 1. The value does not depend on the load
	 * of w (that only picks the branch), so back-to-back sections do not chain through
	 * store-to-load forwarding. Relaxed: see trcu_synchronize() for why a stale one is safe.
	 */
	if (__builtin_expect((w & (TRCU_REGISTERED | TRCU_NEST_MASK)) == TRCU_REGISTERED, 1))
		w = atomic_load_explicit(&trcu_state.section, memory_order_relaxed) + 1;
	else
		w = trcu_read_lock_slow(w);
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

	if (__builtin_expect(!(w & TRCU_NEST_MASK), 0))
		trcu_read_unlock_misuse(w);
	/* release: this section's loads happen before the writer's acquire scan, then the free. */
	atomic_store_explicit(&trcu_self.word, w - 1, memory_order_release);
	/* Store-load again: our word, then writer_waiting (writer: writer_waiting, then words). */
	trcu_reader_fence();
	if (__builtin_expect(atomic_load_explicit(&trcu_state.writer_waiting,
						  memory_order_relaxed), 0))
		trcu_wake_writer();
}
/* end quote: read_unlock */

#endif
