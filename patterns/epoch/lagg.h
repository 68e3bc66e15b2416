/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The FreeBSD lagg case: a cloned network interface. The ifnet is the registration point: an
 * ioctl finds the driver's softc through ifp->if_softc. clone_destroy clears it and frees the
 * softc. The ifnet has a reference count, and the ioctl holds a reference, but that counts the
 * ifnet, not the softc: nothing stops clone_destroy from freeing the softc under the ioctl.
 * The scenario's struct device plays the softc. The ways the ioctl can enter are inline here,
 * so that the race lab (variants.c) and the benchmark (epoch_bench.c) run the same code.
 */
#ifndef TEARDOWN_PATTERNS_EPOCH_LAGG_H
#define TEARDOWN_PATTERNS_EPOCH_LAGG_H

#include <stdatomic.h>

#include "patterns/epoch/tepoch.h"
#include "scenario/device.h"
#include "scenario/hooks.h"

struct lagg_ifnet {
	_Atomic(struct device *) if_softc;	/* the softc, until clone_destroy */
	_Atomic unsigned if_refcount;		/* if_ref()/if_rele(): counts the ifnet */
	struct tepoch net_epoch;		/* the domain the ioctl enters (NET_EPOCH) */
	/* The softc's epoch_context; in the kernel it is embedded in the softc itself. */
	struct tepoch_entry softc_retire;
	struct device *retired_softc;
};

/* Naive: the ioctl references the ifnet, then uses the softc it points to. */
/* quote: naive_ioctl */
static inline struct device *lagg_ioctl_enter_ref(struct lagg_ifnet *ifp)
{
	struct device *sc;

	/* if_ref(ifp) */
	atomic_fetch_add_explicit(&ifp->if_refcount, 1, memory_order_relaxed);
	sc = atomic_load_explicit(&ifp->if_softc, memory_order_acquire);
	SCENARIO_NOTE("if_ref(ifp); sc = ifp->if_softc = %p", (void *)sc);
	if (!sc)
		atomic_fetch_sub_explicit(&ifp->if_refcount, 1, memory_order_relaxed);
	return sc;
}

static inline void lagg_ioctl_exit_ref(struct lagg_ifnet *ifp, struct device *sc)
{
	(void)sc;
	/* if_rele(ifp) */
	atomic_fetch_sub_explicit(&ifp->if_refcount, 1, memory_order_relaxed);
}
/* end quote: naive_ioctl */

/* The fix: the ioctl runs inside an epoch section of the record r. */
/* quote: epoch_ioctl */
static inline struct device *lagg_ioctl_enter_epoch(struct lagg_ifnet *ifp,
						    struct tepoch_record *r)
{
	struct device *sc;

	tepoch_enter(r);	/* NET_EPOCH_ENTER(et) */
	/* acquire: pairs with the release that published the softc at clone_create. */
	sc = atomic_load_explicit(&ifp->if_softc, memory_order_acquire);
	SCENARIO_NOTE("enters the epoch section; sc = ifp->if_softc = %p", (void *)sc);
	if (!sc)
		tepoch_exit(r);	/* being destroyed: ENXIO */
	return sc;
}

static inline void lagg_ioctl_exit_epoch(struct tepoch_record *r)
{
	tepoch_exit(r);		/* NET_EPOCH_EXIT(et) */
}
/* end quote: epoch_ioctl */

#endif /* TEARDOWN_PATTERNS_EPOCH_LAGG_H */
