/* SPDX-License-Identifier: BSD-2-Clause */
#include "patterns/rwlock/ifnet.h"

#include <stdio.h>
#include <stdlib.h>

#include "patterns/common/misuse.h"

struct rwlock_ifnet *rwlock_ifnet_new(struct device *dev)
{
	size_t size = (sizeof(struct rwlock_ifnet) + DRWLOCK_CACHE_LINE - 1) &
		      ~(size_t)(DRWLOCK_CACHE_LINE - 1);
	struct rwlock_ifnet *ifp = aligned_alloc(DRWLOCK_CACHE_LINE, size);

	if (!ifp) {
		perror("rwlock_ifnet_new");
		abort();
	}
	drwlock_init(&ifp->dist);
	atomic_init(&ifp->softc, dev);
	pthread_mutex_init(&ifp->mutex, NULL);
	pthread_rwlock_init(&ifp->rwlock, NULL);
	return ifp;
}

void rwlock_ifnet_free(struct rwlock_ifnet *ifp)
{
	drwlock_destroy(&ifp->dist);
	pthread_mutex_destroy(&ifp->mutex);
	pthread_rwlock_destroy(&ifp->rwlock);
	free(ifp);
}

/* quote: unpublish */
/* Under the write lock: no reader is inside, and none can enter until the caller unlocks. */
struct device *rwlock_ifnet_unpublish(struct rwlock_ifnet *ifp)
{
	struct device *dev = atomic_exchange_explicit(&ifp->softc, NULL, memory_order_relaxed);

	if (!dev)
		teardown_misuse("rwlock", "teardown twice: ifp->if_softc is already NULL");
	SCENARIO_NOTE("unpublishes: ifp->if_softc = NULL");
	return dev;
}
/* end quote: unpublish */
