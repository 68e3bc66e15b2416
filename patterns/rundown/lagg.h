/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The FreeBSD lagg case. The ifnet lives in the registration point (the interface index): it
 * outlives the driver's softc, and ioctl finds the softc through it (ifp->if_softc). The softc
 * holds the scenario's device; clone_destroy frees both.
 *
 * The ways an ioctl can enter, as inline functions, so that the race demo (variants.c) and the
 * benchmark (rundown_bench.c) run the same code:
 *   ifref      naive (a): if_ref() the ifnet, then use the softc; the reference counts the ifnet
 *   unlocked   naive (b): load if_softc, then take a reference on the softc it points to
 *   rundown    fix 1: one-word rundown protection in the ifnet, drained by clone_destroy
 *   kref       fix 2: look up under the index lock with get_unless_zero; the last put frees
 *   ca         fix 3: cache-aware rundown (per-thread shards) in the ifnet
 */
#ifndef TEARDOWN_PATTERNS_RUNDOWN_LAGG_H
#define TEARDOWN_PATTERNS_RUNDOWN_LAGG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/rundown/rundown.h"
#include "patterns/rundown/rundown_ca.h"
#include "patterns/rundown/rundown_kref.h"
#include "scenario/device.h"

/* quote: registration */
/* The driver's softc: what lagg_clone_create allocates and lagg_clone_destroy frees. */
struct rundown_lagg_softc {
	struct rundown_kref sc_refs;	/* the softc's own count: naive (b) and fix 2 only */
	struct device *sc_dev;		/* what the ioctl reads */
};

/* The ifnet, in the registration point: its memory stays valid after the softc is freed. */
struct rundown_lagg_ifnet {
	_Atomic uint32_t if_refcount;		/* if_ref / if_rele: counts the ifnet */
	/* NULL once clone_destroy unpublished it. */
	_Atomic(struct rundown_lagg_softc *) if_softc;
	pthread_mutex_t if_index_lock;		/* fix 2: guards lookup and unpublish */
	struct rundown_ref if_rundown;		/* fix 1 */
	struct rundown_ca *if_rundown_ca;	/* fix 3 (allocated: it is 4 KiB) */
};
/* end quote: registration */

/*
 * Two scheduling points of the kref look-up, for the race binary's "kref_lookup_after_unlock"
 * variant (variants.c): clone_destroy has just dropped the index lock; a look-up holds the index
 * lock and has loaded a non-NULL if_softc. No-ops everywhere else.
 */
#ifdef TEARDOWN_RACE_HOOKS
void rundown_lagg_index_unlocked(void);
void rundown_lagg_lookup_loaded(void);
#define RUNDOWN_LAGG_INDEX_UNLOCKED() rundown_lagg_index_unlocked()
#define RUNDOWN_LAGG_LOOKUP_LOADED() rundown_lagg_lookup_loaded()
#else
#define RUNDOWN_LAGG_INDEX_UNLOCKED() ((void)0)
#define RUNDOWN_LAGG_LOOKUP_LOADED() ((void)0)
#endif

/* The ioctl's local variable `sc`, which the one-callback scenario cannot carry to exit. */
extern _Thread_local struct rundown_lagg_softc *rundown_lagg_held_sc
	__attribute__((tls_model("initial-exec")));

static inline struct rundown_lagg_softc *rundown_lagg_softc_new(struct device *dev)
{
	struct rundown_lagg_softc *sc = teardown_malloc("rundown", sizeof(*sc));

	rundown_kref_init(&sc->sc_refs);	/* the interface's reference, while attached */
	sc->sc_dev = dev;
	return sc;
}

/* What clone_destroy does at the end, and what the proposed if_freed would do: free it all. */
static inline void rundown_lagg_softc_free(struct rundown_lagg_softc *sc)
{
	SCENARIO_NOTE("frees the softc %p", (void *)sc);
	device_free(sc->sc_dev);
	free(sc);
}

static inline void rundown_lagg_if_freed(struct rundown_kref *k)
{
	rundown_lagg_softc_free(teardown_container_of(k, struct rundown_lagg_softc, sc_refs));
}

/* The softc pointer as the ioctl reads it; acquire pairs with the creator's release store. */
static inline struct rundown_lagg_softc *rundown_lagg_softc_of(struct rundown_lagg_ifnet *ifp)
{
	return atomic_load_explicit(&ifp->if_softc, memory_order_acquire);
}

/* Naive (a): the ioctl holds a reference, on the ifnet. */
/* quote: enter_ifref */
static inline struct device *rundown_lagg_enter_ifref(struct rundown_lagg_ifnet *ifp)
{
	struct rundown_lagg_softc *sc;

	/* if_ref(): relaxed, as refcount_acquire(9); it keeps the ifnet, and only the ifnet. */
	atomic_fetch_add_explicit(&ifp->if_refcount, 1, memory_order_relaxed);
	SCENARIO_NOTE("if_ref(ifp): holds a reference to the ifnet");
	sc = rundown_lagg_softc_of(ifp);
	if (!sc) {
		atomic_fetch_sub_explicit(&ifp->if_refcount, 1, memory_order_relaxed);
		return NULL;
	}
	SCENARIO_NOTE("sc = ifp->if_softc = %p; uses sc->sc_dev %p", (void *)sc,
		      (void *)sc->sc_dev);
	return sc->sc_dev;
}

