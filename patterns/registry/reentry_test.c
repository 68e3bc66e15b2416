/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unregister does not hold the registry's lock while it waits for calls in flight. A plain C
 * test: listener A's callback, while another thread's unregister of A waits for it, registers
 * listener B and unregisters listener C. If unregister held the lock across its wait, A's
 * callback would block on that lock and the unregister on A's callback: a deadlock, reported
 * here after a generous hang guard (not a timing: the test passes as soon as both threads end).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "patterns/registry/registry.h"

static struct registry reg;
static struct registry_handle ha, hb, hc;
static atomic_bool armed = true, inside, reentered;

static long count(void *cookie, long arg)
{
	(void)arg;
	return (long)(intptr_t)cookie;
}

/* A: the first call waits until its unregister has begun, then registers and unregisters. */
static long listener_a(void *cookie, long arg)
{
	(void)cookie;
	(void)arg;
	if (!atomic_exchange(&armed, false))
		return 0;
	atomic_store(&inside, true);
	while (!registry_is_draining(&reg, ha))
		sched_yield();	/* another thread's unregister of A now waits for this call */
	if (!registry_register(&reg, count, (void *)(intptr_t)2, &hb))
		abort();
	registry_unregister(&reg, hc);
	atomic_store(&reentered, true);
	return 1;
}

static void *caller(void *arg)
{
	long result;

	(void)arg;
	registry_call(&reg, 0, &result);
	return NULL;
}

static void *unregisterer(void *arg)
{
	(void)arg;
	registry_unregister(&reg, ha);
	return NULL;
}

static bool join_guarded(pthread_t t, const char *who)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 20;	/* a hang guard, not a timing */
	if (pthread_timedjoin_np(t, NULL, &deadline) == 0)
		return true;
	printf("FAIL  %s did not return: deadlock between unregister's wait and the callback\n",
	       who);
	printf("FAILED\n");
	fflush(stdout);
	_exit(1);
}

int main(void)
{
	pthread_t c, u;
	long result = 0;
	bool ok;

	registry_init(&reg);
	if (!registry_register(&reg, listener_a, NULL, &ha) ||
	    !registry_register(&reg, count, (void *)(intptr_t)3, &hc))
		abort();
	if (pthread_create(&c, NULL, caller, NULL))
		abort();
	while (!atomic_load(&inside))
		sched_yield();
	if (pthread_create(&u, NULL, unregisterer, NULL))
		abort();
	join_guarded(c, "the callback (registering and unregistering others)");
	join_guarded(u, "unregister");
	ok = atomic_load(&reentered) && registry_call(&reg, 0, &result) == 1 && result == 2;
	printf("%s  A's callback registered B and unregistered C while A's unregister waited\n",
	       ok ? "ok  " : "FAIL");
	registry_unregister(&reg, hb);
	registry_shutdown(&reg);
	printf("%s\n", ok ? "PASSED" : "FAILED");
	return ok ? 0 : 1;
}
