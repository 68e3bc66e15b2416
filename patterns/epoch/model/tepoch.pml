/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tepoch's reclamation (patterns/epoch/tepoch.h, tepoch.c), as Spin sees it: NR readers (1 or 2)
 * run epoch sections that find one object through a published pointer and use it; the writer
 * unpublishes it and reclaims it.
 *
 * Two ways to reclaim (variants.c):
 *   (default)  retire_teardown / retire_destroy: tepoch_call() tags the object with the epoch t
 *              (a read-modify-write), tepoch_poll() NPOLL times (never waits: moves the epoch at
 *              most two steps, gives up when a reader is in the way, runs what is two steps old),
 *              then tepoch_barrier() (a grace period, then every destructor pending).
 *   SYNC       synchronize_teardown: tepoch_synchronize(), then free.
 * Both go through tepoch_wait_for(), the wait for every record to be at the epoch e or outside
 * any section, with the settlement of idle records: a record seen outside any section, behind
 * the epoch, may be a reader whose enter store is still in its store buffer; a membarrier
 * settles it ("fenced"). The sleep: writer_waiting = 1, fence, scan, FUTEX_WAIT.
 *
 * Versions (spin -D):
 *   NAIVE       unpublish, then free (variants.c no_wait_teardown).
 *   ONE_STEP    the destructor runs once the epoch is one step past t, not two
 *               (tepoch_run(): epoch_steps(l->head->epoch, now) >= 1, and advance_past < 1).
 *   (none)      the fix, as written.
 *   NO_MEMBARRIER  TEPOCH_NO_MEMBARRIER=1: full fences on both sides, and the grace period
 *               (tepoch_synchronize(), tepoch_barrier()) begins with tepoch_all_idle(): after
 *               the advancer's fence, a scan; if every reader is outside any section, it is
 *               over without a step.
 *   NO_ALL_IDLE      with NO_MEMBARRIER: without tepoch_all_idle() (the code before it).
 *   ALL_IDLE_NO_FENCE  with NO_MEMBARRIER: tepoch_all_idle() without its advancer fence.
 *   LOCK_DRAINS      with it: registry_lock drains the store buffer, as x86's locked cmpxchg
 *               does (C11 promises an acquire only; that is the default).
 *   ALL_IDLE_IGNORES_SECTIONS  with NO_MEMBARRIER: tepoch_all_idle()'s scan takes every
 *               record for idle, whatever its nest mask.
 *   NO_SETTLE   tepoch_wait_for() without the advancer's membarrier that settles idle records:
 *               a record seen idle counts as settled at once ("fenced" starts true).
 *   NO_READER_FENCE  with NO_MEMBARRIER: tepoch_enter()'s tepoch_reader_fence() removed.
 *   NO_EXIT_FENCE    with NO_MEMBARRIER: tepoch_exit()'s tepoch_reader_fence() removed (our
 *               word, then writer_waiting): a lost wake-up (invalid end state).
 *   NO_SLEEP_FENCE   tepoch_wait_for() without the tepoch_advancer_fence() between
 *               writer_waiting = 1 and the last scan: a lost wake-up (invalid end state).
 *   DEPTH0      tepoch_scan() without tepoch_moved_on() for records inside a section: the
 *               advancer waits for every section to end, whatever epoch it began in.
 *   STREAM      readers enter back to back until the writer is done (for --np).
 *   ADVANCER    a second thread moves the epoch meanwhile: its own tepoch_poll(), through a
 *               record of its own, for an entry it retired at epoch 1 (at most two steps, never
 *               waiting). The writer is then retire_teardown alone: tepoch_call(), NPOLL polls,
 *               no barrier (what is still pending stays pending). gp_lock is modelled (both
 *               polls' trylock); each advancer's record is idle at epoch 1 in the other's scan.
 *   CALL_LOAD   tepoch_call() reads the epoch with a plain load (relaxed), not the seq_cst
 *               fetch_add(..., 0).
 *   ENTER_RELAXED  tepoch_enter() loads the epoch relaxed, not acquire.
 *   WEAK        the memory: weak.pml (Arm-like: a load may be satisfied early, unless an acquire
 *               load, a fence or an acquire read-modify-write of its thread orders it), instead
 *               of tso.pml (x86-TSO). Acquire loads are written as such; on x86-TSO they are
 *               plain loads. The unpublish, lagg_unpublish()'s relaxed exchange, is a store
 *               whose write may wait in the buffer (as a plain store would): a relaxed
 *               read-modify-write orders nothing on Arm, and a caller may unpublish with a
 *               release store. tepoch_call()'s fetch_add(..., 0) reads without writing: the
 *               write of the same value only offers one more value a reader could acquire.
 * Abstracted away: the registry and registry_lock (NR registered readers, the writer's own
 * record outside any section; tepoch_all_idle() gives the lock's acquire its memory effect),
 * gp_lock but with ADVANCER, tepoch_all_idle()'s rescans (one scan, then the full grace
 * period), orphans and adoption, the epoch's wrap and the lap check (tepoch_moved_on()'s
 * seen_a_lap_ago; epochs here stay below 8 and never wrap), the spin counts (each round may spin
 * or go on), the misuse checks other than exit-without-enter.
 *
 * On WEAK memory, one reader (NR=2 holds too, but takes 30 million states; with SYNC and
 * NO_MEMBARRIER it needs more than WEAK_HIST=5), and WEAK_HIST=5 with NEST or with NO_MEMBARRIER
 * and ADVANCER (more older values stay readable).
 *
 * Safety: assert(!freed) at each use of the object. A futex sleep no one ends is an invalid end
 * state. Liveness (--np): the writer's return is the only progress label.
 */