static inline void rundown_lagg_exit_ifref(struct rundown_lagg_ifnet *ifp, struct device *dev)
{
	(void)dev;
	atomic_fetch_sub_explicit(&ifp->if_refcount, 1, memory_order_relaxed);
	SCENARIO_NOTE("if_rele(ifp)");
}
/* end quote: enter_ifref */

/* Naive (b): load the pointer, then take a reference on what it points to. */
/* quote: enter_unlocked */
static inline struct device *rundown_lagg_enter_unlocked(struct rundown_lagg_ifnet *ifp)
{
	struct rundown_lagg_softc *sc = rundown_lagg_softc_of(ifp);

	if (!sc)
		return NULL;
	SCENARIO_NOTE("sc = ifp->if_softc = %p", (void *)sc);
	SCENARIO_READER_WINDOW();	/* between the check and the increment */
	if (!rundown_kref_get_unless_zero(&sc->sc_refs))
		return NULL;
	rundown_lagg_held_sc = sc;
	return sc->sc_dev;
}
/* end quote: enter_unlocked */

static inline void rundown_lagg_exit_kref(struct rundown_lagg_ifnet *ifp, struct device *dev)
{
	(void)ifp, (void)dev;
	rundown_kref_put(&rundown_lagg_held_sc->sc_refs, rundown_lagg_if_freed);
}

/* Fix 2: the same look-up, under the lock that clone_destroy takes to unpublish. */
/* quote: enter_kref */
static inline struct device *rundown_lagg_enter_kref(struct rundown_lagg_ifnet *ifp)
{
	struct rundown_lagg_softc *sc;

	pthread_mutex_lock(&ifp->if_index_lock);
	/* Relaxed: the lock orders it. */
	sc = atomic_load_explicit(&ifp->if_softc, memory_order_relaxed);
	if (sc) {
		SCENARIO_NOTE("under the index lock: sc = ifp->if_softc = %p", (void *)sc);
		/* The same place as naive (b), but inside the lock. */
		SCENARIO_READER_WINDOW();
		RUNDOWN_LAGG_LOOKUP_LOADED();
		if (!rundown_kref_get_unless_zero(&sc->sc_refs))
			sc = NULL;
	}
	pthread_mutex_unlock(&ifp->if_index_lock);
	if (!sc)
		return NULL;
	rundown_lagg_held_sc = sc;
	return sc->sc_dev;
}
/* end quote: enter_kref */

/* clone_destroy drops the index lock: from here on a look-up may take it. */
static inline void rundown_lagg_index_unlock(struct rundown_lagg_ifnet *ifp)
{
	pthread_mutex_unlock(&ifp->if_index_lock);
	RUNDOWN_LAGG_INDEX_UNLOCKED();
}

/* Fix 1: rundown protection in the ifnet, taken before the softc pointer is read. */
/* quote: enter_rundown */
static inline struct device *rundown_lagg_enter_rundown(struct rundown_lagg_ifnet *ifp)
{
	if (!rundown_acquire(&ifp->if_rundown))
		return NULL;
	/* Published until the rundown completes. */
	return rundown_lagg_softc_of(ifp)->sc_dev;
}

static inline void rundown_lagg_exit_rundown(struct rundown_lagg_ifnet *ifp, struct device *dev)
{
	(void)dev;
	rundown_release(&ifp->if_rundown);
}
/* end quote: enter_rundown */

/* Fix 3: the same, cache-aware. */
static inline struct device *rundown_lagg_enter_ca(struct rundown_lagg_ifnet *ifp)
{
	if (!rundown_ca_acquire(ifp->if_rundown_ca))
		return NULL;
	return rundown_lagg_softc_of(ifp)->sc_dev;
}

static inline void rundown_lagg_exit_ca(struct rundown_lagg_ifnet *ifp, struct device *dev)
{
	(void)dev;
	rundown_ca_release(ifp->if_rundown_ca);
}

/* The registration point with a softc attached (lagg_clone_create). */
static inline struct rundown_lagg_ifnet *rundown_lagg_ifnet_new(struct device *dev)
{
	struct rundown_lagg_ifnet *ifp = teardown_malloc("rundown", sizeof(*ifp));
	int err = pthread_mutex_init(&ifp->if_index_lock, NULL);

	if (err)
		teardown_die("rundown", err, "pthread_mutex_init");
	atomic_init(&ifp->if_refcount, 1);
	rundown_init(&ifp->if_rundown);
	ifp->if_rundown_ca = rundown_ca_new();
	/* release: pairs with rundown_lagg_softc_of(); the softc is complete before it is seen. */
	atomic_store_explicit(&ifp->if_softc, rundown_lagg_softc_new(dev), memory_order_release);
	return ifp;
}

static inline void rundown_lagg_ifnet_free(struct rundown_lagg_ifnet *ifp)
{
	pthread_mutex_destroy(&ifp->if_index_lock);
	rundown_ca_free(ifp->if_rundown_ca);
	free(ifp);
}

#endif /* TEARDOWN_PATTERNS_RUNDOWN_LAGG_H */
