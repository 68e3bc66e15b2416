/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The look-up idiom (patterns/lookup/lookup.h, lookup.c), as Spin sees it: NR readers each run
 * lookup_get() once (trcu_read_lock, load the table's pointer, get_unless_zero,
 * trcu_read_unlock), use the device if they got a reference, and put it; teardown runs
 * lookup_remove() (unpublish, then put the table's reference); the last put queues the free
 * (trcu_call), and the callback thread frees after a grace period.
 *
 * What is modelled, step by step:
 *   - the device's count (the table's reference and one per holder); the get as one atomic
 *     step (the CAS loop of rundown_kref_get_unless_zero), each put as one atomic decrement;
 *   - the read-side section as a flag per reader, and the grace period as trcu_synchronize()
 *     guarantees it: it waits for every section that had begun when it started;
 *   - trcu_call(): the last put queues; the callback thread takes the queue, runs a grace
 *     period, frees.
 * Abstracted away: memory order (sequential consistency: the count's acq_rel and trcu's
 * fences are the rundown and rcu models' subject, not this one), the grace period's own
 * mechanism (trcu.pml checks it), the update lock (one remover), misuse checks.
 *
 * Versions (spin -D):
 *   NAIVE             refcount_inc: the get without the not-zero check (variants.c naive_get).
 *   (none)            the fix: lookup_get() and lookup_remove() as written.
 *   FREE_AT_LAST_PUT  the last put frees at once instead of through trcu_call.
 *   GET_OUTSIDE_SECTION  the reader leaves its section after the load, before the get.
 *   PUT_BEFORE_UNPUBLISH teardown drops the table's reference before it unpublishes.
 *   TYPESAFE          lookup_typesafe.h: the last put frees the device at once and the memory is
 *                     reused for device 3 (lookup_ts_insert: identity, then count, with release);
 *                     the reader re-checks the identity after its get (lookup_ts_try).
 *   NO_RECHECK        with TYPESAFE: no identity check (typesafe_test.c's naive twin).
 *   COUNT_FIRST       with TYPESAFE: the reuse publishes the count before the identity.
 *   WEAK              with TYPESAFE: the count and the key in the Arm-like memory of weak.pml
 *                     (a load may be satisfied early unless a fence or an acquire of its thread
 *                     orders it), one reader that holds a stale pointer. The get is a relaxed
 *                     compare-exchange (it reads the newest count), then lookup_ts_acquire_fence()
 *                     (a full fence here, stronger than the acquire fence: what it orders, the
 *                     later loads after the count, is the same), then the key's acquire load;
 *                     the reuse stores the key, then the count (release: weak.pml's stores leave
 *                     their buffer in order); each put is an acq_rel read-modify-write.
 *   NO_FENCE          with WEAK: lookup_ts_try() without lookup_ts_acquire_fence().
 *   KEY_RELAXED       with WEAK: the key loaded relaxed (its acquire is ThreadSanitizer's edge).
 *   COUNT_RELAXED     with WEAK: lookup_ts_insert() stores the count relaxed, so that it may
 *                     become visible before the key.
 *
 * Safety: assert(!freed) wherever a reader touches the device (its count, in the get; its
 * fields, in the use), and in the callback (freed once). With TYPESAFE the memory is never
 * freed; the use asserts that it is device 2, the one looked up, and that device 2 is not freed
 * (assert(identity == 2 && !freed)). With WEAK, identity is the device whose count the get took
 * (device 3's once device 2's last put has run: no other write makes the count non-zero).
 */

#ifdef WEAK
/*
 * The type-stable get on the Arm-like memory. Threads: the reader, teardown (lookup_ts_remove's
 * put), the reuse (lookup_ts_insert of device 3 into the same memory). Memory: the count and
 * the key. The table's slot, the cache and what the free does are as in the model below.
 */
#define LOOKED_UP 2
#define OTHER 3
#define REF 0
#define KEY 1
#define NVAR 2
#define READER 0
#define TEARDOWN 1
#define REUSE 2
#define NTHR 3
#define WEAK_READS(t, v) ((t) == READER)	/* only the reader loads; the rest are RMWs */
#include "weak.pml"

byte identity = LOOKED_UP;	/* ghost: the device whose count the reader's get took */
bool released;			/* device 2's last put ran: the memory is back in the cache */
bool freed;			/* device 2 freed */
bool published = 1;

/* rundown_kref_put(): acq_rel; the last one is lookup_ts_release(). */
inline put(T_)
{
	d_step {
		WEAK_FLUSH(T_);
		c = mem[REF];
		assert(c > 0);
		WEAK_WRITE(T_, REF, c - 1);
		WEAK_ACQUIRE_NOW(T_);
		if
		:: c == 1 -> assert(!released); freed = 1; released = 1
		:: else
		fi;
		c = 0;
		WEAK_CANON
	}
}

proctype reader()
{
	bool got;
	byte c, k;

	/* A pointer loaded in its section: the memory stays a device's, whatever it holds now. */
	d_step {
		c = mem[REF];	/* rundown_kref_get_unless_zero(): relaxed, reads the newest */
		if
		:: c > 0 ->
			WEAK_WRITE(READER, REF, c + 1);
			got = 1;
			identity = (released -> OTHER : LOOKED_UP)
		:: else
		fi;
		c = 0;
		WEAK_CANON
	}
	if
	:: got ->
#ifndef NO_FENCE
		weak_fence(READER);	/* lookup_ts_acquire_fence() */
#endif
#ifdef KEY_RELAXED
		weak_load(READER, KEY, k);
#else
		weak_load_acquire(READER, KEY, k);
#endif
		if
		:: k != LOOKED_UP -> got = 0; put(READER)	/* not ours: put it back */
		:: else
		fi
	:: else
	fi;
	if
	:: got ->
		assert(identity == LOOKED_UP && !freed);	/* the device looked up */
		put(READER)
	:: else
	fi
}

proctype teardown()
{
	byte c;

	published = 0;
	put(TEARDOWN)	/* the table's reference */
}

proctype reuse()
{
	released;
#ifdef COUNT_RELAXED
	/*
	 * A relaxed count: the key's release orders nothing after it, so the count may reach the
	 * reader first (weak.pml's buffers leave in order: the choice plays that).
	 */
	if
	:: weak_store(REUSE, KEY, OTHER); weak_store(REUSE, REF, 1)
	:: weak_store(REUSE, REF, 1); weak_store(REUSE, KEY, OTHER)
	fi
#else
	weak_store(REUSE, KEY, OTHER);	/* the identity, then */
	weak_store(REUSE, REF, 1)	/* the count, last, with release */
#endif
}

init
{
	atomic {
		mem[REF] = 1;
		mem[KEY] = LOOKED_UP;
		run reader();
		run teardown();
		run reuse();
		run drainer(REUSE)
	}
}
#else	/* the model on sequentially consistent memory */

#ifdef TYPESAFE
#define LOOKED_UP 2
#define OTHER 3
byte identity = LOOKED_UP;	/* lookup_ts_dev.key: which device the memory holds */
bool released;			/* the memory is back in the cache */
#endif

#ifndef NR
#define NR 2		/* readers */
#endif

bool published = 1;	/* the table's slot: 1 the device, 0 NULL */
byte ref = 1;		/* the device's count: the table's reference */
byte queued;		/* frees queued by trcu_call */
bool freed;
bool in_section[NR];	/* trcu_read_lock .. trcu_read_unlock */

/* rundown_kref_put(); the last one is lookup_dev_release(). */
inline put()
{
	atomic {
		assert(ref > 0);
		ref--;
		last = (ref == 0)
	};
	if
	:: last ->
#if defined(TYPESAFE)
		freed = 1;	/* device_free(d->dev), at once */
		released = 1	/* kmem_cache_free() */
#elif defined(FREE_AT_LAST_PUT)
		freed = 1
#else
		queued++	/* trcu_call(&d->rcu, lookup_dev_free_rcu) */
#endif
	:: else -> skip
	fi
}

proctype reader(byte r)
{
	bool found, got, last;

	in_section[r] = 1;	/* trcu_read_lock() */
	found = published;	/* trcu_dereference(t->slot[key]) */
#ifdef GET_OUTSIDE_SECTION
	in_section[r] = 0;
#endif
	if
	:: found ->
#ifndef TYPESAFE
		assert(!freed);	/* the get reads the count */
#endif
#ifdef NAIVE
		ref++;		/* refcount_inc: 0 becomes 1 */
		got = 1
#else
		atomic {
			if
			:: ref > 0 -> ref++; got = 1
			:: else -> skip	/* dying: not revived */
			fi
		}
#endif
#if defined(TYPESAFE) && !defined(NO_RECHECK)
		if
		:: got && identity != LOOKED_UP ->	/* reused: not ours */
			got = 0;
			put()
		:: else -> skip
		fi
#endif
	:: else -> skip
	fi;
#ifndef GET_OUTSIDE_SECTION
	in_section[r] = 0;	/* trcu_read_unlock(): the reference keeps it from here on */
#endif
	if
	:: got ->
#ifdef TYPESAFE
		assert(identity == LOOKED_UP && !freed);	/* the device looked up */
#else
		assert(!freed);	/* device_read_state(d->dev) */
#endif
		put()
	:: else -> skip
	fi
}

proctype teardown()
{
	bool last;

#ifdef PUT_BEFORE_UNPUBLISH
	put();
	published = 0
#else
	published = 0;	/* unpublish under the update lock */
	put()		/* the table's reference */
#endif
}

/* trcu_call's thread: a grace period after the queueing, then the free. */
proctype callback()
{
	bool waits[NR];
	byte i;

end_idle:
	queued > 0;	/* FREE_AT_LAST_PUT queues nothing: an idle thread is a valid end */
	/* trcu_synchronize(): every section that has begun by now */
	atomic {
		for (i : 0 .. NR - 1) {
			waits[i] = in_section[i]
		}
	};
	for (i : 0 .. NR - 1) {
		if
		:: waits[i] -> !in_section[i]
		:: else -> skip
		fi
	};
	assert(!freed);	/* freed once */
	freed = 1
}

#ifdef TYPESAFE
/* The driver attaches device 3; the cache hands it this memory once it is free. */
proctype reuse()
{
	released;
#ifdef COUNT_FIRST
	ref = 1;
	identity = OTHER
#else
	identity = OTHER;	/* the key, then */
	ref = 1			/* the count, last, with release */
#endif
}
#endif

init
{
	byte i;

	atomic {
		for (i : 0 .. NR - 1) {
			run reader(i)
		};
		run teardown();
#ifdef TYPESAFE
		run reuse()
#else
		run callback()
#endif
	}
}
#endif	/* WEAK */
