/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RCU plus a reference count: the look-up idiom. Linux's
 *
 *	rcu_read_lock();
 *	p = rcu_dereference(table[key]);
 *	if (p && !refcount_inc_not_zero(&p->ref))
 *		p = NULL;
 *	rcu_read_unlock();
 *
 * and a last put that frees through call_rcu() (Documentation/RCU/rcuref.rst); FreeBSD's
 * if_try_ref() under the net epoch is the same shape. Built on trcu (patterns/rcu) and the
 * last-reference-frees count (patterns/rundown/rundown_kref.h); nothing new underneath.
 *
 * The table holds one reference to each published device. lookup_remove() unpublishes under the
 * update lock, then drops that reference. Whoever drops the last reference queues the free with
 * trcu_call(); nobody waits.
 *
 * Why it is enough. A reader that finds d in the table loaded the pointer inside a read-side
 * section, so d's memory stays valid until that section ends: d is freed only by a trcu_call()
 * callback, queued by the last put, which comes after the unpublish, so its grace period waits
 * for every section that could have loaded d. Inside that section the reader may read d's count
 * but may not revive it: a count of zero means the last put has run and the free is queued, and
 * lookup_get() then returns NULL. A non-zero count taken to count + 1 is a reference like any
 * other, and keeps d after the section ends. The free happens after every use: each holder's
 * put is an acq_rel RMW on the count (rundown_kref.h), and trcu_call() runs after the last one.
 *
 * The naive twin increments without the not-zero check (refcount_inc, atomic_inc): it revives a
 * device whose free is already queued, leaves its section, and uses it while the callback frees
 * it; its own put later queues the free a second time (variants.c).
 *
 * Misuse aborts with "teardown: lookup: misuse: ...": a key outside the table, inserting into a
 * slot that holds a device, lookup_device() on a device with no reference left (used after its
 * last put), destroying a table that still publishes a device. A put without a reference is the
 * count's own misuse ("teardown: rundown: misuse: rundown_kref_put on a zero count ...").
 * Readers are trcu readers: they call trcu_register_thread() first.
 */
#ifndef TEARDOWN_PATTERNS_LOOKUP_LOOKUP_H
#define TEARDOWN_PATTERNS_LOOKUP_LOOKUP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "patterns/common/compiler.h"
#include "patterns/rcu/trcu.h"
#include "patterns/rundown/rundown_kref.h"
#include "scenario/device.h"
#include "scenario/hooks.h"

#define LOOKUP_SLOTS 8

/* quote: lookup_dev */
struct lookup_dev {
	struct rundown_kref ref;	/* the table's reference, plus one per holder */
	int key;
	struct device *dev;		/* what the hot path reads */
	struct trcu_head rcu;		/* the last put queues the free here */
};

struct lookup_table {
	_Atomic(struct lookup_dev *) slot[LOOKUP_SLOTS];	/* readers: trcu only */
	pthread_mutex_t update_lock;	/* insert and remove */
};
/* end quote: lookup_dev */

void lookup_table_init(struct lookup_table *t);
/* Waits for every queued free (trcu_barrier); the table must publish nothing any more. */
void lookup_table_destroy(struct lookup_table *t);
/* A device with one reference: the one lookup_insert() hands to the table. */
struct lookup_dev *lookup_dev_new(int key, struct device *dev);
void lookup_insert(struct lookup_table *t, struct lookup_dev *d);
/* Unpublishes key's device and drops the table's reference. False if none was published. */
bool lookup_remove(struct lookup_table *t, int key);

/* private: called only by the inline functions below; not API */
void lookup_dev_release(struct rundown_kref *k);
void lookup_bad_key(const char *what, int key) __attribute__((noreturn, cold));
void lookup_dev_misuse(const struct lookup_dev *d) __attribute__((noreturn, cold));

/*
 * Scheduling points for the race binary (variants.c): a reader found a device and is about to
 * take its reference; a free was queued; a free ran. No-ops everywhere else.
 */
#ifdef TEARDOWN_RACE_HOOKS
void lookup_race_found(void);
void lookup_race_queued(void);
void lookup_race_freed(void);
#define LOOKUP_FOUND() lookup_race_found()
#define LOOKUP_QUEUED() lookup_race_queued()
#define LOOKUP_FREED() lookup_race_freed()
#else
#define LOOKUP_FOUND() ((void)0)
#define LOOKUP_QUEUED() ((void)0)
#define LOOKUP_FREED() ((void)0)
#endif

static inline void lookup_check_key(const char *what, int key)
{
	if (teardown_unlikely((unsigned)key >= LOOKUP_SLOTS))
		lookup_bad_key(what, key);
}

/* The device published under key, with a reference the caller must put; or NULL. */
/* quote: lookup_get */
static inline struct lookup_dev *lookup_get(struct lookup_table *t, int key)
{
	struct lookup_dev *d;

	lookup_check_key("lookup_get", key);
	trcu_read_lock();
	d = trcu_dereference(t->slot[key]);
	if (d) {
		LOOKUP_FOUND();
		/* Zero: the last put has run and the free is queued. Do not revive it. */
		if (!rundown_kref_get_unless_zero(&d->ref))
			d = NULL;
	}
	trcu_read_unlock();	/* from here on the reference, not the section, keeps d */
	return d;
}

static inline void lookup_put(struct lookup_dev *d)
{
	rundown_kref_put(&d->ref, lookup_dev_release);	/* the last one queues the free */
}
/* end quote: lookup_get */

/*
 * The device of a look-up the caller still holds a reference to. The check sees a use after
 * the last put only while the memory is still valid (inside a section); a use after a put that
 * was not the last passes it, and one after the free is itself a use after free (AddressSanitizer).
 */
static inline struct device *lookup_device(struct lookup_dev *d)
{
	if (teardown_unlikely(rundown_kref_read(&d->ref) == 0))
		lookup_dev_misuse(d);
	return d->dev;
}

#endif /* TEARDOWN_PATTERNS_LOOKUP_LOOKUP_H */
