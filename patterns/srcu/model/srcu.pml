/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tsrcu (patterns/srcu/tsrcu.h, tsrcu.c), on x86-TSO (tso.pml): a reader's section in one
 * domain; the writer runs one grace period (for its flip alone), replaces object A by B, runs
 * a second grace period and frees A.
 *
 * Versions (spin -D):
 *   NAIVE            the naive twin (variants.c naive_teardown): the second grace period is
 *                    another domain's, which has no reader: it waits for nothing.
 *   (none)           the fix as written, with membarrier: the reader loads the index, adds to
 *                    locks[i] (a locked add), has a compiler barrier only, loads the pointer;
 *                    it leaves with a locked add to unlocks[i], a compiler barrier, a load of
 *                    writer_waiting and, if set, the exchange and the wake. A grace period:
 *                    membarrier, drain the other half, flip, drain the current half. A drain
 *                    sums unlocks, then locks; if a reader is inside it sets writer_waiting,
 *                    membarrier, sums again and sleeps on the futex.
 *   NO_MEMBARRIER    the fix without membarrier (TSRCU_NO_MEMBARRIER=1): full fences instead,
 *                    in the reader after each add and in the writer where membarrier was.
 *   ONE_DRAIN        a grace period without its first drain (flip, drain the old half).
 *   NO_GP_FENCE      a grace period without its opening membarrier (or fence).
 *   NO_WAIT_FENCE    a drain without the membarrier (or fence) between writer_waiting = 1 and
 *                    its second sum: a lost wake-up, which the search reports as an invalid
 *                    end state (the writer asleep for ever).
 *   NO_WAKE          the unlock without its check of writer_waiting: a lost wake-up too.
 *   SWAP_SUMS        a drain that sums the locks first, then the unlocks: a late reader's
 *                    whole section, counted in the unlocks only, cancels one still inside.
 *   NR=n             reader threads (default 1), one section each.
 *
 * Safety: a reader asserts that the object it loaded is not freed. Liveness as far as it goes:
 * every end state is valid, so a writer that sleeps is woken once the readers have left, and
 * synchronize returns. Not modelled: shards (one pair of counters per half), the held list
 * and misuse, the spin before the sleep (the model sleeps at once, which is the case a lost
 * wake-up needs), counter wrap.
 */
#ifndef NR
#define NR 1
#endif
#define IDX	0
#define LOCKS	1	/* LOCKS + h: locks[h] */
#define UNLOCKS	3	/* UNLOCKS + h: unlocks[h] */
#define SRC	5	/* 1: object A, 2: object B */
#define WAITING	6	/* writer_waiting */
#define NVAR	7
#define NTHR	(NR + 1)	/* readers 0 .. NR - 1, then the writer */
#define W	NR

#include "tso.pml"

bit freed[3];		/* ghost: object n freed */

/* The writer's heavy side: membarrier, or a full fence in the writer alone. */
inline writer_fence()
{
#ifdef NO_MEMBARRIER
	tso_fence(W)
#else
	tso_membarrier()
#endif
}

inline reader_fence(t)
{
#ifdef NO_MEMBARRIER
	tso_fence(t)
#else
	skip		/* atomic_signal_fence: the compiler's order only */
#endif
}

proctype reader(byte t)
{
	byte i, p, w;

	tso_load(t, IDX, i);
	d_step { TSO_FLUSH(t); mem[LOCKS + i]++ }	/* tsrcu_read_lock's add */
	reader_fence(t);
	tso_load(t, SRC, p);
	assert(!freed[p]);	/* device_read_state(), perhaps after a sleep */
	d_step { TSO_FLUSH(t); mem[UNLOCKS + i]++ }	/* tsrcu_read_unlock's add */
#ifndef NO_WAKE
	reader_fence(t);
	tso_load(t, WAITING, w);
	if
	:: w ->
		d_step { TSO_FLUSH(t); w = mem[WAITING]; mem[WAITING] = 0 };
		if
		:: w -> futex_wake(t, WAITING)
		:: else
		fi
	:: else
	fi
#endif
}

/* tsrcu_readers_inside(): unlocks, then locks. */
inline readers_inside(h)
{
#ifndef SWAP_SUMS
	tso_load(W, UNLOCKS + h, u);
	tso_load(W, LOCKS + h, l);
#else
	tso_load(W, LOCKS + h, l);
	tso_load(W, UNLOCKS + h, u);
#endif
	n = l - u
}

inline drain(h)
{
	do
	:: readers_inside(h);
		if
		:: n == 0 -> break
		:: else
		fi;
		tso_store(W, WAITING, 1);
#ifndef NO_WAIT_FENCE
		writer_fence();
#endif
		readers_inside(h);
		if
		:: n != 0 -> futex_wait_while(W, WAITING, 1)
		:: else
		fi;
		tso_store(W, WAITING, 0)
	od
}

inline synchronize()
{
#ifndef NO_GP_FENCE
	writer_fence();
#endif
	tso_load(W, IDX, idx);
#ifndef ONE_DRAIN
	drain(1 - idx);
#endif
	tso_store(W, IDX, 1 - idx);
	drain(idx)
}

proctype writer()
{
	byte idx, u, l, n;

	synchronize();		/* an earlier grace period: its flip */
	tso_store(W, SRC, 2);	/* publish B in A's place */
#ifndef NAIVE
	synchronize();
#endif
	freed[1] = 1
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
