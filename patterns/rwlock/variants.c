/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The reader-writer lock lab, plugged into the one teardown scenario.
 *
 * naive:       FreeBSD lagg before the fix: the lock lives in the softc, and teardown destroys
 *              and frees it with the softc. A reader that found the softc and then takes its
 *              lock touches freed memory.
 * no_recheck:  the lock lives in the ifnet and outlives the device, but the reader loads
 *              if_softc before taking the read lock and does not look again under it.
 * mutex, rwlock, distributed: the fix (ifnet.h) with each of the three read-side locks.
 */
#include <pthread.h>
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/rwlock/ifnet.h"
#include "scenario/scenario.h"

/* quote: lagg_softc */
/* Naive: the softc carries its own lock, and teardown frees the two together. */
struct lagg_softc {
	pthread_rwlock_t sc_lock;	/* LAGG_RLOCK(sc) / LAGG_WLOCK(sc) */
	struct device *dev;		/* the state the hot path reads */
};

struct lagg_ifnet {
	_Atomic(struct lagg_softc *) if_softc;	/* relaxed: a plain pointer in spirit */
};
/* end quote: lagg_softc */

/*
 * ThreadSanitizer intercepts pthread_rwlock_rdlock and reports the freed lock there;
 * AddressSanitizer does not look inside glibc (which then spins on whatever the allocator left
 * in the freed lock), so under ASan the reader first touches the lock where ASan can see it.
 */
#if TEARDOWN_ASAN
#define TOUCH_FOR_ASAN(p) ((void)*(volatile const char *)(p))
#else
#define TOUCH_FOR_ASAN(p) ((void)0)
#endif

/* The softc whose lock this thread holds. */
static _Thread_local struct lagg_softc *naive_held;

static void *naive_create(struct device *dev)
{
	struct lagg_softc *sc = teardown_malloc("rwlock", sizeof(*sc));
	struct lagg_ifnet *ifp = teardown_malloc("rwlock", sizeof(*ifp));
	int err = pthread_rwlock_init(&sc->sc_lock, NULL);

	if (err)
		teardown_die("rwlock", err, "pthread_rwlock_init");
	sc->dev = dev;
	atomic_init(&ifp->if_softc, sc);
	return ifp;
}

static void naive_destroy(void *reg)
{
	free(reg);
}

/* quote: naive_enter */
static struct device *naive_enter(struct lagg_ifnet *ifp)
{
	struct lagg_softc *sc = atomic_load_explicit(&ifp->if_softc, memory_order_relaxed);

	if (!sc)
		return NULL;
	SCENARIO_NOTE("loads ifp->if_softc: softc %p; about to take sc->sc_lock", (void *)sc);
	SCENARIO_READER_WINDOW();
	TOUCH_FOR_ASAN(&sc->sc_lock);
	pthread_rwlock_rdlock(&sc->sc_lock);	/* the lock is in the object teardown frees */
	SCENARIO_NOTE("took sc->sc_lock");
	naive_held = sc;
	return sc->dev;
}
/* end quote: naive_enter */

static void naive_exit(struct lagg_ifnet *ifp, struct device *dev)
{
	(void)ifp, (void)dev;
	pthread_rwlock_unlock(&naive_held->sc_lock);
}

SCENARIO_DEFINE_CALLBACK(naive_callback, struct lagg_ifnet, naive_enter, naive_exit)

/* quote: naive_teardown */
static void naive_teardown(void *reg)
{
	struct lagg_ifnet *ifp = reg;
	struct lagg_softc *sc = atomic_load_explicit(&ifp->if_softc, memory_order_relaxed);

	pthread_rwlock_wrlock(&sc->sc_lock);
	SCENARIO_NOTE("takes sc->sc_lock for writing; ifp->if_softc = NULL");
	atomic_store_explicit(&ifp->if_softc, NULL, memory_order_relaxed);
	pthread_rwlock_unlock(&sc->sc_lock);
	pthread_rwlock_destroy(&sc->sc_lock);	/* the lock dies with the softc */
	device_free(sc->dev);
	SCENARIO_NOTE("frees the softc %p, and sc->sc_lock with it", (void *)sc);
	free(sc);
}
/* end quote: naive_teardown */

static void *ifnet_create(struct device *dev)
{
	return rwlock_ifnet_new(dev);
}

static void ifnet_destroy(void *reg)
{
	rwlock_ifnet_free(reg);
}

