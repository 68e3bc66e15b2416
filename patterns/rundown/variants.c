/*
 * The rundown lab: FreeBSD lagg's ioctl against lagg_clone_destroy, plugged into the one
 * teardown scenario. Two naive twins (the reference counts the wrong object; check, then
 * increment) and three fixes (one-word rundown, last reference frees, cache-aware rundown).
 */
#include "patterns/rundown/lagg.h"
#include "scenario/scenario.h"

static void *lagg_create(struct device *dev)
{
	return rundown_lagg_ifnet_new(dev);
}

static void lagg_destroy(void *reg)
{
	rundown_lagg_ifnet_free(reg);
}

static struct rundown_lagg_softc *lagg_unpublish(struct rundown_lagg_ifnet *ifp)
{
	SCENARIO_NOTE("unpublishes the softc (ifp->if_softc = NULL)");
	return atomic_exchange_explicit(&ifp->if_softc, NULL, memory_order_relaxed);
}

/* Naive (a): the ioctl's if_ref() counts the ifnet; clone_destroy frees the softc regardless. */
SCENARIO_DEFINE_CALLBACK(ifref_callback, struct rundown_lagg_ifnet, rundown_lagg_enter_ifref,
			 rundown_lagg_exit_ifref)

/* quote: ifref_teardown */
static void ifref_teardown(void *reg)
{
	struct rundown_lagg_ifnet *ifp = reg;

	SCENARIO_NOTE("lagg_clone_destroy: ifnet has %u reference(s); frees the softc anyway",
		      atomic_load_explicit(&ifp->if_refcount, memory_order_relaxed));
	rundown_lagg_softc_free(lagg_unpublish(ifp));
}
/* end quote: ifref_teardown */

/* Naive (b): the softc carries its own count, but the ioctl checks, then increments. */
SCENARIO_DEFINE_CALLBACK(unlocked_callback, struct rundown_lagg_ifnet,
			 rundown_lagg_enter_unlocked, rundown_lagg_exit_kref)

/* quote: unlocked_teardown */
static void unlocked_teardown(void *reg)
{
	struct rundown_lagg_softc *sc = lagg_unpublish(reg);

	SCENARIO_NOTE("drops the interface's reference to the softc");
	rundown_kref_put(&sc->sc_refs, rundown_lagg_if_freed);
}
/* end quote: unlocked_teardown */

/* Fix 1: one-word rundown protection; clone_destroy waits for the holders, then frees. */
SCENARIO_DEFINE_CALLBACK(rundown_callback, struct rundown_lagg_ifnet, rundown_lagg_enter_rundown,
			 rundown_lagg_exit_rundown)

/* quote: rundown_teardown */
static void rundown_teardown(void *reg)
{
	struct rundown_lagg_ifnet *ifp = reg;

	rundown_wait_for_release(&ifp->if_rundown);	/* no new holders; old ones have left */
	rundown_lagg_softc_free(lagg_unpublish(ifp));
	rundown_completed(&ifp->if_rundown);
}
/* end quote: rundown_teardown */

/* Fix 2: look up under the index lock with get_unless_zero; whoever puts last frees. */
SCENARIO_DEFINE_CALLBACK(kref_callback, struct rundown_lagg_ifnet, rundown_lagg_enter_kref,
			 rundown_lagg_exit_kref)

/* quote: kref_teardown */
static void kref_teardown(void *reg)
{
	struct rundown_lagg_ifnet *ifp = reg;
	struct rundown_lagg_softc *sc;

	if (pthread_mutex_trylock(&ifp->if_index_lock) != 0) {
		SCENARIO_NOTE("the index lock is held by a look-up; waits for it");
		SCENARIO_TEARDOWN_BLOCKS();
		pthread_mutex_lock(&ifp->if_index_lock);
	}
	sc = lagg_unpublish(ifp);	/* under the lock: no look-up can find it from here on */
	pthread_mutex_unlock(&ifp->if_index_lock);
	SCENARIO_NOTE("drops the interface's reference to the softc");
	rundown_kref_put(&sc->sc_refs, rundown_lagg_if_freed);	/* frees only if it was the last */
}
/* end quote: kref_teardown */

/* Fix 3: cache-aware rundown protection. */
SCENARIO_DEFINE_CALLBACK(ca_callback, struct rundown_lagg_ifnet, rundown_lagg_enter_ca,
			 rundown_lagg_exit_ca)

static void ca_reader_start(void *reg)
{
	(void)reg;
	rundown_ca_register_thread();
}

static void ca_reader_stop(void *reg)
{
	(void)reg;
	rundown_ca_unregister_thread();
}

/* quote: ca_teardown */
static void ca_teardown(void *reg)
{
	struct rundown_lagg_ifnet *ifp = reg;

	rundown_ca_wait_for_release(ifp->if_rundown_ca);
	rundown_lagg_softc_free(lagg_unpublish(ifp));
	rundown_ca_completed(ifp->if_rundown_ca);
}
/* end quote: ca_teardown */

#define LAGG_VARIANT(NAME, STORY, EXPECT, CALLBACK, TEARDOWN) \
	{ .name = NAME, .story = STORY, .expect = EXPECT, .create = lagg_create, \
	  .callback = CALLBACK, .teardown = TEARDOWN, .destroy = lagg_destroy }

static const struct scenario_variant rundown_variants[] = {
	LAGG_VARIANT("naive", "ioctl holds if_ref on the ifnet; clone_destroy frees the softc "
		     "anyway (the reference counts the wrong object)", "heap-use-after-free",
		     ifref_callback, ifref_teardown),
	LAGG_VARIANT("check_then_increment", "ioctl loads if_softc, then takes a reference on the "
		     "softc; clone_destroy drops the last one in between", "heap-use-after-free",
		     unlocked_callback, unlocked_teardown),
	LAGG_VARIANT("rundown", "one-word rundown protection in the ifnet; clone_destroy waits "
		     "for the holders, then frees", NULL, rundown_callback, rundown_teardown),
	LAGG_VARIANT("kref", "look-up under the index lock with get_unless_zero; the last "
		     "reference frees (if_freed)", NULL, kref_callback, kref_teardown),
	{ .name = "cache_aware", .story = "cache-aware rundown: per-thread shards, membarrier "
	  "in the wait", .create = lagg_create, .reader_start = ca_reader_start,
	  .reader_stop = ca_reader_stop, .callback = ca_callback, .teardown = ca_teardown,
	  .destroy = lagg_destroy },
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "rundown",
	.seed = "FreeBSD lagg: ioctl holds a reference to the ifnet, clone_destroy frees the "
		"softc regardless",
	.variants = rundown_variants,
	.n_variants = sizeof(rundown_variants) / sizeof(rundown_variants[0]),
};
