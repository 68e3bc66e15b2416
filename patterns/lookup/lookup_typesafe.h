/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The look-up over type-stable memory: Linux's SLAB_TYPESAFE_BY_RCU. Devices come from a cache
 * that reuses a freed device's memory at once, but only for another device: the memory stays a
 * struct lookup_ts_dev until the cache itself is destroyed, a grace period after its last use.
 * So the last put frees without waiting, and a reader inside a read-side section that loaded a
 * pointer may find, at that address, another device than the one it looked up.
 *
 * Why it is enough. The get reads a count that is always a device's count (the memory is never
 * anything else while a section can hold a pointer to it): zero while the memory is free in the
 * cache or dying, so get_unless_zero refuses it. When the get succeeds the reader holds a
 * reference to whatever device now lives there, and checks its identity (the key) before it
 * uses it; a mismatch is put back and the look-up starts again. The key must be the one the
 * count was published with: lookup_ts_insert() writes the identity first and the count last,
 * with release (refcount_set_release), and the reader's successful get is followed by an
 * acquire fence (slab.h asks for the same pairing).
 *
 * The naive twin skips the identity check: it holds a reference to a live device of the right
 * type, and reads another device's state. No sanitizer sees it; the unit test typesafe_test.c
 * does, by the device's generation.
 *
 * Misuse: as lookup.h ("teardown: lookup: misuse: ..."), and destroying a table while a device
 * is still referenced (its holder's put would touch memory that destroy gave back).
 */
#ifndef TEARDOWN_PATTERNS_LOOKUP_LOOKUP_TYPESAFE_H
#define TEARDOWN_PATTERNS_LOOKUP_LOOKUP_TYPESAFE_H

#include <stdint.h>

#include "patterns/lookup/lookup.h"

/* quote: ts_dev */
struct lookup_ts_dev {
	struct rundown_kref ref;	/* 0 while free in the cache */
	_Atomic int key;		/* identity: rewritten when the memory is reused */
	_Atomic(struct device *) dev;
	_Atomic uint64_t gen;		/* bumped on every reuse: what tests compare */
	struct lookup_ts_table *table;	/* the cache this memory belongs to, for good */
	struct lookup_ts_dev *cache_next, *cache_all;	/* under the cache lock */
};
/* end quote: ts_dev */

struct lookup_ts_table {
	_Atomic(struct lookup_ts_dev *) slot[LOOKUP_SLOTS];	/* readers: trcu only */
	pthread_mutex_t update_lock;
	pthread_mutex_t cache_lock;
	struct lookup_ts_dev *cache_free, *cache_all;	/* LIFO: the last freed is reused first */
};

void lookup_ts_table_init(struct lookup_ts_table *t);
/* A grace period, then the cache's memory goes back to malloc. Nothing may be published or held. */
void lookup_ts_table_destroy(struct lookup_ts_table *t);
/* Publishes dev under key, in memory from the cache (reused at once if any is free). */
struct lookup_ts_dev *lookup_ts_insert(struct lookup_ts_table *t, int key, struct device *dev);
/* Unpublishes key's device and drops the table's reference. False if none was published. */
bool lookup_ts_remove(struct lookup_ts_table *t, int key);

/* private: called only by the inline functions below; not API */
void lookup_ts_release(struct rundown_kref *k);
void lookup_ts_dev_misuse(const struct lookup_ts_dev *d) __attribute__((noreturn, cold));

/*
 * smp_acquire__after_ctrl_dep(), as a C11 fence. ThreadSanitizer models no standalone fence
 * (patterns/common/asymmetric_fence.h says how gcc warns about that); the key's acquire load
 * below is its edge, the fence is the hardware's.
 */
static inline void lookup_ts_acquire_fence(void)
{
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
	atomic_thread_fence(memory_order_acquire);
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic pop
#endif
}

static inline void lookup_ts_put(struct lookup_ts_dev *d)
{
	rundown_kref_put(&d->ref, lookup_ts_release);	/* the last one frees: no grace period */
}

/*
 * A reference to d if d is still the device published under key; in a read-side section, on a
 * pointer loaded from the table in that section.
 */
/* quote: ts_try */
static inline bool lookup_ts_try(struct lookup_ts_dev *d, int key)
{
	if (!rundown_kref_get_unless_zero(&d->ref))
		return false;	/* free in the cache, or dying */
	/* Pairs with lookup_ts_insert()'s release store of the count: its key, not an older one. */
	lookup_ts_acquire_fence();
	/* Acquire too: ThreadSanitizer's edge to the device's fields (it models no fence). */
	if (atomic_load_explicit(&d->key, memory_order_acquire) != key) {
		SCENARIO_NOTE("the memory now holds device %d: not ours; puts it back",
			      atomic_load_explicit(&d->key, memory_order_relaxed));
		lookup_ts_put(d);
		return false;
	}
	return true;
}
/* end quote: ts_try */

/* quote: ts_get */
static inline struct lookup_ts_dev *lookup_ts_get(struct lookup_ts_table *t, int key)
{
	struct lookup_ts_dev *d;

	lookup_check_key("lookup_ts_get", key);
	trcu_read_lock();
	do {
		d = trcu_dereference(t->slot[key]);
		if (d)
			LOOKUP_FOUND();
	} while (d && !lookup_ts_try(d, key));	/* reused or dying: look again */
	trcu_read_unlock();
	return d;
}
/* end quote: ts_get */

/*
 * The device of a look-up the caller still holds a reference to. As lookup_device(), and once the
 * memory is reused the count is the new device's: the check passes and returns the other device.
 */
static inline struct device *lookup_ts_device(struct lookup_ts_dev *d)
{
	if (teardown_unlikely(rundown_kref_read(&d->ref) == 0))
		lookup_ts_dev_misuse(d);
	return atomic_load_explicit(&d->dev, memory_order_relaxed);
}

#endif /* TEARDOWN_PATTERNS_LOOKUP_LOOKUP_TYPESAFE_H */
