/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trcu's QSBR flavour (patterns/rcu/trcu_qsbr.h, trcu_qsbr.c), as Spin sees it: NR readers (1 or
 * 2), registered from the start and online at the counter's first value, each run NCYC rounds
 * of: find the object through the published pointer and use it (the empty read side), then a
 * quiescent state (trcu_qsbr_quiescent_state); at the end each goes offline
 * (trcu_qsbr_unregister_thread). The writer runs NGP grace periods (trcu_qsbr_synchronize) and
 * before the last one unpublishes the object; after it, it frees the object.
 *
 * What is modelled, step by step (each step names the C it stands for):
 *   - trcu_qsbr_store_word(): the store of the reader's word, the fence, the look at
 *     writer_waiting, the exchange, the wake; under it the quiescent state (the load of the
 *     counter), offline (0) and online (the counter again);
 *   - trcu_qsbr_synchronize(): the bump of the counter by 2, the fence, the scans
 *     (trcu_qsbr_readers_blocking: one load per reader, each a step of its own), each round
 *     spinning or going to sleep (writer_waiting = 1, fence, scan again, FUTEX_WAIT).
 * Abstracted away: the registry, its locks and gp_lock (one writer, a fixed set of readers), the
 * spin count (each round may spin or sleep, a superset of 1000 spins then sleep), the counter's
 * wrap (a few grace periods never wrap), registration while a grace period runs, the misuse
 * checks.
 *
 * Versions (spin -D):
 *   NAIVE        no grace period: unpublish, then free (variants.c naive / no_wait).
 *   (none)       the fix: trcu_qsbr.c as written.
 *   OFFLINE      each round starts with trcu_qsbr_thread_offline() and _online().
 *   WEAK_BUMP    the bump weakened to what memory_order_release allows (and Arm's LDADDL
 *                does): its store may wait in the store buffer while later loads go ahead. On
 *                x86 the bump is a locked instruction, a full fence by itself; WEAK_BUMP plays
 *                a machine where the fence after it is needed. Safe with the fence.
 *   NO_GP_FENCE  WEAK_BUMP, and trcu_qsbr_synchronize() without the teardown_smp_mb() after
 *                the bump. With OFFLINE: a use after free (a reader back online reads the old
 *                counter and the old pointer while the scan read its offline word).
 *   NO_SLEEP_FENCE   without the teardown_smp_mb() between writer_waiting = 1 and the last scan:
 *                a lost wake-up (invalid end state).
 *   NO_QS_FENCE  trcu_qsbr_store_word() without its teardown_smp_mb(): a lost wake-up.
 *   STREAM       readers pass quiescent states back to back until the writer is done (for --np).
 *   NO_QS        with STREAM: the readers never pass a quiescent state (the liveness search must
 *                then find the writer held for ever: it is not vacuous).
 *
 * Safety: assert(!freed) at each use of the object. A futex sleep no one ends is an invalid end
 * state. Liveness (--np): the writer's return is the only progress.
 */

#ifndef NR
#define NR 1		/* readers */
#endif
#ifndef NGP
#define NGP 1		/* grace periods; the object is unpublished before the last one */
#endif
#ifndef NCYC
#define NCYC 1		/* rounds per reader (without STREAM) */
#endif

/* Memory locations. */
#define HEAD	0	/* the list's pointer to the object: 1 published, 0 unpublished */
#define CTR	1	/* trcu_qsbr.ctr: 1, 3, 5, ... */
#define WW	2	/* trcu_qsbr.writer_waiting */
#define WORD	3	/* reader r's trcu_qsbr_self.ctr is WORD + r: a counter value, or 0 */
#define NVAR	(WORD + NR)

#define WRITER	0	/* thread 0; readers are threads 1 .. NR */
#define NTHR	(NR + 1)

#define OFFLINE_CTR	0	/* TRCU_QSBR_OFFLINE */

#include "tso.pml"

bool freed;		/* the object: list_entry_free() after the grace period */
bool gp_done;		/* the writer has returned (ends the STREAM readers) */

