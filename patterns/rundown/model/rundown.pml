/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one-word rundown (patterns/rundown/rundown.h, rundown.c) protecting the lab's softc
 * (lagg.h: rundown_lagg_enter_rundown / exit_rundown; variants.c: rundown_teardown), on
 * x86-TSO, and on a weaker machine where a relaxed read-modify-write does not wait for the
 * thread's earlier stores.
 *
 * Versions (spin -D):
 *   NAIVE            a bare count: acquire increments without looking at anything, wait sleeps
 *                    until it reads zero. Nothing closes the door: a holder that arrives after
 *                    that read uses the softc teardown frees.
 *   (none)           the fix as written: acquire is a compare-exchange that adds a holder only
 *                    while the ACTIVE bit is clear; wait sets ACTIVE with fetch_or and sleeps on
 *                    the word until it reads "ACTIVE, no holders"; the last holder out wakes it.
 *   RELAXED_RELEASE  the fix with rundown_release()'s fetch_sub relaxed instead of release.
 *   NO_WAKE          the fix without futex_wake_all() in rundown_wake_waiter() (liveness).
 *   WEAK_RMW         the memory model: a relaxed or acquire read-modify-write takes effect on
 *                    memory at once without draining the thread's store buffer first (Arm's
 *                    ldadd/cas without release, or an exclusive pair); a release or seq_cst one
 *                    drains it first. Without it, every read-modify-write is x86's lock-prefixed
 *                    instruction, which drains the buffer whatever the C ordering says.
 *   READERS=n        holder threads (default 2); CYCLES=n: acquisitions each (default 1).
 *
 * Safety: a holder uses the softc by reading it (asserted at once) and by writing it (asserted
 * when the write reaches memory): neither may come after teardown freed the softc.
 * Liveness (ltl proceeds): every holder and the teardown return.
 * Not modelled: rundown_completed/rundown_reinit (teardown runs once), misuse checks and the
 * overflow limit; a weak compare-exchange is a strong one.
 */

/* ---- memory: a store buffer per thread, read-modify-writes, futexes ---------------------- */
#ifndef READERS
#define READERS 2
#endif
#ifndef CYCLES
#define CYCLES 1
#endif
#define NT (READERS + 1)	/* threads: the holders, then teardown */
#define TD READERS		/* teardown's thread number */
#define SB 2			/* store buffer entries per thread */

#define WORD 0			/* struct rundown_ref: word (also the futex) */
#define SOFTC 1			/* ifp->if_softc (0: unpublished) */
#define OBJ 2			/* a field of the softc that holders write */
#define NV 3

#define ACTIVE 1		/* RUNDOWN_ACTIVE */
#define ONE 2			/* RUNDOWN_ONE */

byte mem[NV];
byte sb_a[NT * SB];		/* store buffer: address, value; oldest first */
byte sb_v[NT * SB];
byte sb_n[NT];
byte sleeping[NT];		/* futex: address + 1 the thread sleeps on; 0: awake */
bit freed;			/* ghost: teardown has freed the softc */
byte finished;			/* ghost: threads that have returned */

/* A plain store (mov): into the buffer; it waits for room, as a full buffer stalls. */
inline STORE(th, addr, val)
{
	atomic {
		sb_n[th] < SB ->
		sb_a[th * SB + sb_n[th]] = addr;
		sb_v[th * SB + sb_n[th]] = val;
		sb_n[th]++
	}
}

/* A plain load (mov): the newest store to `addr` in our own buffer, else memory. */
inline LOAD(th, addr, val)
{
	atomic {
		val = mem[addr];
		if
		:: sb_n[th] > 0 && sb_a[th * SB] == addr -> val = sb_v[th * SB]
		:: else
		fi;
		if
		:: sb_n[th] > 1 && sb_a[th * SB + 1] == addr -> val = sb_v[th * SB + 1]
		:: else
		fi
	}
}

/* The oldest buffered store reaches memory; a write to the softc must not land after the free. */
inline DRAIN_ONE(th)
{
	assert(sb_a[th * SB] != OBJ || !freed);
	mem[sb_a[th * SB]] = sb_v[th * SB];
	sb_a[th * SB] = sb_a[th * SB + 1];
	sb_v[th * SB] = sb_v[th * SB + 1];
	sb_a[th * SB + 1] = 0;
	sb_v[th * SB + 1] = 0;
	sb_n[th]--
}

/* mfence, or the drain that opens every lock-prefixed instruction. */
inline FENCE(th)
{
	atomic {
		do
		:: sb_n[th] > 0 -> DRAIN_ONE(th)
		:: else -> break
		od
	}
}

/* What a read-modify-write does with the thread's earlier stores; rel: release or seq_cst. */
#ifdef WEAK_RMW
#define RMW_ORDER(th, rel) if :: rel -> FENCE(th) :: else fi
#else
#define RMW_ORDER(th, rel) FENCE(th)
#endif

inline FETCH_ADD(th, addr, delta, oldval, rel)
{
	atomic {
		RMW_ORDER(th, rel);
		oldval = mem[addr];
		mem[addr] = mem[addr] + delta
	}
}

inline FETCH_SUB(th, addr, delta, oldval, rel)
{
	atomic {
		RMW_ORDER(th, rel);
		oldval = mem[addr];
		mem[addr] = mem[addr] - delta
	}
}

inline FETCH_OR(th, addr, bits, oldval, rel)
{
	atomic {
		RMW_ORDER(th, rel);
		oldval = mem[addr];
		mem[addr] = mem[addr] | bits
	}
}

inline EXCHANGE(th, addr, val, oldval, rel)
{
	atomic {
		RMW_ORDER(th, rel);
		oldval = mem[addr];
		mem[addr] = val
	}
}

