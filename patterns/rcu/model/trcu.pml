/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trcu's grace period (patterns/rcu/trcu.h, trcu.c), as Spin sees it: NR readers (1 or 2) run
 * read-side sections that find one object through a published pointer and use it; the writer
 * runs NGP grace periods (trcu_synchronize) and before the last one unpublishes the object; after
 * it, it frees the object (variants.c synchronize_teardown).
 *
 * What is modelled, step by step (each step names the C it stands for):
 *   - the reader's word: depth (nesting, NEST adds an inner section) and the phase its outermost
 *     trcu_read_lock() copied from trcu_state.section (the snapshot), the store, the fence;
 *   - trcu_read_unlock(): the store, the fence, the look at writer_waiting, the wake;
 *   - trcu_synchronize(): the membarrier, the phase load, phase 1, the flip, phase 2 (the
 *     sequence), each wait a loop of scans (trcu_scan) that may spin or take the futex sleep
 *     (trcu_wait_for_readers: writer_waiting = 1, fence, scan again, FUTEX_WAIT).
 * Abstracted away: the registry and its locks (a fixed set of registered readers), the spin
 * count (each round may spin or sleep, a superset of 1000 spins then sleep), REGISTERED and the
 * misuse checks other than unlock-without-lock, trcu_call and trcu_barrier.
 *
 * Versions (spin -D):
 *   NAIVE        no grace period: unpublish, then free (variants.c naive / no_wait).
 *   DEPTH0       the grace period before the starvation fix: one membarrier, then wait until
 *                each reader is seen at depth 0. Safe; with STREAM, starved (non-progress cycle).
 *   ONE_PHASE    flip, then a single wait for sections with the old phase: a reader delayed
 *                between its load of the phase and its store across one grace period is not
 *                waited for by the next one (needs NGP=2).
 *   (none)       the fix: trcu_synchronize() as written, two phases around the flip.
 *   NO_MEMBARRIER  TRCU_NO_MEMBARRIER=1: full fences on both sides instead of membarrier.
 *   NO_GP_MB     the fix without trcu_synchronize()'s first trcu_writer_fence() (the membarrier
 *                after the caller's unpublish).
 *   NO_READER_FENCE  with NO_MEMBARRIER: trcu_read_lock()'s trcu_reader_fence() removed.
 *   NO_SLEEP_FENCE   the fix without trcu_wait_for_readers()' trcu_writer_fence() between
 *                writer_waiting = 1 and the last scan: a lost wake-up (invalid end state).
 *   NO_UNLOCK_FENCE  with NO_MEMBARRIER: trcu_read_unlock()'s trcu_reader_fence() removed:
 *                a lost wake-up.
 *   STREAM       readers enter back to back until the writer is done (for --np, with NR=1).
 *
 * Safety: assert(!freed) at each use of the object, and the misuse check of unlock. A futex sleep
 * no one ends is an invalid end state. Liveness (--np): the writer's return is the only progress;
 * a fair cycle without it is a synchronize that a stream of readers holds for ever.
 */

#ifndef NR
#define NR 1		/* readers */
#endif
#ifndef NGP
#define NGP 1		/* grace periods; the object is unpublished before the last one */
#endif
#ifndef NCYC
#define NCYC 1		/* sections per reader (without STREAM) */
#endif

/* Memory locations. */
#define HEAD	0	/* the list's pointer to the object: 1 published, 0 unpublished */
#define SECTION	1	/* trcu_state.section: its TRCU_PHASE bit, 0 or 1 */
#define WW	2	/* trcu_state.writer_waiting */
#define WORD	3	/* reader r's trcu_self.word is WORD + r: PHASE << 2 | depth */
#define NVAR	(WORD + NR)

#define WRITER	0	/* thread 0; readers are threads 1 .. NR */
#define NTHR	(NR + 1)

#include "tso.pml"

#define DEPTH(w)	((w) & 3)	/* TRCU_NEST_MASK */
#define PHASE(w)	((w) >> 2)	/* TRCU_PHASE */

/* trcu.c: TRCU_WAIT_NONE, TRCU_WAIT_PHASE1, TRCU_WAIT_PHASE2 */
#define WAIT_NONE	0
#define WAIT_PHASE1	1
#define WAIT_PHASE2	2