#ifndef NR
#define NR 1
#endif
#ifndef NCYC
#define NCYC 1		/* sections per reader (without STREAM) */
#endif
#ifndef NPOLL
#define NPOLL 1		/* tepoch_poll() calls before tepoch_barrier() */
#endif

/* Memory locations. */
#define HEAD	0	/* the softc pointer: 1 published, 0 unpublished */
#define SECTION	1	/* d->section: the epoch (REGISTERED implicit) */
#define WW	2	/* d->writer_waiting */
#define WORD	3	/* reader r's record word is WORD + r: epoch << 2 | depth */
#define NVAR	(WORD + NR)

#define WRITER	0
#ifdef ADVANCER
#define ADV	(NR + 1)	/* the second advancer's thread */
#define NTHR	(NR + 2)
#define IS_ADVANCER(t)	((t) == WRITER || (t) == ADV)
#else
#define NTHR	(NR + 1)
#define IS_ADVANCER(t)	((t) == WRITER)
#endif

/*
 * The memory. LOAD is relaxed, LOAD_ACQ acquire; STORE is release or relaxed. Inside a d_step, a
 * read-modify-write: RMW_REL(t) its release half (t's earlier stores leave first), RMW_WRITE,
 * RMW_ACQ(t) its acquire half, RMW_END last; RMW_LOCKED(t) what x86's lock prefix adds to a
 * relaxed one.
 */
#ifdef WEAK
/*
 * Who loads what: an advancer the epoch and the words (writer_waiting only in the futex wait,
 * which reads memory's newest value); a reader the pointer, the epoch, writer_waiting and its
 * own word.
 */
#define WEAK_READS(t, v) \
	((IS_ADVANCER(t) && ((v) == SECTION || (v) >= WORD)) || \
	 (!IS_ADVANCER(t) && ((v) < WORD || (v) == WORD + (t) - 1)))
#include "weak.pml"
#define LOAD(t, v, r)		weak_load(t, v, r)
#define LOAD_ACQ(t, v, r)	weak_load_acquire(t, v, r)
#define STORE(t, v, x)		weak_store(t, v, x)
#define FENCE(t)		weak_fence(t)
#define MEMBARRIER()		weak_membarrier()
#define RMW_REL(t)		WEAK_FLUSH(t)
#define RMW_WRITE(t, v, x)	WEAK_WRITE(t, v, x)
#define RMW_ACQ(t)		WEAK_ACQUIRE_NOW(t)
#define RMW_LOCKED(t)		skip
#define RMW_END			WEAK_CANON
#else
#include "tso.pml"
#define LOAD(t, v, r)		tso_load(t, v, r)
#define LOAD_ACQ(t, v, r)	tso_load(t, v, r)
#define STORE(t, v, x)		tso_store(t, v, x)
#define FENCE(t)		tso_fence(t)
#define MEMBARRIER()		tso_membarrier()
#define RMW_REL(t)		TSO_FLUSH(t)
#define RMW_WRITE(t, v, x)	mem[v] = x
#define RMW_ACQ(t)		skip
#define RMW_LOCKED(t)		TSO_FLUSH(t)
#define RMW_END			skip
#endif

#ifdef ENTER_RELAXED
#define ENTER_LOAD(t, v, r)	LOAD(t, v, r)
#else
#define ENTER_LOAD(t, v, r)	LOAD_ACQ(t, v, r)
#endif

