/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The global flag and its repair, the activation count (patterns/global_flag/global_flag.h,
 * global_flag.c, and the flag remedy in listener.h and variants.c), on x86-TSO.
 *
 * Versions (spin -D):
 *   NAIVE        the folk remedy: the callback loads `alive` (acquire) and uses the instance;
 *                teardown stores alive = false (release), unregisters and frees.
 *   (none)       the fix as written: enter = fetch_add(in_flight) seq_cst, load alive;
 *                exit = fetch_sub, the last one out after shutdown wakes; shutdown = exchange
 *                alive, then load in_flight and futex-sleep until it reads 0.
 *   ALIVE_STORE  the fix with shutdown's atomic_exchange_explicit(&gf->alive, false, seq_cst)
 *                written as atomic_store_explicit(..., memory_order_release): a plain mov on
 *                x86, so teardown's store of alive can sit in its store buffer while it loads
 *                in_flight (the store-load pair loses its teardown half).
 *   RELAXED_INC  the fix with global_flag_enter()'s fetch_add relaxed instead of seq_cst.
 *   NO_WAKE      the fix without the wake in global_flag_exit(): a lost wake-up (liveness).
 *   WEAK_RMW     the memory model: a relaxed read-modify-write whose result is unused waits in
 *                the store buffer like a store, so later loads can pass it (Arm's stadd, or
 *                ldadd without release, followed by ldar); seq_cst ones drain the buffer, as
 *                ldaddal/swpal before an ldar do. Without it, every read-modify-write is x86's
 *                lock-prefixed instruction, which drains the buffer whatever the C ordering.
 *   READERS=n    callbacks (default 2); CYCLES=n: callbacks each makes (default 1).
 *
 * Safety: a callback that uses the instance asserts it has not been freed.
 * Liveness (ltl proceeds): every callback and the teardown return.
 */

/* ---- x86-TSO: memory, a store buffer per thread, futexes ------------------------------ */
#ifndef READERS
#define READERS 2
#endif
#ifndef CYCLES
#define CYCLES 1
#endif
#define NT (READERS + 1)	/* threads: the callbacks, then teardown */
#define TD READERS		/* teardown's thread number */
#define SB 2			/* store buffer entries per thread */

#define ALIVE 0			/* struct global_flag: alive */
#define INFL 1			/* struct global_flag: in_flight */
#define NV 2

byte mem[NV];
byte sb_a[NT * SB];		/* store buffer: address, value; oldest first */
byte sb_v[NT * SB];
byte sb_n[NT];
byte sleeping[NT];		/* futex: address + 1 the thread sleeps on; 0: awake */
bit freed;			/* ghost: teardown has freed the instance */
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

/*
 * WEAK_RMW: a relaxed fetch_add with its result unused, as a buffer entry that adds when it
 * drains (ADD_MARK marks the value as a delta).
 */
#define ADD_MARK 128
inline ADD_LATER(th, addr, delta)
{
	STORE(th, addr, ADD_MARK | delta)
}

/*
 * A plain load (mov): the newest store to `addr` in our own buffer, else memory. (No thread
 * here loads a word while its own delayed add to it is buffered: asserted.)
 */
