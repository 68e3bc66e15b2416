/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu_ref: Linux's reference count with a per-CPU fast mode (include/linux/percpu-refcount.h,
 * lib/percpu-refcount.c), with per-thread counters. While the ref is live, get and put add to
 * the caller's own counter, on its own cache line, with plain stores; no one knows the total.
 * Kill switches the ref to atomic mode for good; from the moment the switch has summed the
 * counters into the atomic count, the count is exact, and the put that brings it to zero runs
 * the release callback.
 *
 * The hot path:  get/put:  section begins (own seq odd); load mode; if percpu: own counter +/-1;
 *                          else the atomic count; section ends (own seq even, release)
 *                tryget_live: the same, but fails (and counts nothing) once the ref is dead
 * Kill:          mode = ATOMIC|DEAD; put the initial reference (atomic: the count holds a bias
 *                while the counters are live, so it cannot reach zero); take the switch's own
 *                reference; grace period: membarrier, then wait for every section that is open;
 *                count += sum of the counters - bias (now exact); confirm(ref); put the switch's
 *                reference (release(ref) if it was the last).
 *
 * Why the sum is exact (the grace period): a get or put reads the mode and updates a counter
 * inside one section, as Linux's do under rcu_read_lock_sched() (preemption off). Each section
 * stores its seq (odd), then loads the mode; kill stores the mode, then reads every seq. With the
 * writer's membarrier (a full barrier in every running thread) and the reader's compiler barrier,
 * a section either loads the new mode (and touches only the atomic count), or stored its odd seq
 * where the scan sees it, and the scan waits for that seq to change: the section has ended and
 * its counter update is done. After the scan no section updates a counter again, so the sum
 * is final. Without the grace period (the naive twin) a get that loaded "percpu" before kill
 * stored ATOMIC increments its counter after the sum: the count reaches zero under a holder.
 *
 * The grace period is the sections themselves plus membarrier, not trcu: Linux uses RCU-sched
 * because its read side costs nothing (preemption is already off around this_cpu_inc), and a
 * section here is likewise a few instructions that cannot block. The seq words are one per
 * thread for all refs, in a static table, as an RCU's are: a putter that has dropped the count
 * touches only its own static word, never the ref, which release may have freed.
 *
 * ThreadSanitizer sees the edges on the variables: a section ends with a release store of its
 * seq; the scan reads each seq with acquire, and the switch's add and every atomic-mode put are
 * read-modify-writes with release and acquire, so the last put synchronizes with every use.
 *
 * Contract (as Linux): percpu_ref_register_thread() before a thread's first get (at most
 * PERCPU_REF_MAX_THREADS at once); get only while holding a reference (else tryget_live); one
 * put per get (on any thread); kill once; exit or reinit after release has run. A get or put may run on
 * a different thread from its pair: the counters are summed, not matched. Misuse aborts with
 * "teardown: rundown: misuse: ...".
 */
#ifndef TEARDOWN_PATTERNS_RUNDOWN_PERCPU_REF_H
#define TEARDOWN_PATTERNS_RUNDOWN_PERCPU_REF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "patterns/common/asymmetric_fence.h"
#include "patterns/common/compiler.h"
#include "scenario/hooks.h"

#define PERCPU_REF_MAX_THREADS 64

#define PERCPU_REF_ATOMIC 1u	/* mode: gets and puts use the atomic count */
#define PERCPU_REF_DEAD 2u	/* mode: killed; tryget_live fails */
/* Held by the atomic count while the counters are live (lib/percpu-refcount.c's bias). */
#define PERCPU_REF_BIAS (INT64_C(1) << 62)

struct percpu_ref;
typedef void percpu_ref_func_t(struct percpu_ref *ref);

struct percpu_ref_counter {
	TEARDOWN_CACHE_ALIGNED _Atomic uint64_t n;	/* written by the slot's thread only */
};

struct percpu_ref {
	TEARDOWN_CACHE_ALIGNED _Atomic uint32_t mode;	/* read by every get and put */
	percpu_ref_func_t *release;
	struct percpu_ref_counter *counters;	/* PERCPU_REF_MAX_THREADS of them */
	TEARDOWN_CACHE_ALIGNED _Atomic int64_t count;	/* atomic mode; + bias while percpu */
};

/* A thread's section word (odd: inside a get or put), in a static table. */
struct percpu_ref_slot {
	TEARDOWN_CACHE_ALIGNED _Atomic uint32_t seq;
};

/* percpu_ref_init(ref, release, 0, gfp): live, percpu mode, one reference (the initial one). */
void percpu_ref_init(struct percpu_ref *ref, percpu_ref_func_t *release);
/* A released ref back to percpu mode with one reference, for reuse (percpu_ref_reinit). */
void percpu_ref_reinit(struct percpu_ref *ref);
/* Frees the counters. Only once release has run. */
void percpu_ref_exit(struct percpu_ref *ref);
void percpu_ref_register_thread(void);
void percpu_ref_unregister_thread(void);
/*
 * Kills the ref and drops the initial reference. confirm (may be NULL) runs once, before this
 * returns, when every get sees the kill; the count is exact from then on. release runs on
 * whichever thread drops the count to zero, this one included.
 */
void percpu_ref_kill_and_confirm(struct percpu_ref *ref, percpu_ref_func_t *confirm);
void percpu_ref_kill(struct percpu_ref *ref);
/* True once the ref is in atomic mode with a count of zero (release has run or is running). */
bool percpu_ref_is_zero(struct percpu_ref *ref);
bool percpu_ref_uses_membarrier(void);