/* A strong compare-exchange; `expect_val` is updated on failure, as in C. */
inline CAS(th, addr, expect_val, val, okay, rel)
{
	atomic {
		RMW_ORDER(th, rel);
		if
		:: mem[addr] == expect_val -> mem[addr] = val; okay = 1
		:: else -> expect_val = mem[addr]; okay = 0
		fi
	}
}

/*
 * futex_wait_while(word, expected): the kernel's full barrier (futex_wait's smp_mb before it
 * reads the word), then "sleep if the word still holds expected", atomically under the hash
 * bucket's lock; the thread runs again only when woken.
 */
inline FUTEX_WAIT(th, addr, expect_val)
{
	FENCE(th);
	atomic {
		if
		:: mem[addr] == expect_val -> sleeping[th] = addr + 1
		:: else
		fi
	}
	sleeping[th] == 0
}

/*
 * futex_wake_all(word): every sleeper on the word runs again. The kernel keys the sleepers by
 * the word's address and never reads the word (rundown_wake_waiter() relies on it). The
 * caller declares `byte _u`.
 */
inline FUTEX_WAKE(th, addr)
{
	FENCE(th);
	atomic {
		_u = 0;
		do
		:: _u < NT ->
			if
			:: sleeping[_u] == addr + 1 -> sleeping[_u] = 0
			:: else
			fi;
			_u++
		:: else -> break
		od;
		_u = 0
	}
}

/* Each thread's buffer drains to memory on its own, one store at a time, at any moment. */
proctype drain(byte t)
{
end:
	do
	:: atomic { sb_n[t] > 0 -> DRAIN_ONE(t) }
	od
}

/* ---- the holder: rundown_lagg_enter_rundown(), a use, rundown_lagg_exit_rundown() -------- */

/* rundown_release() */
inline RELEASE(t)
{
#ifdef NAIVE
	FETCH_SUB(t, WORD, ONE, before, 1);
	if
	:: before == ONE -> FUTEX_WAKE(t, WORD)	/* the last one out wakes the waiter */
	:: else
	fi
#else
	/* before = atomic_fetch_sub_explicit(&ref->word, RUNDOWN_ONE, release) */
#ifdef RELAXED_RELEASE
	FETCH_SUB(t, WORD, ONE, before, 0);
#else
	FETCH_SUB(t, WORD, ONE, before, 1);
#endif
	/* if (before == RUNDOWN_ACTIVE + RUNDOWN_ONE) rundown_wake_waiter(ref) */
	if
	:: before == ACTIVE + ONE ->
#ifndef NO_WAKE
		/* rundown_wake_waiter(): futex_wake_all(&ref->word) */
		FUTEX_WAKE(t, WORD)
#else
		skip
#endif
	:: else
	fi
#endif
}

proctype holder(byte t)
{
	byte w, before, sc, n, _u;
	bit ok, granted;

	do
	:: n < CYCLES ->
#ifdef NAIVE
		FETCH_ADD(t, WORD, ONE, before, 1);	/* count++, no door to find closed */
		granted = 1;
#else
		/* rundown_acquire(): word = atomic_load_explicit(&ref->word, relaxed) */
		LOAD(t, WORD, w);
		do
		:: w & ACTIVE -> granted = 0; break	/* return false */
		:: else ->
			/* compare_exchange_weak(&ref->word, &word, word + ONE, acquire, relaxed) */
			CAS(t, WORD, w, w + ONE, ok, 0);
			if
			:: ok -> granted = 1; break
			:: else
			fi
		od;
#endif
		if
		:: granted ->
			/* rundown_lagg_softc_of(ifp)->sc_dev: the softc is read ... */
			LOAD(t, SOFTC, sc);
			if
			:: sc ->
				assert(!freed);
				/* ... and written (checked when the write reaches memory) */
				STORE(t, OBJ, t + 1)
			:: else
			fi;
			/* rundown_lagg_exit_rundown(): rundown_release(&ifp->if_rundown) */
			RELEASE(t)
		:: else
		fi;
		granted = 0;
		n++
	:: else -> break
	od;
	finished++
}

/* ---- teardown: rundown_teardown() -------------------------------------------------------- */

proctype teardown()
{
	byte w, old;

#ifdef NAIVE
	/* wait until the count reads zero */
	do
	:: LOAD(TD, WORD, w);
		if
		:: w == 0 -> break
		:: else -> FUTEX_WAIT(TD, WORD, w)
		fi
	od;
#else
	/* rundown_wait_for_release(): atomic_fetch_or_explicit(&ref->word, ACTIVE, acquire) */
	FETCH_OR(TD, WORD, ACTIVE, w, 0);
	w = w | ACTIVE;
	/* while (word != RUNDOWN_ACTIVE) */
	do
	:: w == ACTIVE -> break
	:: else ->
		/* futex_wait_while(&ref->word, word) */
		FUTEX_WAIT(TD, WORD, w);
		/* word = atomic_load_explicit(&ref->word, acquire) */
		LOAD(TD, WORD, w)
	od;
#endif
	/* rundown_lagg_softc_free(lagg_unpublish(ifp)): exchange(if_softc, NULL, relaxed), free */
	EXCHANGE(TD, SOFTC, 0, old, 0);
	freed = 1;
	finished++
}

init
{
	atomic {
		byte i = 0;
		mem[SOFTC] = 1;	/* the softc is published; RUNDOWN_REF_INIT: no holders */
		do
		:: i < READERS -> run holder(i); i++
		:: else -> break
		od;
		run teardown();
		i = 0;
		do
		:: i < NT -> run drain(i); i++
		:: else -> break
		od
	}
}

ltl proceeds { <> (finished == NT) }