/* trcu_qsbr.c trcu_qsbr_store_word(v) */
inline store_word(t, r, v)
{
	/* atomic_store_explicit(&trcu_qsbr_self.ctr, v, release) */
	tso_store(t, WORD + r, v);
#ifndef NO_QS_FENCE
	tso_fence(t);	/* teardown_smp_mb(): our word, then writer_waiting and the pointer */
#endif
	/* if (atomic_load_explicit(&trcu_qsbr.writer_waiting, relaxed) && */
	tso_load(t, WW, s);
	if
	:: s ->
		/* atomic_exchange_explicit(&trcu_qsbr.writer_waiting, 0, relaxed)) */
		d_step { TSO_FLUSH(t); s = mem[WW]; mem[WW] = 0 };
		if
		:: s -> futex_wake(t, WW)	/* futex_wake_all(&trcu_qsbr.writer_waiting) */
		:: else
		fi
	:: else
	fi;
	s = 0
}

/* trcu_qsbr_quiescent_state() and trcu_qsbr_thread_online(): the counter, acquire, stored. */
inline quiescent_state(t, r)
{
	tso_load(t, CTR, c);
	store_word(t, r, c);
	c = 0
}

/* trcu_qsbr_thread_offline() */
inline thread_offline(t, r)
{
	store_word(t, r, OFFLINE_CTR)
}

/* The empty read side: e = trcu_dereference(l->head), then the use of e. */
inline use(t)
{
	tso_load(t, HEAD, p);
	if
	:: p -> assert(!freed)
	:: else
	fi;
	p = 0
}

proctype reader(byte t; byte r)
{
	byte s, p, c, n;

#ifdef STREAM
	do
	:: gp_done -> break
	:: else ->
		use(t);
#ifndef NO_QS
		quiescent_state(t, r)
#endif
	od;
#else
	for (n : 1 .. NCYC) {
#ifdef OFFLINE
		thread_offline(t, r);
		quiescent_state(t, r);	/* trcu_qsbr_thread_online() */
#endif
		use(t);
		quiescent_state(t, r)
	}
#endif
	thread_offline(t, r)	/* trcu_qsbr_unregister_thread() */
}

/* trcu_qsbr.c trcu_qsbr_readers_blocking(gp): one scan; n counts the readers that hold it up. */
inline scan(gp)
{
	n = 0;
	for (r : 0 .. NR - 1) {
		/* c = atomic_load_explicit(&r->ctr, acquire) */
		tso_load(WRITER, WORD + r, w);
		if
		:: w != OFFLINE_CTR && w != gp -> n++
		:: else
		fi
	}
	r = 0; w = 0
}

/* trcu_qsbr.c trcu_qsbr_synchronize() */
inline synchronize()
{
#if defined(WEAK_BUMP) || defined(NO_GP_FENCE)
	/* the bump as a release store the later loads may pass (see WEAK_BUMP above) */
	tso_load(WRITER, CTR, gp);
	gp = gp + 2;
	tso_store(WRITER, CTR, gp);
#else
	/* gp = atomic_fetch_add_explicit(&trcu_qsbr.ctr, 2, release) + 2: a locked instruction */
	d_step { TSO_FLUSH(WRITER); gp = mem[CTR] + 2; mem[CTR] = gp };
#endif
#ifndef NO_GP_FENCE
	tso_fence(WRITER);	/* teardown_smp_mb(): the bump, then the scan */
#endif
	do
	:: scan(gp);
		if
		:: n == 0 -> break
		:: else ->
			if
			:: skip		/* scans < TRCU_QSBR_SPIN_SCANS: teardown_cpu_relax() */
			:: /* atomic_store_explicit(&trcu_qsbr.writer_waiting, 1, relaxed) */
				tso_store(WRITER, WW, 1);
#ifndef NO_SLEEP_FENCE
				tso_fence(WRITER);	/* the flag, then the words */
#endif
				scan(gp);	/* if (trcu_qsbr_readers_blocking(gp)) */
				if
				:: n != 0 ->	/* futex_wait_while(&trcu_qsbr.writer_waiting, 1) */
					futex_wait_while(WRITER, WW, 1)
				:: else
				fi;
				/* atomic_store_explicit(&trcu_qsbr.writer_waiting, 0, relaxed) */
				tso_store(WRITER, WW, 0)
			fi
		fi
	od;
	n = 0; gp = 0
}

proctype writer()
{
	byte gp, n, r, w, g;

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
		mem[CTR] = 1;		/* trcu_qsbr.ctr = 1 */
		for (i : 0 .. NR - 1) {
			mem[WORD + i] = 1	/* registered, online at the counter */
		}
		run writer();
		for (i : 1 .. NR) {
			run reader(i, i - 1)
		}
		for (i : 0 .. NTHR - 1) {
			run drainer(i)
		}
	}
}