/* quote: no_recheck_enter */
/* Broken: the pointer is loaded before the read lock and never looked at again. */
static struct device *no_recheck_enter(struct rwlock_ifnet *ifp)
{
	struct device *dev = atomic_load_explicit(&ifp->softc, memory_order_relaxed);

	if (!dev)
		return NULL;
	SCENARIO_NOTE("loads ifp->if_softc: %p; about to take the read lock", (void *)dev);
	SCENARIO_READER_WINDOW();
	pthread_rwlock_rdlock(&ifp->rwlock);
	SCENARIO_NOTE("takes the read lock; uses the pointer it loaded before");
	return dev;
}
/* end quote: no_recheck_enter */

SCENARIO_DEFINE_CALLBACK(no_recheck_callback, struct rwlock_ifnet, no_recheck_enter,
			 rwlock_ifnet_exit_rwlock)

SCENARIO_DEFINE_CALLBACK(mutex_callback, struct rwlock_ifnet, rwlock_ifnet_enter_mutex,
			 rwlock_ifnet_exit_mutex)

SCENARIO_DEFINE_CALLBACK(rwlock_callback, struct rwlock_ifnet, rwlock_ifnet_enter_rwlock,
			 rwlock_ifnet_exit_rwlock)

static void mutex_teardown(void *reg)
{
	device_free(rwlock_ifnet_detach_mutex(reg));
}

/* quote: rwlock_teardown */
static void rwlock_teardown(void *reg)
{
	device_free(rwlock_ifnet_detach_rwlock(reg));	/* the lock stays, with the ifnet */
}
/* end quote: rwlock_teardown */

/* The distributed lock: each callback thread registers its own slot. */
static _Thread_local struct drwlock_reader dist_self;

static void dist_reader_start(void *reg)
{
	drwlock_reader_register(&((struct rwlock_ifnet *)reg)->dist, &dist_self);
}

static void dist_reader_stop(void *reg)
{
	drwlock_reader_unregister(&((struct rwlock_ifnet *)reg)->dist, &dist_self);
}

#define DIST_ENTER(ifp) rwlock_ifnet_enter_dist(ifp, &dist_self)
#define DIST_EXIT(ifp, dev) rwlock_ifnet_exit_dist(ifp, &dist_self)

SCENARIO_DEFINE_CALLBACK(dist_callback, struct rwlock_ifnet, DIST_ENTER, DIST_EXIT)

static void dist_teardown(void *reg)
{
	device_free(rwlock_ifnet_detach_dist(reg));
}

static const struct scenario_variant rwlock_variants[] = {
	{
		.name = "naive",
		.story = "lagg: the rwlock lives in the softc; teardown destroys and frees it with "
			 "the softc",
		.expect = "heap-use-after-free",
		.create = naive_create,
		.callback = naive_callback,
		.teardown = naive_teardown,
		.destroy = naive_destroy,
	},
	{
		.name = "no_recheck",
		.story = "the lock outlives the softc, but the reader loads if_softc before taking "
			 "it and never re-checks",
		.expect = "heap-use-after-free",
		.create = ifnet_create,
		.callback = no_recheck_callback,
		.teardown = rwlock_teardown,
		.destroy = ifnet_destroy,
	},
	{
		.name = "mutex",
		.story = "the ifnet's mutex around every callback (one reader at a time)",
		.create = ifnet_create,
		.callback = mutex_callback,
		.teardown = mutex_teardown,
		.destroy = ifnet_destroy,
	},
	{
		.name = "rwlock",
		.story = "the ifnet's pthread_rwlock: read lock, re-check if_softc; teardown "
			 "write-locks, unpublishes, frees",
		.create = ifnet_create,
		.callback = rwlock_callback,
		.teardown = rwlock_teardown,
		.destroy = ifnet_destroy,
	},
	{
		.name = "distributed",
		.story = "drwlock, per-reader slots: read lock, re-check if_softc; teardown "
			 "write-locks (membarrier, visits every slot), unpublishes, frees",
		.create = ifnet_create,
		.reader_start = dist_reader_start,
		.reader_stop = dist_reader_stop,
		.callback = dist_callback,
		.teardown = dist_teardown,
		.destroy = ifnet_destroy,
	},
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "rwlock",
	.source_case = "macOS kauth (the asker's mutex; the answer's reader-writer lock, for "
		"speed) and FreeBSD lagg (the lock would be destroyed and freed together with the "
		"softc)",
	.variants = rwlock_variants,
	.n_variants = TEARDOWN_ARRAY_SIZE(rwlock_variants),
	.uses_membarrier = drwlock_uses_membarrier,
};
