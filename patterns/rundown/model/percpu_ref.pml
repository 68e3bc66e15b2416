/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu_ref (patterns/rundown/percpu_ref.h, percpu_ref.c) protecting the lab's softc
 * (variants.c: pcpu_enter / pcpu_exit, pcpu_teardown), on x86-TSO (tso.pml) with membarrier as
 * a flush of every store buffer.
 *
 * Each reader calls percpu_ref_tryget_live(), uses the softc, and calls percpu_ref_put(); each
 * runs in one section: its seq odd, the mode loaded, its own counter (percpu mode) or the atomic
 * count (atomic mode) updated, its seq even. Teardown is percpu_ref_kill_and_confirm(): mode =
 * ATOMIC|DEAD (a locked or), the grace period (membarrier, then wait for every odd seq to
 * change), the fold (count += counters - bias), confirm, the put of the initial reference; then
 * it sleeps until release has run, and frees the softc.
 *
 * Versions (spin -D):
 *   NAIVE             no grace period: the fold right after the mode store (the lab's
 *                     percpu_ref_no_grace_period twin).
 *   (none)            the fix as written, with membarrier: the reader's store-load pair (seq,
 *                     then mode) has a compiler barrier only.
 *   NO_GP_WAIT        the fix, with its membarrier but without the wait for open sections.
 *   NO_MEMBARRIER     the fix without membarrier and without the reader's fence (what a reader
 *                     skipping its fence against a writer skipping its membarrier would be).
 *   FENCED            without membarrier (RUNDOWN_CA_NO_MEMBARRIER=1): full fences on both sides.
 *   NO_READER_FENCE   with FENCED: the sections without their fence (seq, then mode).
 *   NO_WAKE           release sets its flag but does not wake the sleeping teardown (liveness).
 *
 * Safety: a holder's use of the softc comes before the free (assert !freed); at confirm the
 * count is exact: it equals the references held (ghost) plus the switch's own (assert exact);
 * release runs once. Liveness (ltl proceeds): every reader and teardown return, so confirm and
 * release run. Not modelled: registration (a fixed slot per reader), nested gets, get on a held
 * reference, reinit, misuse checks; the counters are bytes and the bias BIAS, which no count in
 * the model reaches.
 */
#ifndef NR
#define NR 2
#endif
#define TD NR			/* teardown's thread */
#define NTHR (NR + 1)

#define MODE 0			/* ref->mode */
#define COUNT 1			/* ref->count (atomic mode; + BIAS while percpu) */
#define RELEASED 2		/* lp->released: the futex teardown sleeps on */
#define SEQ 3			/* percpu_ref_slots[t].seq at SEQ + t */
#define CNT (SEQ + NR)		/* ref->counters[t].n at CNT + t */
#define NVAR (CNT + NR)

#include "tso.pml"

#define ATOMIC 1		/* PERCPU_REF_ATOMIC */
#define DEAD 2			/* PERCPU_REF_DEAD */
#define BIAS 100		/* PERCPU_REF_BIAS */

bool freed;			/* teardown freed the softc */
bool released;			/* ghost: release has run */
bool exact;			/* ghost: the count at confirm was the references held + 1 */
byte holders;			/* ghost: references the readers hold */
byte finished;			/* threads that have returned */

/* asym_fence_light(): a compiler barrier (nothing on TSO), or a full fence. */
inline reader_fence(t)
{
#if defined(FENCED) && !defined(NO_READER_FENCE)
	tso_fence(t)
#else
	skip
#endif
}

/* pcpu_release(): atomic_store(&lp->released, 1, release); futex_wake_all(&lp->released) */
inline release(t)
{
	atomic { assert(!released); released = 1 };
	tso_store(t, RELEASED, 1);
#ifndef NO_WAKE
	futex_wake(t, RELEASED)
#endif
}