bool freed;		/* the object: list_entry_free() after the grace period */
bool gp_done;		/* the writer has returned (ends the STREAM readers) */
byte wait[NR];		/* trcu_reader.wait, the writer's, under the registry lock */

/* trcu.h trcu_reader_fence(): asym_fence_light: a compiler barrier, or a full fence. */
inline reader_fence(t)
{
#ifdef NO_MEMBARRIER
	tso_fence(t)
#else
	skip
#endif
}

/* trcu.c trcu_writer_fence(): asym_fence_heavy: membarrier, or a full fence. */
inline writer_fence(t)
{
#ifdef NO_MEMBARRIER
	tso_fence(t)
#else
	tso_membarrier()
#endif
}

/* trcu.h trcu_read_lock() */
inline read_lock(t, r)
{
	/* w = atomic_load_explicit(&trcu_self.word, relaxed) */
	tso_load(t, WORD + r, w);
	if
	:: DEPTH(w) == 0 ->
		/* outermost: w = atomic_load_explicit(&trcu_state.section, relaxed) + 1 */
		tso_load(t, SECTION, s);
		w = s * 4 + 1
	:: else ->
		w = w + 1	/* trcu_read_lock_slow(): nested, same phase */
	fi;
	/* TRCU_READ_LOCK_PREEMPTED(): the reader may stop here for any time (interleaving) */
	/* atomic_store_explicit(&trcu_self.word, w, release) */
	tso_store(t, WORD + r, w);
#if !(defined(NO_MEMBARRIER) && defined(NO_READER_FENCE))
	reader_fence(t);	/* trcu_reader_fence() */
#endif
	w = 0; s = 0
}

/* trcu.h trcu_read_unlock() */
inline read_unlock(t, r)
{
	/* w = atomic_load_explicit(&trcu_self.word, relaxed) */
	tso_load(t, WORD + r, w);
	assert(DEPTH(w) != 0);	/* trcu_read_unlock_misuse() */
	/* atomic_store_explicit(&trcu_self.word, w - 1, release) */
	tso_store(t, WORD + r, w - 1);
#if !(defined(NO_MEMBARRIER) && defined(NO_UNLOCK_FENCE))
	reader_fence(t);	/* trcu_reader_fence(): our word, then writer_waiting */
#endif
	/* if (atomic_load_explicit(&trcu_state.writer_waiting, relaxed)) trcu_wake_writer() */
	tso_load(t, WW, s);
	if
	:: s ->
		/* trcu_wake_writer(): atomic_exchange_explicit(&writer_waiting, 0, relaxed) */
		d_step { TSO_FLUSH(t); s = mem[WW]; mem[WW] = 0 };
		if
		:: s -> futex_wake(t, WW)	/* futex_wake_all(&trcu_state.writer_waiting) */
		:: else
		fi
	:: else
	fi;
	w = 0; s = 0
}

/* One section: variants.c rcu_enter() (trcu_read_lock, get_metadata), the use, rcu_exit(). */
inline section(t, r)
{
	read_lock(t, r);
#ifdef NEST
	read_lock(t, r);	/* a nested section: same phase, depth 2 */
#endif
	/* get_metadata(): e = trcu_dereference(l->head) */
	tso_load(t, HEAD, p);
	if
	:: p -> assert(!freed)	/* e->id, e->dev */
	:: else
	fi;
#ifdef NEST
	read_unlock(t, r);
#endif
	if
	:: p -> assert(!freed)	/* the caller uses the device until rcu_exit() */
	:: else
	fi;
	read_unlock(t, r);	/* rcu_exit(): trcu_read_unlock() */
	p = 0
}

proctype reader(byte t; byte r)
{
	byte w, s, p, n;

#ifdef STREAM
	do
	:: gp_done -> break
	:: else -> section(t, r)
	od
#else
	for (n : 1 .. NCYC) {
		section(t, r)
	}
#endif
}

/*
 * trcu.c trcu_scan(stage, phase): one scan of the readers still marked `stage`; n counts those
 * that hold it up. Each load is a step of its own: a scan is not atomic.
 */
