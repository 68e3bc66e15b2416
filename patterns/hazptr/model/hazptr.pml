/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hazard pointers (patterns/hazptr/hazptr.h, hazptr.c), on x86-TSO (tso.pml): readers protect
 * the published object through their slot; the writer replaces it, retires the old one and
 * scans.
 *
 * Versions (spin -D):
 *   NAIVE            the naive twin (variants.c naive_enter): load, publish the hazard, use,
 *                    with no second load.
 *   (none)           the fix as written, with membarrier: hazptr_protect() loads the pointer,
 *                    stores it in its slot, has a compiler barrier only, loads the pointer again
 *                    and retries until the two agree; the scan starts with membarrier, which
 *                    drains every store buffer.
 *   NO_MEMBARRIER    the fix without membarrier (HAZPTR_NO_MEMBARRIER=1): a full fence in the
 *                    reader between its slot store and its re-load, and one in the scan.
 *   NO_SCAN_FENCE    the scan without its membarrier (or, with NO_MEMBARRIER, its fence).
 *   NO_READER_FENCE  with NO_MEMBARRIER: the reader without its fence.
 *   NR=n             reader threads (default 1).
 *
 * Memory: the pointer is 1 (object A, published first), 2 (object B, which the writer
 * publishes in A's place) or 0 (nothing). The writer retires A after publishing B and scans
 * twice (hazptr_retire's scan, then a later one): each time, A is reclaimed if no slot holds it.
 * Safety: a reader asserts A or B not reclaimed at its use and again just before its clear.
 * Not modelled: the records' registration, the retire list as a list (one object), misuse,
 * orphans; the slot's clear is a plain store (release is free on x86).
 */
#ifndef NR
#define NR 1
#endif
#define SRC	0
#define HAZ	1		/* HAZ + r: reader r's slot 0 */
#define NVAR	(1 + NR)
#define NTHR	(NR + 1)	/* readers 0 .. NR - 1, then the writer */
#define W	NR

#include "tso.pml"

bit freed[3];		/* ghost: object n reclaimed */

inline scan_fence()
{
#ifndef NO_SCAN_FENCE
#ifdef NO_MEMBARRIER
	tso_fence(W)
#else
	tso_membarrier()
#endif
#else
	skip
#endif
}

inline reader_fence(t)
{
#if defined(NO_MEMBARRIER) && !defined(NO_READER_FENCE)
	tso_fence(t)
#else
	skip		/* atomic_signal_fence: the compiler's order only */
#endif
}

proctype reader(byte t)
{
	byte p, again;

	tso_load(t, SRC, p);
	do
	:: p == 0 -> break
	:: else ->
		tso_store(t, HAZ + t, p);
		reader_fence(t);
#ifdef NAIVE
		break;
#else
		tso_load(t, SRC, again);
		if
		:: again == p -> break
		:: else -> p = again	/* replaced meanwhile: protect again */
		fi
#endif
	od;
	if
	:: p != 0 ->
		assert(!freed[p]);	/* device_read_state() */
		assert(!freed[p]);	/* the last touch before the clear */
		tso_store(t, HAZ + t, 0)	/* hazptr_clear() */
	:: else
	fi
}

inline scan()
{
	held = 0;
	scan_fence();
	for (i : 0 .. NR - 1) {
		tso_load(W, HAZ + i, h);
		if
		:: h == 1 -> held = 1
		:: else
		fi
	}
	if
	:: !held && !freed[1] -> freed[1] = 1	/* A's reclaim() */
	:: else
	fi
}

proctype writer()
{
	byte i, h;
	bit held;

	tso_store(W, SRC, 2);	/* publish B in A's place */
	scan();			/* hazptr_retire(A) reaches the threshold */
	scan()			/* a later scan */
}

init
{
	byte i;

	atomic {
		mem[SRC] = 1;
		run writer();
		for (i : 0 .. NR - 1) {
			run reader(i)
		}
		for (i : 0 .. NTHR - 1) {
			run drainer(i)
		}
	}
}