#define DEPTH(w)	((w) & 3)	/* TEPOCH_NEST_MASK */
#define EPOCH(w)	((w) >> 2)	/* epoch_of() */

#ifdef ONE_STEP
#define STEPS 1
#else
#define STEPS 2		/* an entry retired at t is safe at t + 2 */
#endif

bool freed;
bool gp_done;
#ifdef ADVANCER
bit gp_lock;	/* d->gp_lock: one advancer at a time */
#endif

/* tepoch.h tepoch_reader_fence(): asym_fence_light */
inline reader_fence(t)
{
#ifdef NO_MEMBARRIER
	FENCE(t)
#else
	skip
#endif
}

/* tepoch.c tepoch_advancer_fence(): asym_fence_heavy */
inline advancer_fence(me)
{
#ifdef NO_MEMBARRIER
	FENCE(me)
#else
	MEMBARRIER()
#endif
}

#ifdef ADVANCER
/* pthread_mutex_lock(&d->gp_lock): an acquire read-modify-write (a locked one on x86) */
inline gp_lock_(me)
{
	d_step { gp_lock == 0 -> gp_lock = 1; RMW_LOCKED(me); RMW_ACQ(me); RMW_END }
}

/* pthread_mutex_trylock(&d->gp_lock) == 0 */
inline gp_trylock(me, got)
{
	d_step {
		if
		:: gp_lock == 0 -> gp_lock = 1; got = 1; RMW_LOCKED(me); RMW_ACQ(me); RMW_END
		:: else -> got = 0
		fi
	}
}

/* pthread_mutex_unlock(&d->gp_lock): a release (our stores leave first) */
inline gp_unlock(me)
{
	d_step { RMW_REL(me); gp_lock = 0; RMW_END }
}
#endif

/* tepoch.h tepoch_enter() */
inline enter(t, r)
{
	LOAD(t, WORD + r, w);	/* w = atomic_load_explicit(&r->word, relaxed) */
	if
	:: DEPTH(w) == 0 ->
		/* w = atomic_load_explicit(&r->domain->section, acquire) + 1 */
		ENTER_LOAD(t, SECTION, s);
		w = s * 4 + 1
	:: else -> w = w + 1	/* tepoch_enter_slow(): nested, same epoch */
	fi;
	STORE(t, WORD + r, w);	/* atomic_store_explicit(&r->word, w, release) */
#if !(defined(NO_MEMBARRIER) && defined(NO_READER_FENCE))
	reader_fence(t);		/* tepoch_reader_fence() */
#endif
	w = 0; s = 0
}

/* tepoch.h tepoch_exit() */
inline exit_(t, r)
{
	LOAD(t, WORD + r, w);		/* w = atomic_load_explicit(&r->word, relaxed) */
	assert(DEPTH(w) != 0);		/* tepoch_exit_misuse() */
	STORE(t, WORD + r, w - 1);	/* atomic_store_explicit(&r->word, w - 1, release) */
#if !(defined(NO_MEMBARRIER) && defined(NO_EXIT_FENCE))
	reader_fence(t);		/* tepoch_reader_fence(): our word, then writer_waiting */
#endif
	/* if (atomic_load_explicit(&r->domain->writer_waiting, relaxed)) tepoch_wake_advancer() */
	LOAD(t, WW, s);
	if
	:: s ->
		/* tepoch_wake_advancer(): atomic_exchange_explicit(&writer_waiting, 0, relaxed) */
		d_step { RMW_LOCKED(t); s = mem[WW]; RMW_WRITE(t, WW, 0); RMW_END };
		if
		:: s -> futex_wake(t, WW)
		:: else
		fi
	:: else
	fi;
	w = 0; s = 0
}

