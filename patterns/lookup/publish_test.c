/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lookup_insert() publishes the device with a release store (rcu_assign_pointer). A plain C
 * test, so that --config=tsan runs it: a reader thread polls lookup_get() from before the device
 * exists; the main thread then builds a fresh device and inserts it. Nothing orders the main
 * thread's writes of the device's fields before the reader's reads of them but that release and
 * the look-up's acquire, so with a relaxed publication ThreadSanitizer reports a data race.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "patterns/common/compiler.h"

#include "patterns/lookup/lookup.h"

#define KEY 5

static struct lookup_table table;
static long seen_state, seen_key;

static void *reader(void *arg)
{
	struct lookup_dev *d;

	(void)arg;
	trcu_register_thread();
	while (!(d = lookup_get(&table, KEY)))
		teardown_cpu_relax();
	seen_key = d->key;	/* written by lookup_dev_new() in the other thread */
	seen_state = device_read_state(lookup_device(d));	/* written by device_new() */
	lookup_put(d);
	trcu_unregister_thread();
	return NULL;
}

int main(void)
{
	pthread_t r;
	bool ok;

	trcu_register_thread();
	lookup_table_init(&table);
	if (pthread_create(&r, NULL, reader, NULL))
		abort();
	/* After the reader started: only the publication orders these writes before its reads. */
	lookup_insert(&table, lookup_dev_new(KEY, device_new(42)));
	if (pthread_join(r, NULL))
		abort();
	ok = seen_key == KEY && seen_state == 42;
	printf("%s  the reader found device %ld with state %ld\n", ok ? "ok  " : "FAIL", seen_key,
	       seen_state);
	lookup_remove(&table, KEY);
	lookup_table_destroy(&table);
	trcu_unregister_thread();
	printf("%s\n", ok ? "PASSED" : "FAILED");
	return ok ? 0 : 1;
}
