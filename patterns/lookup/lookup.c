/* SPDX-License-Identifier: BSD-2-Clause */
/* The look-up idiom's update side, its deferred free, and its misuse messages (see lookup.h). */
#include "patterns/lookup/lookup.h"

#include <stdlib.h>

#include "patterns/common/die.h"
#include "patterns/common/misuse.h"

void lookup_table_init(struct lookup_table *t)
{
	int err = pthread_mutex_init(&t->update_lock, NULL);

	if (err)
		teardown_die("lookup", err, "pthread_mutex_init (the table's update lock)");
	for (int key = 0; key < LOOKUP_SLOTS; key++)
		atomic_init(&t->slot[key], NULL);
}

void lookup_table_destroy(struct lookup_table *t)
{
	for (int key = 0; key < LOOKUP_SLOTS; key++)
		if (atomic_load_explicit(&t->slot[key], memory_order_relaxed))
			teardown_misuse("lookup", "lookup_table_destroy with key %d still "
					"published (lookup_remove it first)", key);
	trcu_barrier();	/* every free that a last put queued has run */
	pthread_mutex_destroy(&t->update_lock);
}

struct lookup_dev *lookup_dev_new(int key, struct device *dev)
{
	struct lookup_dev *d;

	lookup_check_key("lookup_dev_new", key);
	d = teardown_malloc("lookup", sizeof(*d));
	rundown_kref_init(&d->ref);
	d->key = key;
	d->dev = dev;
	return d;
}

void lookup_insert(struct lookup_table *t, struct lookup_dev *d)
{
	pthread_mutex_lock(&t->update_lock);
	if (atomic_load_explicit(&t->slot[d->key], memory_order_relaxed)) {
		pthread_mutex_unlock(&t->update_lock);
		teardown_misuse("lookup", "lookup_insert: key %d already holds a device", d->key);
	}
	/* release: the device's fields, then the pointer (rcu_assign_pointer). */
	trcu_assign_pointer(t->slot[d->key], d);
	pthread_mutex_unlock(&t->update_lock);
}

/* quote: lookup_remove */
bool lookup_remove(struct lookup_table *t, int key)
{
	struct lookup_dev *d;

	lookup_check_key("lookup_remove", key);
	pthread_mutex_lock(&t->update_lock);
	/* Relaxed: it publishes nothing; the grace period orders readers against the free. */
	d = atomic_exchange_explicit(&t->slot[key], NULL, memory_order_relaxed);
	pthread_mutex_unlock(&t->update_lock);
	if (!d)
		return false;
	SCENARIO_NOTE("unpublishes device %d; drops the table's reference", key);
	/* After the unpublish: a grace period from now covers every reader that found d. */
	lookup_put(d);
	return true;
}
/* end quote: lookup_remove */

/* quote: release */
static void lookup_dev_free_rcu(struct trcu_head *head)
{
	struct lookup_dev *d = teardown_container_of(head, struct lookup_dev, rcu);

	SCENARIO_NOTE("a grace period later: frees device %d", d->key);
	device_free(d->dev);
	free(d);
	LOOKUP_FREED();
}

/* The last put: no reader can take a reference any more; those that found d still read it. */
void lookup_dev_release(struct rundown_kref *k)
{
	struct lookup_dev *d = teardown_container_of(k, struct lookup_dev, ref);

	SCENARIO_NOTE("last reference to device %d: trcu_call queues its free", d->key);
	LOOKUP_QUEUED();
	trcu_call(&d->rcu, lookup_dev_free_rcu);	/* kfree_rcu() */
}
/* end quote: release */

void lookup_bad_key(const char *what, int key)
{
	teardown_misuse("lookup", "%s: key %d outside the table (0 to %d)", what, key,
			LOOKUP_SLOTS - 1);
}

void lookup_dev_misuse(const struct lookup_dev *d)
{
	teardown_misuse("lookup", "lookup_device on device %d with no reference left (used after "
			"its last lookup_put)", d->key);
}