/* variants.c epoch_callback: tepoch_enter, the softc's look-up and use, tepoch_exit */
inline section(t, r)
{
	enter(t, r);
#ifdef NEST
	enter(t, r);
#endif
	LOAD_ACQ(t, HEAD, p);	/* lagg.h: atomic_load_explicit(&ifp->if_softc, acquire) */
	if
	:: p -> assert(!freed)
	:: else
	fi;
#ifdef NEST
	exit_(t, r);
#endif
	if
	:: p -> assert(!freed)
	:: else
	fi;
	exit_(t, r);
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
 * tepoch.c tepoch_scan(d, self, e): in_old counts records inside a section older than e, idle
 * those outside any section whose word shows an epoch behind e. One step per load.
 */
inline scan(me, e)
{
	in_old = 0; idle = 0;
	for (r : 0 .. NR - 1) {
		/* w = atomic_load_explicit(&r->word, acquire) */
		LOAD_ACQ(me, WORD + r, w);
		if
#ifdef DEPTH0
		:: EPOCH(w) == e && DEPTH(w) == 0 -> skip
#else
		:: EPOCH(w) == e -> skip	/* tepoch_moved_on(): moved on to e */
#endif
		:: else ->
			if
			:: DEPTH(w) != 0 -> in_old++
			:: else -> idle++
			fi
		fi
	}
#ifdef ADVANCER
	/* the other advancer's record, outside any section since it registered at epoch 1 */
	if
	:: e != 1 -> idle++
	:: else
	fi;
#endif
	r = 0; w = 0
}

/* tepoch.c tepoch_wait_for(d, self, e, may_block): clear = 1 when no record holds e back. */
inline wait_for(me, e, may_block)
{
#ifdef NO_SETTLE
	fenced = 1;
#else
	fenced = 0;	/* a membarrier since e was loaded: idle records are settled */
#endif
	do
	:: scan(me, e);
		if
		:: in_old == 0 && (idle == 0 || fenced) -> clear = 1; break
		:: else
		fi;
		if
		:: !may_block && (in_old != 0 || fenced) ->
			clear = 0; break	/* tepoch_poll() gives up */
		:: else
		fi;
		if
		:: may_block -> skip	/* scans < spins: teardown_cpu_relax(); continue */
		:: true ->
			if
			:: in_old == 0 ->
				advancer_fence(me);	/* settles the idle ones (argument 3) */
				fenced = 1
			:: else ->
				/* atomic_store_explicit(&d->writer_waiting, 1, relaxed) */
				STORE(me, WW, 1);
#ifndef NO_SLEEP_FENCE
				advancer_fence(me);	/* writer_waiting, then the words */
#endif
				fenced = 1;
				scan(me, e);
				if
				:: in_old != 0 -> futex_wait_while(me, WW, 1)
				:: else
				fi;
				/* atomic_store_explicit(&d->writer_waiting, 0, relaxed) */
				STORE(me, WW, 0)
			fi
		fi
	od;
	in_old = 0; idle = 0; fenced = 0
}

/* tepoch.c tepoch_step(d, e): atomic_exchange_explicit(&d->section, section_word(e + 1)) */
inline step(me, e)
{
	d_step {
		RMW_REL(me);
		assert(mem[SECTION] == e);
		RMW_WRITE(me, SECTION, e + 1);
		RMW_ACQ(me);
		RMW_END
	}
}

/* tepoch.c tepoch_advance_past(d, self, t, may_block): at most two steps past t */
inline advance_past(me, t, may_block)
{
	do
	:: LOAD_ACQ(me, SECTION, e);	/* e = tepoch_epoch(d) (acquire) */
		if
		:: e - t >= STEPS -> break	/* epoch_steps(t, e) < 2 */
		:: else
		fi;
		wait_for(me, e, may_block);	/* tepoch_advance(): tepoch_wait_for() */
		if
		:: clear -> step(me, e)		/* tepoch_advance(): tepoch_step() */
		:: else -> break
		fi
	od;
	e = 0
}

#if defined(NO_MEMBARRIER) && !defined(NO_ALL_IDLE)
/*
 * tepoch.c tepoch_all_idle(d, self), in the mode without membarrier: under registry_lock, the
 * advancer's fence, then a scan of every reader's word; clear = 1 when each is outside any
 * section. The C rescans up to TEPOCH_ALL_IDLE_SCANS times; here one scan, then the full grace
 * period. That loses nothing: the one scan may run at any moment after the fence, as the last
 * of the C's scans does, and the failed scans before it only order the advancer's later loads
 * (acquire), so the one scan can read every value the last could. What the writer does after a
 * failed check, the full grace period, is correct from any state.
 */
inline all_idle(me)
{
	/*
	 * pthread_mutex_lock(&d->registry_lock): an acquire, what C11 promises of a lock, not the
	 * drain of x86's locked cmpxchg (LOCK_DRAINS), which an Arm lock does not give: a store
	 * before an acquire may still wait in the buffer when the loads after it are performed.
	 * The unlock is a release no reader acquires (readers never take the lock): nothing.
	 */
#if defined(WEAK) || defined(LOCK_DRAINS)
	d_step { RMW_LOCKED(me); RMW_ACQ(me); RMW_END };
#endif
#ifndef ALL_IDLE_NO_FENCE
	advancer_fence(me);	/* the caller's unpublish, then the scan */
#endif
	clear = 1;
	r = 0;
	do
	:: r < NR && clear ->
		/* tepoch_others_idle(): atomic_load_explicit(&r->word, acquire) & NEST_MASK */
		LOAD_ACQ(me, WORD + r, w);
#ifndef ALL_IDLE_IGNORES_SECTIONS
		if
		:: DEPTH(w) != 0 -> clear = 0
		:: else
		fi;
#endif
		r++
	:: else -> break
	od;
	r = 0; w = 0
}
#endif

/* tepoch.c tepoch_grace_period(r), after tepoch_all_idle() */
inline full_grace_period(me)
{
#ifdef ADVANCER
	gp_lock_(me);
#endif
	LOAD_ACQ(me, SECTION, e);	/* e = tepoch_epoch(d) */
	wait_for(me, e, 1);
	step(me, e);
	e = e + 1;
	wait_for(me, e, 1);		/* every section that began before e has ended */
#ifdef ADVANCER
	gp_unlock(me);
#endif
	e = 0
}

/* tepoch.c tepoch_grace_period(r): tepoch_synchronize(), and tepoch_barrier() before its runs */
inline grace_period(me)
{
#if defined(NO_MEMBARRIER) && !defined(NO_ALL_IDLE)
	all_idle(me);
	if
	:: clear -> clear = 0	/* every reader outside any section: over, without a step */
	:: else -> full_grace_period(me)
	fi
#else
	full_grace_period(me)
#endif
}

proctype writer()
{
	byte e, t, now, w, r, in_old, idle, n;
	bool fenced, clear;
#ifdef ADVANCER
	bit got;
#endif

	/* lagg_unpublish(): the softc pointer is unpublished (its write may wait in the buffer) */
	STORE(WRITER, HEAD, 0);
#ifdef NAIVE
	freed = 1;
#elif defined(SYNC)
	grace_period(WRITER);		/* tepoch_synchronize() */
	freed = 1;
#else
#ifdef CALL_LOAD
	/* tepoch_call(): entry->epoch = epoch_of(atomic_load_explicit(&section, relaxed)) */
	LOAD(WRITER, SECTION, t);
#else
	/* tepoch_call(): entry->epoch = epoch_of(fetch_add_explicit(&section, 0, seq_cst)) */
	d_step { RMW_REL(WRITER); t = mem[SECTION]; RMW_ACQ(WRITER); RMW_END };
#endif
	for (n : 1 .. NPOLL) {
		/* tepoch_poll(): tepoch_advance_past(d, r, r->newest_pending, false) */
#ifdef ADVANCER
		gp_trylock(WRITER, got);	/* pthread_mutex_trylock(&d->gp_lock) == 0 */
		if
		:: got -> advance_past(WRITER, t, 0); gp_unlock(WRITER); got = 0
		:: else
		fi;
#else
		advance_past(WRITER, t, 0);
#endif
		/* tepoch_reclaim_own(r, tepoch_epoch(d), false): tepoch_run() */
		LOAD_ACQ(WRITER, SECTION, now);
		if
		:: !freed && now - t >= STEPS -> freed = 1	/* entry->destroy(entry) */
		:: else
		fi
	}
#ifndef ADVANCER
	/* tepoch_barrier(): tepoch_grace_period(), then tepoch_reclaim_own(r, 0, true) */
	grace_period(WRITER);
	freed = 1;
#endif
#endif
progress:
	gp_done = 1
}

#ifdef ADVANCER
/*
 * Another thread's tepoch_poll(), through its own record (outside any section), with an entry
 * of its own retired at epoch 1 (before the model starts): it moves the epoch at most two steps.
 */
proctype advancer()
{
	byte e, w, r, in_old, idle;
	bool fenced, clear;
	bit got;

	gp_trylock(ADV, got);
	if
	:: got -> advance_past(ADV, 1, 0); gp_unlock(ADV)
	:: else
	fi
}
#endif

init
{
	byte i;

	atomic {
		mem[HEAD] = 1;		/* lagg_create(): the softc is published */
		mem[SECTION] = 1;	/* tepoch_init(): epoch 1 */
		for (i : 0 .. NR - 1) {
			mem[WORD + i] = 1 * 4	/* tepoch_register(): idle, at the epoch */
		}
		run writer();
#ifdef ADVANCER
		run advancer();
#endif
		for (i : 1 .. NR) {
			run reader(i, i - 1)
		}
		for (i : 0 .. NTHR - 1) {
			run drainer(i)
		}
	}
}
