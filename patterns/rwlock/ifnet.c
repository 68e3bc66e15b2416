/* SPDX-License-Identifier: BSD-2-Clause */
#include "patterns/rwlock/ifnet.h"

#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/common/misuse.h"

struct rwlock_ifnet *rwlock_ifnet_new(struct device *dev)
{
	struct rwlock_ifnet *ifp = teardown_aligned_alloc("rwlock", TEARDOWN_CACHE_LINE,
							   sizeof(*ifp));
	int err;

	drwlock_init(&ifp->dist);
	atomic_init(&ifp->softc, dev);
	err = pthread_mutex_init(&ifp->mutex, NULL);
	if (err)
		teardown_die("rwlock", err, "pthread_mutex_init");
	err = pthread_rwlock_init(&ifp->rwlock, NULL);
	if (err)
		teardown_die("rwlock", err, "pthread_rwlock_init");
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
