/* SPDX-License-Identifier: BSD-2-Clause */
/* The type-stable look-up's cache, update side and misuse messages (see lookup_typesafe.h). */
#include "patterns/lookup/lookup_typesafe.h"

#include <stdlib.h>

#include "patterns/common/die.h"
#include "patterns/common/misuse.h"

void lookup_ts_table_init(struct lookup_ts_table *t)
{
	int err = pthread_mutex_init(&t->update_lock, NULL);

	if (!err)
		err = pthread_mutex_init(&t->cache_lock, NULL);
	if (err)
		teardown_die("lookup", err, "pthread_mutex_init (the type-stable table's locks)");
	for (int key = 0; key < LOOKUP_SLOTS; key++)
		atomic_init(&t->slot[key], NULL);
	t->cache_free = t->cache_all = NULL;
}

void lookup_ts_table_destroy(struct lookup_ts_table *t)
{
	struct lookup_ts_dev *d, *next;

	for (int key = 0; key < LOOKUP_SLOTS; key++)
		if (atomic_load_explicit(&t->slot[key], memory_order_relaxed))
			teardown_misuse("lookup", "lookup_ts_table_destroy with key %d "
					"still published (lookup_ts_remove it first)", key);
	/* Relaxed: a holder's last put that came before this call is ordered before it. */
	for (d = t->cache_all; d; d = d->cache_all)
		if (rundown_kref_read(&d->ref) != 0)
			teardown_misuse("lookup", "lookup_ts_table_destroy with device %d still "
					"referenced (lookup_ts_put it first)",
					atomic_load_explicit(&d->key, memory_order_relaxed));
	/* SLAB_TYPESAFE_BY_RCU frees the slab a grace period late: sections may still read it. */
	trcu_synchronize();
	for (d = t->cache_all; d; d = next) {
		next = d->cache_all;
		free(d);
	}
	pthread_mutex_destroy(&t->cache_lock);
	pthread_mutex_destroy(&t->update_lock);
}

/* quote: ts_alloc */
/* kmem_cache_alloc(): the last device freed, if any; its count is 0, so no get succeeds. */
static struct lookup_ts_dev *lookup_ts_alloc(struct lookup_ts_table *t)
{
	struct lookup_ts_dev *d;

	pthread_mutex_lock(&t->cache_lock);
	d = t->cache_free;
	if (d) {
		t->cache_free = d->cache_next;
	} else {
		d = teardown_malloc("lookup", sizeof(*d));
		atomic_init(&d->ref.refcount, 0);
		atomic_init(&d->gen, 0);
		d->table = t;
		d->cache_all = t->cache_all;
		t->cache_all = d;
	}
	pthread_mutex_unlock(&t->cache_lock);
	return d;
}

struct lookup_ts_dev *lookup_ts_insert(struct lookup_ts_table *t, int key, struct device *dev)
{
	struct lookup_ts_dev *d;

	lookup_check_key("lookup_ts_insert", key);
	d = lookup_ts_alloc(t);
	atomic_store_explicit(&d->dev, dev, memory_order_relaxed);
	atomic_fetch_add_explicit(&d->gen, 1, memory_order_relaxed);
	/* release: the device's fields and pointer, then the key (ThreadSanitizer's edge). */
	atomic_store_explicit(&d->key, key, memory_order_release);
	/* Last, release (refcount_set_release): a get that succeeds sees this identity. */
	atomic_store_explicit(&d->ref.refcount, 1, memory_order_release);
	pthread_mutex_lock(&t->update_lock);
	if (atomic_load_explicit(&t->slot[key], memory_order_relaxed)) {
		pthread_mutex_unlock(&t->update_lock);
		teardown_misuse("lookup", "lookup_ts_insert: key %d already holds a device", key);
	}
	trcu_assign_pointer(t->slot[key], d);
	pthread_mutex_unlock(&t->update_lock);
	return d;
}
/* end quote: ts_alloc */

bool lookup_ts_remove(struct lookup_ts_table *t, int key)
{
	struct lookup_ts_dev *d;

	lookup_check_key("lookup_ts_remove", key);
	pthread_mutex_lock(&t->update_lock);
	d = atomic_exchange_explicit(&t->slot[key], NULL, memory_order_relaxed);
	pthread_mutex_unlock(&t->update_lock);
	if (!d)
		return false;
	SCENARIO_NOTE("unpublishes device %d; drops the table's reference", key);
	lookup_ts_put(d);
	return true;
}

/* quote: ts_release */
/* The last put: free the device and give the memory back to the cache, at once. */
void lookup_ts_release(struct rundown_kref *k)
{
	struct lookup_ts_dev *d = teardown_container_of(k, struct lookup_ts_dev, ref);
	struct lookup_ts_table *t = d->table;

	SCENARIO_NOTE("last reference to device %d: frees it; its memory is reusable now",
		      atomic_load_explicit(&d->key, memory_order_relaxed));
	device_free(atomic_load_explicit(&d->dev, memory_order_relaxed));
	pthread_mutex_lock(&t->cache_lock);	/* kmem_cache_free() */
	d->cache_next = t->cache_free;
	t->cache_free = d;
	pthread_mutex_unlock(&t->cache_lock);
}
/* end quote: ts_release */

void lookup_ts_dev_misuse(const struct lookup_ts_dev *d)
{
	teardown_misuse("lookup", "lookup_ts_device on device %d with no reference left (used "
			"after its last lookup_ts_put)",
			atomic_load_explicit(&d->key, memory_order_relaxed));
}
