/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The registration point that drains (patterns/registry/registry.h, registry.c), its naive
 * twin (unlisten.h) and the driver-side activation count that chapter 1 ends with
 * (unload_plugin.c with count_itself), one slot, with re-registration.
 *
 * Versions (spin -D):
 *   NAIVE         kauth_unlisten_scope(): a call loads the cookie and calls; unregister clears
 *                 it and returns; the driver frees its instance at once.
 *   DRIVER_COUNT  the naive framework, and the driver's own flag and count around its listener
 *                 (global_flag.h): stop clears the flag, waits for the count, unregisters and
 *                 is unloaded. The count's decrement is the listener's code, and so is what
 *                 follows it until the return: "unloaded" is asserted there.
 *   (none)        the fix as written: a call acquires the slot's rundown (a compare-exchange
 *                 that fails once ACTIVE is set), calls, releases (fetch_sub; the last one out
 *                 of an active rundown wakes); unregister sets ACTIVE with fetch_or and sleeps
 *                 on the word until it reads "ACTIVE, no holders"; then the instance is freed
 *                 and its code unloaded; the next registration writes the cookie and re-arms
 *                 the rundown (compare-exchange ACTIVE -> 0).
 *   NO_WAIT       the fix without the drain: unregister sets ACTIVE and returns.
 *   NO_CHECK      the fix without "no further calls": acquire adds a holder whatever the
 *                 ACTIVE bit says.
 *   NO_WAKE       the fix without the wake in the release (liveness).
 *   CALLERS=n     caller threads (default 2); CALLS=n: calls each (default 1); LIVES=n: how
 *                 many listeners the slot holds in turn (default 2: one re-registration).
 *
 * Memory: sequentially consistent. Every access to the rundown word is a read-modify-write
 * except the wait's re-load after a wake, which follows the waiter's own RMW, so on x86-TSO no
 * store of the waiter is still buffered there and the model is exact; the rundown's weak-memory
 * orderings are checked by patterns/rundown/model/rundown.pml. The cookie is a plain field,
 * written before the re-arm and read after a successful acquire.
 *
 * Safety: a listener that runs uses its instance (asserted not freed) and runs its module's
 * code (asserted not unloaded), up to and including whatever it executes after its own
 * count's decrement in DRIVER_COUNT.
 * Liveness (ltl proceeds): every caller and the teardown return.
 */
#ifndef CALLERS
#define CALLERS 2
#endif
#ifndef CALLS
#define CALLS 1
#endif
#ifndef LIVES
#define LIVES 2
#endif
#define NT (CALLERS + 1)	/* threads: the callers, then teardown */

#define ACTIVE 1		/* RUNDOWN_ACTIVE */
#define ONE 2			/* RUNDOWN_ONE */

byte word = ACTIVE;		/* the slot's rundown: run down while the slot is free */
byte cookie;			/* the slot's cookie: the instance (and module) number, 0: none */
bit freed[LIVES + 1];		/* ghost: instance n freed */
bit unloaded[LIVES + 1];	/* ghost: module n's code unmapped */
bit sleeping;			/* futex: teardown asleep on the word */
byte finished;			/* ghost: threads that have returned */
/* DRIVER_COUNT: the driver's globals (global_flag.h), one set per module. */
bit alive[LIVES + 1];
byte in_flight[LIVES + 1];

/* The listener's body: it uses its instance while running its module's code. */
inline LISTENER(c)
{
	assert(!freed[c]);
	assert(!unloaded[c])
}

proctype caller()
{
	byte n, c, before;

	do
	:: n < CALLS ->
#if defined(NAIVE) || defined(DRIVER_COUNT)
		/* unlisten_scope_call(): load fn (and the cookie); NULL: nothing to call */
		c = cookie;
		if
		:: c != 0 ->
#ifdef DRIVER_COUNT
			/* global_flag_enter(): the count, then the flag (seq_cst) */
			in_flight[c]++;
			if
			:: alive[c] -> LISTENER(c)
			:: else
			fi;
			/* global_flag_exit(): the decrement; stop may return from here on */
			in_flight[c]--;
			/* ... and the listener still runs its own code until it returns */
			assert(!unloaded[c])
#else
			LISTENER(c)
#endif
		:: else
		fi;
#else
		/* registry_call_slot(): rundown_acquire(), a compare-exchange */
		atomic {
#ifdef NO_CHECK
			word = word + ONE; c = 1
#else
			if
			:: !(word & ACTIVE) -> word = word + ONE; c = 1
			:: else -> c = 0
			fi
#endif
		}
		if
		:: c ->
			/* *result = s->fn(s->cookie, arg) */
			c = cookie;
			LISTENER(c);
			/* rundown_release(): fetch_sub; from here on, only the registry's code */
			atomic { before = word; word = word - ONE };
			if
			:: before == ACTIVE + ONE ->
#ifndef NO_WAKE
				sleeping = 0	/* rundown_wake_waiter(): futex_wake_all */
#else
				skip
#endif
			:: else
			fi
		:: else
		fi;
#endif
		n++
	:: else -> break
	od;
	finished++
}

/* The drivers' lives: register, (callers run), unregister, free and unload; LIVES times. */
proctype teardown()
{
	byte life = 1, old, v;

	do
	:: life <= LIVES ->
		/* registry_register(): the cookie, then re-arm (rundown_reinit) */
#ifdef DRIVER_COUNT
		alive[life] = 1;
#endif
		cookie = life;
#if !defined(NAIVE) && !defined(DRIVER_COUNT)
		atomic { assert(word == ACTIVE); word = 0 };
#endif
		/* the stop routine */
#if defined(NAIVE) || defined(DRIVER_COUNT)
#ifdef DRIVER_COUNT
		/* global_flag_shutdown(): clear the flag, wait for the count */
		alive[life] = 0;
		in_flight[life] == 0;
#endif
		cookie = 0;		/* kauth_unlisten_scope(): returns at once */
#else
		/* registry_unregister(): rundown_wait_for_release() */
		atomic { old = word; word = word | ACTIVE };
		assert(!(old & ACTIVE));
#ifndef NO_WAIT
		do
		:: word == ACTIVE -> break	/* acquire load: "ACTIVE, no holders" */
		:: atomic { word != ACTIVE -> v = word } ->
			/* futex_wait_while(&ref->word, word): sleeps if the word still holds it */
			atomic {
				if
				:: word == v -> sleeping = 1
				:: else
				fi
			};
			sleeping == 0
		od;
#endif
#endif
		/* the driver frees itself, and its module is unloaded */
		freed[life] = 1;
		unloaded[life] = 1;
		life++
	:: else -> break
	od;
	finished++
}

init
{
	atomic {
		byte i = 0;
		do
		:: i < CALLERS -> run caller(); i++
		:: else -> break
		od;
		run teardown()
	}
}

ltl proceeds { <> (finished == NT) }
