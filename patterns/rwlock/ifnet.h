/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The lagg case, repaired: the registration point (an ifnet) owns the lock, and the lock outlives
 * the object it guards (if_softc, the device that teardown frees). A reader takes the read lock,
 * re-checks the published pointer (NULL: the interface is going away, decline), uses the device,
 * unlocks. Teardown takes the write lock, unpublishes, unlocks, and only then frees.
 *
 * Three read-side locks, one per fix in variants.c and one benchmark each: a pthread mutex (what
 * the kauth answer warned "single-threads all file I/O"), a pthread_rwlock, and drwlock (ours:
 * per-reader slots). The hot paths are inline, so that the race demo and the benchmark run the
 * same code.
 */
#ifndef TEARDOWN_PATTERNS_RWLOCK_IFNET_H
#define TEARDOWN_PATTERNS_RWLOCK_IFNET_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "patterns/common/compiler.h"
#include "patterns/rwlock/drwlock.h"
#include "scenario/device.h"
#include "scenario/hooks.h"

struct rwlock_ifnet {
	struct drwlock dist;
	/*
	 * ifp->if_softc. Relaxed everywhere: in every fix the lock around the access orders it. It
	 * is atomic only for the no_recheck twin, which loads it outside the lock; as a plain
	 * pointer, TSan would report that load as a race before the use after free it leads to.
	 */
	TEARDOWN_CACHE_ALIGNED _Atomic(struct device *) softc;
	/* Each fix uses one of these. */
	TEARDOWN_CACHE_ALIGNED pthread_mutex_t mutex;
	TEARDOWN_CACHE_ALIGNED pthread_rwlock_t rwlock;
};

/* Allocates an ifnet with dev published (cache-line aligned: malloc would not be). */
struct rwlock_ifnet *rwlock_ifnet_new(struct device *dev);
/* All readers gone, dev detached: frees the ifnet and its locks (misuse if readers remain). */
void rwlock_ifnet_free(struct rwlock_ifnet *ifp);
/* The misuse check every detach shares: aborts when if_softc is already NULL. */
struct device *rwlock_ifnet_unpublish(struct rwlock_ifnet *ifp);

/* quote: recheck */
/* Under the read lock: the device, or NULL once teardown has unpublished it. */
static inline struct device *rwlock_ifnet_softc(struct rwlock_ifnet *ifp)
{
	struct device *dev = atomic_load_explicit(&ifp->softc, memory_order_relaxed);

	if (dev)
		SCENARIO_NOTE("re-checks ifp->if_softc under the lock: %p", (void *)dev);
	else
		SCENARIO_NOTE("re-checks ifp->if_softc under the lock: NULL, declines");
	return dev;
}
/* end quote: recheck */

/* The mutex: one reader at a time, machine-wide. */
static inline struct device *rwlock_ifnet_enter_mutex(struct rwlock_ifnet *ifp)
{
	struct device *dev;

	pthread_mutex_lock(&ifp->mutex);
	SCENARIO_NOTE("takes the mutex");
	dev = rwlock_ifnet_softc(ifp);
	if (!dev)
		pthread_mutex_unlock(&ifp->mutex);
	return dev;
}

static inline void rwlock_ifnet_exit_mutex(struct rwlock_ifnet *ifp, struct device *dev)
{
	(void)dev;
	pthread_mutex_unlock(&ifp->mutex);
}

/* quote: enter_rwlock */
static inline struct device *rwlock_ifnet_enter_rwlock(struct rwlock_ifnet *ifp)
{
	struct device *dev;

	pthread_rwlock_rdlock(&ifp->rwlock);
	SCENARIO_NOTE("takes the read lock (pthread_rwlock_rdlock)");
	dev = rwlock_ifnet_softc(ifp);
	if (!dev)
		pthread_rwlock_unlock(&ifp->rwlock);
	return dev;
}

static inline void rwlock_ifnet_exit_rwlock(struct rwlock_ifnet *ifp, struct device *dev)
{
	(void)dev;
	pthread_rwlock_unlock(&ifp->rwlock);
}
/* end quote: enter_rwlock */

/* quote: enter_dist */
static inline struct device *rwlock_ifnet_enter_dist(struct rwlock_ifnet *ifp,
						     struct drwlock_reader *self)
{
	struct device *dev;

	drwlock_read_lock(&ifp->dist, self);
	SCENARIO_NOTE("takes the read lock (drwlock_read_lock: marks its own slot)");
	dev = rwlock_ifnet_softc(ifp);
	if (!dev)
		drwlock_read_unlock(&ifp->dist, self);
	return dev;
}

static inline void rwlock_ifnet_exit_dist(struct rwlock_ifnet *ifp, struct drwlock_reader *self)
{
	drwlock_read_unlock(&ifp->dist, self);
}
/* end quote: enter_dist */

/*
 * Teardown's half, one per lock: take the write lock, unpublish, unlock. Returns the device,
 * which no reader can reach any more, for the caller to free.
 */
static inline struct device *rwlock_ifnet_detach_mutex(struct rwlock_ifnet *ifp)
{
	struct device *dev;

	if (pthread_mutex_trylock(&ifp->mutex) == EBUSY) {
		SCENARIO_NOTE("finds the mutex held by a reader; blocks");
		SCENARIO_TEARDOWN_BLOCKS();
		pthread_mutex_lock(&ifp->mutex);
	}
	SCENARIO_NOTE("takes the mutex");
	dev = rwlock_ifnet_unpublish(ifp);
	pthread_mutex_unlock(&ifp->mutex);
	return dev;
}

/* quote: detach_rwlock */
static inline struct device *rwlock_ifnet_detach_rwlock(struct rwlock_ifnet *ifp)
{
	struct device *dev;

	if (pthread_rwlock_trywrlock(&ifp->rwlock) == EBUSY) {
		SCENARIO_NOTE("finds a reader inside; blocks in pthread_rwlock_wrlock");
		SCENARIO_TEARDOWN_BLOCKS();
		pthread_rwlock_wrlock(&ifp->rwlock);
	}
	SCENARIO_NOTE("takes the write lock");
	dev = rwlock_ifnet_unpublish(ifp);
	pthread_rwlock_unlock(&ifp->rwlock);
	return dev;
}
/* end quote: detach_rwlock */

/* quote: detach_dist */
static inline struct device *rwlock_ifnet_detach_dist(struct rwlock_ifnet *ifp)
{
	struct device *dev;

	drwlock_write_lock(&ifp->dist);	/* raises the flag, membarrier, visits every slot */
	dev = rwlock_ifnet_unpublish(ifp);
	drwlock_write_unlock(&ifp->dist);
	return dev;
}
/* end quote: detach_dist */

#endif /* TEARDOWN_PATTERNS_RWLOCK_IFNET_H */
