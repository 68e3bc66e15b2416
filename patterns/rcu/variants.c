/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The RCU lab: a Linux module's list of entries, each pointing to a device. get_metadata()
 * finds the entry for an id and returns its device; teardown removes the entry and frees it.
 * Naive: list_del and kfree at once. Fixed: list_del_rcu, synchronize_rcu, kfree; or call_rcu.
 */
#include <pthread.h>
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/rcu/trcu.h"
#include "patterns/rcu/trcu_qsbr.h"
#include "scenario/scenario.h"

#define LIST_TARGET_ID 2	/* the entry the hot path looks up, and teardown removes */

struct list_entry {
	_Atomic(struct list_entry *) next;
	int id;
	struct device *dev;
	struct trcu_head rcu;
};

struct device_list {
	_Atomic(struct list_entry *) head;
	pthread_mutex_t update_lock;	/* writers only: readers take nothing */
};

static void *list_create(struct device *dev)
{
	struct device_list *l = teardown_malloc("rcu", sizeof(*l));
	int err = pthread_mutex_init(&l->update_lock, NULL);

	if (err)
		teardown_die("rcu", err, "pthread_mutex_init (the list's update lock)");
	atomic_init(&l->head, NULL);
	for (int id = 3; id >= 1; id--) {
		struct list_entry *e = teardown_malloc("rcu", sizeof(*e));

		e->id = id;
		if (id == LIST_TARGET_ID)
			e->dev = dev;
		else
			e->dev = device_new(0);
		atomic_init(&e->next, atomic_load_explicit(&l->head, memory_order_relaxed));
		atomic_init(&l->head, e);
	}
	return l;
}

static void list_entry_free(struct list_entry *e)
{
	device_free(e->dev);
	free(e);
}

static void list_destroy(void *reg)
{
	struct device_list *l = reg;
	struct list_entry *e = atomic_load_explicit(&l->head, memory_order_relaxed), *next;

	for (; e; e = next) {
		next = atomic_load_explicit(&e->next, memory_order_relaxed);
		list_entry_free(e);
	}
	pthread_mutex_destroy(&l->update_lock);
	free(l);
}

/* quote: get_metadata */
/* The hot path's look-up: walks the list and returns the entry's device, or NULL. */
static struct device *get_metadata(struct device_list *l, int id)
{
	struct list_entry *e;

	for (e = trcu_dereference(l->head); e; e = trcu_dereference(e->next)) {
		if (e->id == id) {
			SCENARIO_NOTE("get_metadata(%d) finds device %p", id, (void *)e->dev);
			return e->dev;
		}
	}
	SCENARIO_NOTE("get_metadata(%d) finds nothing", id);
	return NULL;
}
/* end quote: get_metadata */

/* quote: list_unlink */
/* Unlinks the entry; readers already on it still see a valid next pointer. */
static struct list_entry *list_unlink(struct device_list *l, int id)
{
	_Atomic(struct list_entry *) *link = &l->head;
	struct list_entry *e;

	pthread_mutex_lock(&l->update_lock);
	while ((e = atomic_load_explicit(link, memory_order_relaxed)) && e->id != id)
		link = &e->next;
	if (e)	/* release: like rcu_assign_pointer, though here it publishes nothing new */
		trcu_assign_pointer(*link, atomic_load_explicit(&e->next, memory_order_relaxed));
	pthread_mutex_unlock(&l->update_lock);
	SCENARIO_NOTE("unlinks entry %d from the list", id);
	return e;
}
/* end quote: list_unlink */

/* Naive: no read-side marker; teardown unlinks and frees at once. */
static struct device *naive_enter(struct device_list *l)
{
	return get_metadata(l, LIST_TARGET_ID);
}

#define naive_exit(l, dev) ((void)(l), (void)(dev))

SCENARIO_DEFINE_CALLBACK(naive_callback, struct device_list, naive_enter, naive_exit)

/* quote: naive_teardown */
static void naive_teardown(void *reg)
{
	list_entry_free(list_unlink(reg, LIST_TARGET_ID));	/* list_del(); kfree(); */
}
/* end quote: naive_teardown */

/* General flavour: the read-side critical section spans look-up and use. */
/* quote: rcu_enter */
static struct device *rcu_enter(struct device_list *l)
{
	struct device *dev;

	trcu_read_lock();
	dev = get_metadata(l, LIST_TARGET_ID);
	if (!dev)
		trcu_read_unlock();
	return dev;
}

static void rcu_exit(struct device_list *l, struct device *dev)
{
	(void)l, (void)dev;
	trcu_read_unlock();
}
/* end quote: rcu_enter */

SCENARIO_DEFINE_CALLBACK(rcu_callback, struct device_list, rcu_enter, rcu_exit)