inline LOAD(th, addr, val)
{
	atomic {
		assert(!(sb_n[th] > 0 && sb_a[th * SB] == addr && (sb_v[th * SB] & ADD_MARK)));
		assert(!(sb_n[th] > 1 && sb_a[th * SB + 1] == addr &&
			 (sb_v[th * SB + 1] & ADD_MARK)));
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

/* The oldest buffered store (or delayed add) reaches memory. */
inline DRAIN_ONE(th)
{
	if
	:: sb_v[th * SB] & ADD_MARK ->
		mem[sb_a[th * SB]] = mem[sb_a[th * SB]] + (sb_v[th * SB] & ~ADD_MARK)
	:: else ->
		mem[sb_a[th * SB]] = sb_v[th * SB]
	fi;
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

/* lock xadd: drains the buffer, then reads and writes memory in one step. */
inline FETCH_ADD(th, addr, delta, oldval)
{
	atomic {
		FENCE(th);
		oldval = mem[addr];
		mem[addr] = mem[addr] + delta
	}
}

inline FETCH_SUB(th, addr, delta, oldval)
{
	atomic {
		FENCE(th);
		oldval = mem[addr];
		mem[addr] = mem[addr] - delta
	}
}

/* xchg */
inline EXCHANGE(th, addr, val, oldval)
{
	atomic {
		FENCE(th);
		oldval = mem[addr];
		mem[addr] = val
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
 * futex_wake_all(word): the waker's full barrier, then every sleeper on the word runs again.
 * The caller declares `byte _u`.
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

/* ---- the protocol ------------------------------------------------------------------------ */

/* global_flag_exit() */
inline GF_EXIT(t)
{
	/* uint32_t before = atomic_fetch_sub_explicit(&gf->in_flight, 1, seq_cst): lock xadd */
	FETCH_SUB(t, INFL, 1, before);
	if
	:: before == 1 ->
		/* if (!atomic_load_explicit(&gf->alive, seq_cst)): mov */
		LOAD(t, ALIVE, v);
		if
		:: !v ->
#ifndef NO_WAKE
			/* global_flag_wake_shutdown(gf): futex_wake_all(&gf->in_flight) */
			FUTEX_WAKE(t, INFL)
#else
			skip
#endif
		:: else
		fi
	:: else
	fi
}

proctype callback(byte t)
{
	byte v, before, n, _u;

	do
	:: n < CYCLES ->
#ifdef NAIVE
		/* global_flag_listener_enter_flag(): atomic_load_explicit(&l->alive, acquire) */
		LOAD(t, ALIVE, v);
		if
		:: v ->
			/* enter_raw(): the instance is used */
			assert(!freed)
		:: else
		fi;
#else
		/* global_flag_enter(): atomic_fetch_add_explicit(&gf->in_flight, 1, seq_cst) */
#if defined(RELAXED_INC) && defined(WEAK_RMW)
		/* relaxed, on Arm: the add may land after the load below */
		ADD_LATER(t, INFL, 1);
#else
		FETCH_ADD(t, INFL, 1, before);	/* lock xadd, relaxed or not */
#endif
		/* if (atomic_load_explicit(&gf->alive, seq_cst)): mov */
		LOAD(t, ALIVE, v);
		if
		:: v ->
			/* enter returned true: the callback uses the instance, then exits */
			assert(!freed);
			GF_EXIT(t)
		:: else ->
			/* enter returned false after its own global_flag_exit(gf) */
			GF_EXIT(t)
		fi;
#endif
		n++
	:: else -> break
	od;
	finished++
}

proctype teardown()
{
	byte v, old;
#ifdef NAIVE
	/* flag_clear(): atomic_store_explicit(&l->alive, false, release): mov */
	STORE(TD, ALIVE, 0);
#else
	/* global_flag_shutdown() */
#ifdef ALIVE_STORE
	STORE(TD, ALIVE, 0);	/* the exchange as a release store: mov */
#else
	/* atomic_exchange_explicit(&gf->alive, false, seq_cst): xchg */
	EXCHANGE(TD, ALIVE, 0, old);
#endif
	/* while ((in_flight = atomic_load_explicit(&gf->in_flight, seq_cst)) != 0) */
	do
	:: LOAD(TD, INFL, v);
		if
		:: v == 0 -> break
		:: else ->
			/* futex_wait_while(&gf->in_flight, in_flight) */
			FUTEX_WAIT(TD, INFL, v)
		fi
	od;
#endif
	/* device_free(listener_unlisten(l)): unlisten is not modelled; the free is */
	freed = 1;
	finished++
}

init
{
	atomic {
		mem[ALIVE] = 1;	/* GLOBAL_FLAG_INIT: alive, nothing in flight */
		byte i = 0;
		do
		:: i < READERS -> run callback(i); i++
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
