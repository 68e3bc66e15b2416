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
 *   NO_MEMBARRIER  TEPOCH_NO_MEMBARRIER=1: full fences on both sides.
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
 * Abstracted away: the registry and its locks (NR registered readers, the writer's own record
 * outside any section), orphans and adoption, the epoch's wrap and the lap check
 * (tepoch_moved_on()'s seen_a_lap_ago; epochs here stay below 8 and never wrap), the spin
 * counts (each round may spin or go on), the misuse checks other than exit-without-enter.
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
#define NTHR	(NR + 1)

#include "tso.pml"

#define DEPTH(w)	((w) & 3)	/* TEPOCH_NEST_MASK */
#define EPOCH(w)	((w) >> 2)	/* epoch_of() */

#ifdef ONE_STEP
#define STEPS 1
#else
#define STEPS 2		/* an entry retired at t is safe at t + 2 */
#endif

bool freed;
bool gp_done;

/* tepoch.h tepoch_reader_fence(): asym_fence_light */
inline reader_fence(t)
{
#ifdef NO_MEMBARRIER
	tso_fence(t)
#else
	skip
#endif
}

/* tepoch.c tepoch_advancer_fence(): asym_fence_heavy */
inline advancer_fence()
{
#ifdef NO_MEMBARRIER
	tso_fence(WRITER)
#else
	tso_membarrier()
#endif
}

/* tepoch.h tepoch_enter() */
inline enter(t, r)
{
	tso_load(t, WORD + r, w);	/* w = atomic_load_explicit(&r->word, relaxed) */
	if
	:: DEPTH(w) == 0 ->
		/* w = atomic_load_explicit(&r->domain->section, acquire) + 1 */
		tso_load(t, SECTION, s);
		w = s * 4 + 1
	:: else -> w = w + 1	/* tepoch_enter_slow(): nested, same epoch */
	fi;
	tso_store(t, WORD + r, w);	/* atomic_store_explicit(&r->word, w, release) */
#if !(defined(NO_MEMBARRIER) && defined(NO_READER_FENCE))
	reader_fence(t);		/* tepoch_reader_fence() */
#endif
	w = 0; s = 0
}

/* tepoch.h tepoch_exit() */
inline exit_(t, r)
{
	tso_load(t, WORD + r, w);	/* w = atomic_load_explicit(&r->word, relaxed) */
	assert(DEPTH(w) != 0);		/* tepoch_exit_misuse() */
	tso_store(t, WORD + r, w - 1);	/* atomic_store_explicit(&r->word, w - 1, release) */
#if !(defined(NO_MEMBARRIER) && defined(NO_EXIT_FENCE))
	reader_fence(t);		/* tepoch_reader_fence(): our word, then writer_waiting */
#endif
	/* if (atomic_load_explicit(&r->domain->writer_waiting, relaxed)) tepoch_wake_advancer() */
	tso_load(t, WW, s);
	if
	:: s ->
		/* tepoch_wake_advancer(): atomic_exchange_explicit(&writer_waiting, 0, relaxed) */
		d_step { TSO_FLUSH(t); s = mem[WW]; mem[WW] = 0 };
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
	tso_load(t, HEAD, p);
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
inline scan(e)
{
	in_old = 0; idle = 0;
	for (r : 0 .. NR - 1) {
		/* w = atomic_load_explicit(&r->word, acquire) */
		tso_load(WRITER, WORD + r, w);
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
	r = 0; w = 0
}

/* tepoch.c tepoch_wait_for(d, self, e, may_block): clear = 1 when no record holds e back. */
inline wait_for(e, may_block)
{
#ifdef NO_SETTLE
	fenced = 1;
#else
	fenced = 0;	/* a membarrier since e was loaded: idle records are settled */
#endif
	do
	:: scan(e);
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
				advancer_fence();	/* settles the idle ones (argument 3) */
				fenced = 1
			:: else ->
				/* atomic_store_explicit(&d->writer_waiting, 1, relaxed) */
				tso_store(WRITER, WW, 1);
#ifndef NO_SLEEP_FENCE
				advancer_fence();	/* writer_waiting, then the words */
#endif
				fenced = 1;
				scan(e);
				if
				:: in_old != 0 -> futex_wait_while(WRITER, WW, 1)
				:: else
				fi;
				/* atomic_store_explicit(&d->writer_waiting, 0, relaxed) */
				tso_store(WRITER, WW, 0)
			fi
		fi
	od;
	in_old = 0; idle = 0; fenced = 0
}

/* tepoch.c tepoch_step(d, e): atomic_exchange_explicit(&d->section, section_word(e + 1)) */
inline step(e)
{
	d_step { TSO_FLUSH(WRITER); assert(mem[SECTION] == e); mem[SECTION] = e + 1 }
}

/* tepoch.c tepoch_advance_past(d, self, t, may_block): at most two steps past t */
inline advance_past(t, may_block)
{
	do
	:: tso_load(WRITER, SECTION, e);	/* e = tepoch_epoch(d) (acquire) */
		if
		:: e - t >= STEPS -> break	/* epoch_steps(t, e) < 2 */
		:: else
		fi;
		wait_for(e, may_block);		/* tepoch_advance(): tepoch_wait_for() */
		if
		:: clear -> step(e)		/* tepoch_advance(): tepoch_step() */
		:: else -> break
		fi
	od;
	e = 0
}

/* tepoch.c tepoch_grace_period(r) */
inline grace_period()
{
	tso_load(WRITER, SECTION, e);	/* e = tepoch_epoch(d) */
	wait_for(e, 1);
	step(e);
	e = e + 1;
	wait_for(e, 1);		/* every section that began before e has ended */
	e = 0
}

proctype writer()
{
	byte e, t, now, w, r, in_old, idle, n;
	bool fenced, clear;

	/* lagg_unpublish(): the softc pointer is unpublished (a release store) */
	tso_store(WRITER, HEAD, 0);
#ifdef NAIVE
	freed = 1;
#elif defined(SYNC)
	grace_period();		/* tepoch_synchronize() */
	freed = 1;
#else
	/* tepoch_call(): entry->epoch = epoch_of(fetch_add_explicit(&section, 0, seq_cst)) */
	d_step { TSO_FLUSH(WRITER); t = mem[SECTION] };
	for (n : 1 .. NPOLL) {
		/* tepoch_poll(): tepoch_advance_past(d, r, r->newest_pending, false) */
		advance_past(t, 0);
		/* tepoch_reclaim_own(r, tepoch_epoch(d), false): tepoch_run() */
		tso_load(WRITER, SECTION, now);
		if
		:: !freed && now - t >= STEPS -> freed = 1	/* entry->destroy(entry) */
		:: else
		fi
	}
	/* tepoch_barrier(): tepoch_grace_period(), then tepoch_reclaim_own(r, 0, true) */
	grace_period();
	freed = 1;
#endif
progress:
	gp_done = 1
}

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
		for (i : 1 .. NR) {
			run reader(i, i - 1)
		}
		for (i : 0 .. NTHR - 1) {
			run drainer(i)
		}
	}
}