static void rcu_reader_start(void *reg)
{
	(void)reg;
	trcu_register_thread();
}

static void rcu_reader_stop(void *reg)
{
	(void)reg;
	trcu_unregister_thread();
}

/* Broken on purpose: readers mark their sections, but teardown does not wait for them. */
static void no_wait_teardown(void *reg)
{
	list_entry_free(list_unlink(reg, LIST_TARGET_ID));
}

/* quote: synchronize_teardown */
static void synchronize_teardown(void *reg)
{
	struct list_entry *e = list_unlink(reg, LIST_TARGET_ID);

	trcu_synchronize();	/* every reader that could have found e has left */
	list_entry_free(e);
}
/* end quote: synchronize_teardown */

/* quote: call_teardown */
static void list_entry_free_rcu(struct trcu_head *head)
{
	list_entry_free(teardown_container_of(head, struct list_entry, rcu));
}

static void call_teardown(void *reg)
{
	struct list_entry *e = list_unlink(reg, LIST_TARGET_ID);

	SCENARIO_NOTE("trcu_call: entry %d queued for freeing after a grace period", e->id);
	trcu_call(&e->rcu, list_entry_free_rcu);	/* e may be freed from here on */
}

static void call_destroy(void *reg)
{
	/* No callback of ours may outlive the list (or, for a module, its code). */
	trcu_barrier();
	list_destroy(reg);
}
/* end quote: call_teardown */

/* QSBR: the read side is empty; the callback reports a quiescent state after it is done. */
static struct device *qsbr_enter(struct device_list *l)
{
	trcu_qsbr_read_lock();
	return get_metadata(l, LIST_TARGET_ID);
}

/* quote: qsbr_exit */
static void qsbr_exit(struct device_list *l, struct device *dev)
{
	(void)l, (void)dev;
	trcu_qsbr_read_unlock();
	trcu_qsbr_quiescent_state();	/* holds no RCU pointer any more */
}
/* end quote: qsbr_exit */

SCENARIO_DEFINE_CALLBACK(qsbr_callback, struct device_list, qsbr_enter, qsbr_exit)

static void qsbr_reader_start(void *reg)
{
	(void)reg;
	trcu_qsbr_register_thread();
}

static void qsbr_reader_stop(void *reg)
{
	(void)reg;
	trcu_qsbr_unregister_thread();
}

static void qsbr_teardown(void *reg)
{
	struct list_entry *e = list_unlink(reg, LIST_TARGET_ID);

	trcu_qsbr_synchronize();
	list_entry_free(e);
}

static const struct scenario_variant rcu_variants[] = {
	{
		.name = "naive",
		.story = "get_metadata() walks the list bare; teardown does list_del and kfree at "
			 "once",
		.expect = "heap-use-after-free",
		.create = list_create,
		.callback = naive_callback,
		.teardown = naive_teardown,
		.destroy = list_destroy,
	},
	{
		.name = "no_wait",
		.story = "readers use trcu_read_lock, but teardown frees without waiting for a "
			 "grace period",
		.expect = "heap-use-after-free",
		.create = list_create,
		.reader_start = rcu_reader_start,
		.reader_stop = rcu_reader_stop,
		.callback = rcu_callback,
		.teardown = no_wait_teardown,
		.destroy = list_destroy,
	},
	{
		.name = "synchronize",
		.story = "list_del_rcu, trcu_synchronize, then free",
		.create = list_create,
		.reader_start = rcu_reader_start,
		.reader_stop = rcu_reader_stop,
		.callback = rcu_callback,
		.teardown = synchronize_teardown,
		.destroy = list_destroy,
	},
	{
		.name = "call",
		.story = "list_del_rcu, trcu_call frees later; destroy runs trcu_barrier",
		.create = list_create,
		.reader_start = rcu_reader_start,
		.reader_stop = rcu_reader_stop,
		.callback = rcu_callback,
		.teardown = call_teardown,
		.destroy = call_destroy,
	},
	{
		.name = "qsbr",
		.story = "QSBR: empty read side, quiescent state after each callback; "
			 "list_del_rcu, trcu_qsbr_synchronize, free",
		.create = list_create,
		.reader_start = qsbr_reader_start,
		.reader_stop = qsbr_reader_stop,
		.callback = qsbr_callback,
		.teardown = qsbr_teardown,
		.destroy = list_destroy,
	},
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "rcu",
	.source_case = "Linux module: get_metadata() returns a list entry; another CPU does "
		       "list_del and kfree; the caller dereferences freed memory",
	.variants = rcu_variants,
	.n_variants = TEARDOWN_ARRAY_SIZE(rcu_variants),
	.uses_membarrier = trcu_uses_membarrier,
};