proctype reader(byte t)
{
	byte m, c, old;
	bool got;

	/* percpu_ref_tryget_live(): section begins (seq odd); seq, then mode */
	tso_store(t, SEQ + t, 1);
	reader_fence(t);
	tso_load(t, MODE, m);
	if
	:: !(m & ATOMIC) ->
		/* percpu_ref_counter_add(ref, 1): load, store (own counter) */
		tso_load(t, CNT + t, c);
		atomic { tso_store(t, CNT + t, c + 1); holders++ };
		got = 1
	:: else ->
		got = 0	/* percpu_ref_get_atomic(ref, true): dead, turned away */
	fi;
	tso_store(t, SEQ + t, 2);	/* section ends: release store */
	if
	:: got ->
		assert(!freed);	/* rundown_lagg_softc_of(ifp)->sc_dev, then its state */
		/* percpu_ref_put() */
		tso_store(t, SEQ + t, 3);
		reader_fence(t);
		tso_load(t, MODE, m);
		if
		:: !(m & ATOMIC) ->
			tso_load(t, CNT + t, c);
			atomic { tso_store(t, CNT + t, c - 1); holders-- };
			tso_store(t, SEQ + t, 4)
		:: else ->
			/* percpu_ref_put_atomic(): fetch_sub(&count, 1, acq_rel): lock xadd */
			d_step { TSO_FLUSH(t); old = mem[COUNT]; mem[COUNT] = old - 1; holders-- };
			tso_store(t, SEQ + t, 4);
			if
			:: old == 1 -> release(t)	/* percpu_ref_put_done() */
			:: else
			fi
		fi
	:: else
	fi;
	finished++
}

proctype teardown()
{
	byte s, c, sum, old, r, i;

	/* percpu_ref_kill_and_confirm(): fetch_or(&mode, ATOMIC | DEAD): lock or */
	d_step { TSO_FLUSH(TD); mem[MODE] = mem[MODE] | ATOMIC | DEAD };
#ifndef NAIVE
	/* percpu_ref_grace_period(): asym_fence_heavy() */
#if defined(FENCED)
	tso_fence(TD);
#elif !defined(NO_MEMBARRIER)
	tso_membarrier();
#endif
#ifndef NO_GP_WAIT
	/* each slot: load seq (acquire); if odd, wait until it changes */
	i = 0;
	do
	:: i < NR ->
		tso_load(TD, SEQ + i, s);
		if
		:: s & 1 -> mem[SEQ + i] != s	/* teardown stores no seq: memory is its view */
		:: else
		fi;
		i++
	:: else -> break
	od;
#endif
#endif
	/* percpu_ref_fold(): sum the counters; fetch_add(&count, sum - BIAS, acq_rel) */
	i = 0;
	sum = 0;
	do
	:: i < NR -> tso_load(TD, CNT + i, c); sum = sum + c; i++
	:: else -> break
	od;
	skip;	/* (Spin: a loop may not end into a d_step) */
	d_step {
		TSO_FLUSH(TD);
		mem[COUNT] = mem[COUNT] + sum + 256 - BIAS;
		exact = (mem[COUNT] == holders + 1)
	};
	assert(exact);	/* confirm(ref): the count is exact */
	/* the switch's reference: percpu_ref_put_atomic() */
	d_step { TSO_FLUSH(TD); old = mem[COUNT]; mem[COUNT] = old - 1 };
	if
	:: old == 1 -> release(TD)
	:: else
	fi;
	/* pcpu_wait_released(): while (!released) futex_wait_while(&released, 0) */
	do
	:: tso_load(TD, RELEASED, r);
		if
		:: r -> break
		:: else -> futex_wait_while(TD, RELEASED, 0)
		fi
	od;
	freed = 1;	/* rundown_lagg_softc_free(), percpu_ref_exit() */
	finished++
}

init
{
	atomic {
		byte i = 0;
		mem[COUNT] = BIAS + 1;	/* percpu_ref_init(): the initial reference and the bias */
		do
		:: i < NR -> run reader(i); i++
		:: else -> break
		od;
		run teardown();
		i = 0;
		do
		:: i < NTHR -> run drainer(i); i++
		:: else -> break
		od
	}
}

ltl proceeds { <> (finished == NTHR) }
