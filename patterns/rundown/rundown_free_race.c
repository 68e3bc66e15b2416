/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The owner frees the memory that holds the ref as soon as the wait returns, while the last
 * holder is still inside rundown_release, as Windows allows after
 * ExWaitForRundownProtectionRelease.
 *
 * The schedule, forced with semaphores through the rundown's own scheduling hooks:
 *   holder  acquires;
 *   owner   begins the wait and finds one holder (SCENARIO_TEARDOWN_BLOCKS: it is about to
 *           sleep); lets the holder release;
 *   holder  drops the last count (SCENARIO_RELEASER_TAIL) and stops before its remaining work;
 *   owner   sleeps on a word that has already changed, so returns at once; unmaps the page that
 *           holds the ref;
 *   holder  goes on: its futex wake names an address that is no longer mapped.
 * Any read or write of the ref after the drop faults, in every build. The wake alone must not.
 * Built with TEARDOWN_RACE_HOOKS, so this file supplies the hooks itself.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "patterns/common/die.h"
#include "patterns/rundown/rundown.h"

static sem_t held, may_release, dropped, unmapped;
static atomic_bool holder_dropped;
static _Thread_local bool is_holder;

void scenario_note(const char *fmt, ...)
{
	(void)fmt;
}

void scenario_teardown_blocks(void)
{
	sem_post(&may_release);
	sem_wait(&dropped);	/* the wait's futex sleep now finds the word changed */
}

void scenario_releaser_tail(void)
{
	if (!is_holder)
		return;
	atomic_store(&holder_dropped, true);
	sem_post(&dropped);
	sem_wait(&unmapped);
}

static void *holder(void *arg)
{
	struct rundown_ref *ref = arg;

	is_holder = true;
	if (!rundown_acquire(ref))
		abort();
	sem_post(&held);
	sem_wait(&may_release);
	rundown_release(ref);	/* returns after the owner unmapped the ref */
	return NULL;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	struct rundown_ref *ref = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_t t;
	int err;

	if (ref == MAP_FAILED)
		teardown_die("rundown", errno, "mmap");
	sem_init(&held, 0, 0);
	sem_init(&may_release, 0, 0);
	sem_init(&dropped, 0, 0);
	sem_init(&unmapped, 0, 0);
	rundown_init(ref);
	err = pthread_create(&t, NULL, holder, ref);
	if (err)
		teardown_die("rundown", err, "pthread_create");
	sem_wait(&held);
	rundown_wait_for_release(ref);
	if (!atomic_load(&holder_dropped)) {
		fprintf(stderr, "rundown_wait_for_release returned while the protection was "
			"held\n");
		return 1;
	}
	munmap(ref, (size_t)page);	/* the owner frees the object that held the ref */
	sem_post(&unmapped);
	err = pthread_join(t, NULL);
	if (err)
		teardown_die("rundown", err, "pthread_join");
	printf("the last holder returned from rundown_release after the ref was unmapped\n");
	return 0;
}