/* private: called only by the inline functions below, and by the lab's naive twin; not API */
extern struct percpu_ref_slot percpu_ref_slots[PERCPU_REF_MAX_THREADS];
/* This thread's slot index plus one; 0 while unregistered. */
extern _Thread_local unsigned percpu_ref_self __attribute__((tls_model("initial-exec")));
extern bool percpu_ref_membarrier;
void percpu_ref_unregistered_misuse(void) __attribute__((noreturn, cold));
/* Atomic mode: a get (tryget_live: false if dead), a put. Return what the inline path returns. */
bool percpu_ref_get_atomic(struct percpu_ref *ref, bool live_only);
int64_t percpu_ref_put_atomic(struct percpu_ref *ref);
/* The put that found the count at old (1: run release; below 1: misuse). */
void percpu_ref_put_done(struct percpu_ref *ref, int64_t old);
/* The sum of the counters and the bias, into the atomic count: the count becomes exact. */
void percpu_ref_fold(struct percpu_ref *ref);

/*
 * Test points, compiled in only by the unit test's build of percpu_ref.c (it defines the
 * function): a get has read "percpu" and is about to count; kill's scan found a section open.
 */
enum percpu_ref_point { PERCPU_REF_COUNTING, PERCPU_REF_SCAN_WAITS };
#ifdef PERCPU_REF_TEST_POINTS
void percpu_ref_test_point(enum percpu_ref_point at);
#define PERCPU_REF_TEST_POINT(at) percpu_ref_test_point(at)
#else
#define PERCPU_REF_TEST_POINT(at) ((void)0)
#endif

/*
 * Where a get that has read "percpu" stops before it counts. The rundown lab's variants define
 * it before including this file, to hold a reader there while kill runs.
 */
#ifndef PERCPU_REF_GET_COUNTING
#define PERCPU_REF_GET_COUNTING() PERCPU_REF_TEST_POINT(PERCPU_REF_COUNTING)
#endif

/* quote: percpu_section */
static inline struct percpu_ref_slot *percpu_ref_section_begin(void)
{
	unsigned self = percpu_ref_self;
	struct percpu_ref_slot *s;

	if (teardown_unlikely(self == 0))
		percpu_ref_unregistered_misuse();
	s = &percpu_ref_slots[self - 1];
	/* Own word: only this thread writes it, so a plain store of the next (odd) value. */
	atomic_store_explicit(&s->seq, atomic_load_explicit(&s->seq, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	/* seq, then mode: pairs with kill's mode, then seq (membarrier there). */
	asym_fence_light(percpu_ref_membarrier);
	return s;
}

static inline void percpu_ref_section_end(struct percpu_ref_slot *s)
{
	/* release: the counter update (and the caller's uses) before the scan's acquire load. */
	atomic_store_explicit(&s->seq, atomic_load_explicit(&s->seq, memory_order_relaxed) + 1,
			      memory_order_release);
}
/* end quote: percpu_section */

/* Own counter += delta: plain load and store, no locked instruction (this_cpu_add). */
static inline void percpu_ref_counter_add(struct percpu_ref *ref, uint64_t delta)
{
	_Atomic uint64_t *n = &ref->counters[percpu_ref_self - 1].n;

	atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + delta,
			      memory_order_relaxed);	/* the section's end orders it */
}

static inline bool percpu_ref_percpu_mode(struct percpu_ref *ref)
{
	/*
	 * acquire (a plain mov on x86): pairs with percpu_ref_reinit()'s release store, so a get
	 * of the new life sees its zeroed counters (Linux: the address dependency through
	 * percpu_count_ptr). Against kill, the section's barrier pairing decides what it sees.
	 */
	return !(atomic_load_explicit(&ref->mode, memory_order_acquire) & PERCPU_REF_ATOMIC);
}

/* quote: percpu_tryget_live */
static inline bool percpu_ref_tryget_live(struct percpu_ref *ref)
{
	struct percpu_ref_slot *s = percpu_ref_section_begin();
	bool got;

	if (teardown_likely(percpu_ref_percpu_mode(ref))) {
		PERCPU_REF_GET_COUNTING();
		percpu_ref_counter_add(ref, 1);
		got = true;
	} else {
		got = percpu_ref_get_atomic(ref, true);
	}
	percpu_ref_section_end(s);
	SCENARIO_NOTE("percpu_ref_tryget_live: %s", got ? "counted" : "dead, turned away");
	return got;
}
/* end quote: percpu_tryget_live */

/* percpu_ref_get: the caller already holds a reference, so the count cannot be zero. */
static inline void percpu_ref_get(struct percpu_ref *ref)
{
	struct percpu_ref_slot *s = percpu_ref_section_begin();

	if (teardown_likely(percpu_ref_percpu_mode(ref)))
		percpu_ref_counter_add(ref, 1);
	else
		percpu_ref_get_atomic(ref, false);
	percpu_ref_section_end(s);
}

/* quote: percpu_put */
static inline void percpu_ref_put(struct percpu_ref *ref)
{
	struct percpu_ref_slot *s = percpu_ref_section_begin();
	bool percpu = percpu_ref_percpu_mode(ref);
	int64_t old = 2;	/* percpu mode: never the last put */

	if (teardown_likely(percpu))
		percpu_ref_counter_add(ref, (uint64_t)-1);
	else
		old = percpu_ref_put_atomic(ref);
	percpu_ref_section_end(s);
	SCENARIO_NOTE("percpu_ref_put: %s", percpu ? "own counter - 1" : "atomic count - 1");
	/* Unless we dropped the last reference, `ref` may be freed from here on. */
	if (teardown_unlikely(old <= 1))
		percpu_ref_put_done(ref, old);
	else
		SCENARIO_RELEASER_TAIL();
}
/* end quote: percpu_put */

#endif /* TEARDOWN_PATTERNS_RUNDOWN_PERCPU_REF_H */