inline scan(stage, phase)
{
	n = 0;
	for (r : 0 .. NR - 1) {
		if
		:: wait[r] == stage ->
			/* w = atomic_load_explicit(&r->word, acquire) */
			tso_load(WRITER, WORD + r, w);
			if
			:: DEPTH(w) == 0 -> wait[r] = WAIT_NONE
#ifndef DEPTH0
			:: DEPTH(w) != 0 && PHASE(w) == phase ->
				if
				:: stage == WAIT_PHASE1 -> wait[r] = WAIT_PHASE2
				:: else -> wait[r] = WAIT_NONE
				fi
#endif
			:: else -> n++
			fi
		:: else
		fi
	}
	r = 0; w = 0
}

/* trcu.c trcu_wait_for_readers(stage, phase) */
inline wait_for_readers(stage, phase)
{
	do
	:: scan(stage, phase);
		if
		:: n == 0 -> break
		:: else ->
			if
			:: skip		/* scans < TRCU_SPIN_SCANS: teardown_cpu_relax() */
			:: /* atomic_store_explicit(&trcu_state.writer_waiting, 1, relaxed) */
				tso_store(WRITER, WW, 1);
#ifndef NO_SLEEP_FENCE
				writer_fence(WRITER);	/* writer_waiting, then the words */
#endif
				scan(stage, phase);
				if
				:: n != 0 ->	/* futex_wait_while(&writer_waiting, 1) */
					futex_wait_while(WRITER, WW, 1)
				:: else
				fi;
				/* atomic_store_explicit(&trcu_state.writer_waiting, 0, relaxed) */
				tso_store(WRITER, WW, 0)
			fi
		fi
	od;
	n = 0
}

/* trcu.c trcu_synchronize() */
inline synchronize()
{
#ifndef NO_GP_MB
	writer_fence(WRITER);	/* the caller's unpublish, then our scans and flip */
#endif
	/* phase = atomic_load_explicit(&trcu_state.section, relaxed) & TRCU_PHASE */
	tso_load(WRITER, SECTION, phase);
#if defined(DEPTH0)
	/* before the fix: every reader, until it is seen at depth 0 */
	for (r : 0 .. NR - 1) { wait[r] = WAIT_PHASE1 }
	r = 0;
	wait_for_readers(WAIT_PHASE1, phase);
#elif defined(ONE_PHASE)
	/* flip, then one wait for sections with the old phase */
	phase = 1 - phase;
	tso_store(WRITER, SECTION, phase);
	for (r : 0 .. NR - 1) { wait[r] = WAIT_PHASE2 }
	r = 0;
	wait_for_readers(WAIT_PHASE2, phase);
#else
	/* for each reader: r->wait = TRCU_WAIT_PHASE1 */
	for (r : 0 .. NR - 1) { wait[r] = WAIT_PHASE1 }
	r = 0;
	/* Phase 1: sections that copied the phase before the last flip */
	wait_for_readers(WAIT_PHASE1, phase);
	/* phase ^= TRCU_PHASE; atomic_store_explicit(&trcu_state.section, ... | phase, relaxed) */
	phase = 1 - phase;
	tso_store(WRITER, SECTION, phase);
	/* Phase 2: sections seen in phase 1 that copied the phase the flip made old */
	wait_for_readers(WAIT_PHASE2, phase);
#endif
	phase = 0
}

proctype writer()
{
	byte phase, n, r, w, g;

	for (g : 1 .. NGP) {
		if
		:: g == NGP ->
			/* list_unlink(): trcu_assign_pointer(*link, e->next), a release store */
			tso_store(WRITER, HEAD, 0)
		:: else
		fi;
#ifndef NAIVE
		synchronize()
#endif
	}
	/* list_entry_free(e) */
	freed = 1;
progress:
	gp_done = 1
}

init
{
	byte i;

	atomic {
		mem[HEAD] = 1;		/* list_create(): the entry is on the list */
		run writer();
		for (i : 1 .. NR) {
			run reader(i, i - 1)
		}
		for (i : 0 .. NTHR - 1) {
			run drainer(i)
		}
	}
}
