/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The epoch lab: a lagg interface's ioctl against its clone_destroy, plugged into the one
 * teardown scenario. Each thread (callback, teardown, destroy) has its own record.
 */
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/epoch/lagg.h"
#include "scenario/scenario.h"

static _Thread_local struct tepoch_record lagg_record;

static void *lagg_create(struct device *sc)
{
	/* Aligned: the domain's words have cache lines of their own. */
	struct lagg_ifnet *ifp = teardown_aligned_alloc("epoch", _Alignof(struct lagg_ifnet),
							sizeof(*ifp));

	*ifp = (struct lagg_ifnet){ .if_softc = NULL };
	tepoch_init(&ifp->net_epoch);
	atomic_init(&ifp->if_softc, sc);
	atomic_init(&ifp->if_refcount, 1);	/* the interface list's reference */
	return ifp;
}

static void lagg_destroy_ifnet(void *reg)
{
	struct lagg_ifnet *ifp = reg;

	tepoch_destroy(&ifp->net_epoch);
	free(ifp);
}

static struct device *lagg_unpublish(struct lagg_ifnet *ifp)
{
	SCENARIO_NOTE("clone_destroy: ifp->if_softc = NULL");
	/* Relaxed is enough: tepoch_call()/tepoch_synchronize() order it (tepoch.h). */
	return atomic_exchange_explicit(&ifp->if_softc, NULL, memory_order_relaxed);
}

/* Naive: the reference is on the ifnet; clone_destroy frees the softc regardless. */
SCENARIO_DEFINE_CALLBACK(ref_callback, struct lagg_ifnet, lagg_ioctl_enter_ref,
			 lagg_ioctl_exit_ref)

/* quote: naive_destroy */
static void naive_teardown(void *reg)
{
	struct lagg_ifnet *ifp = reg;

	SCENARIO_NOTE("clone_destroy: if_refcount = %u, but it counts the ifnet",
		      atomic_load_explicit(&ifp->if_refcount, memory_order_relaxed));
	device_free(lagg_unpublish(ifp));	/* free(sc, M_LAGG) */
}
/* end quote: naive_destroy */

/* The ioctl in an epoch section; the record is per thread. */
static struct device *epoch_enter(struct lagg_ifnet *ifp)
{
	return lagg_ioctl_enter_epoch(ifp, &lagg_record);
}

static void epoch_exit(struct lagg_ifnet *ifp, struct device *sc)
{
	(void)ifp, (void)sc;
	lagg_ioctl_exit_epoch(&lagg_record);
}

SCENARIO_DEFINE_CALLBACK(epoch_callback, struct lagg_ifnet, epoch_enter, epoch_exit)

static void epoch_reader_start(void *reg)
{
	tepoch_register(&((struct lagg_ifnet *)reg)->net_epoch, &lagg_record);
}

static void epoch_reader_stop(void *reg)
{
	(void)reg;
	tepoch_unregister(&lagg_record);
}

/* Broken on purpose: the ioctl marks its section, but destroy does not wait for it. */
static void no_wait_teardown(void *reg)
{
	device_free(lagg_unpublish(reg));
}

/* quote: synchronize_destroy */
static void synchronize_teardown(void *reg)
{
	struct lagg_ifnet *ifp = reg;
	struct device *sc;

	tepoch_register(&ifp->net_epoch, &lagg_record);
	sc = lagg_unpublish(ifp);
	tepoch_synchronize(&lagg_record);	/* epoch_wait(net_epoch) */
	device_free(sc);
	tepoch_unregister(&lagg_record);
}
/* end quote: synchronize_destroy */

/* quote: retire_destroy */
static void softc_free_deferred(struct tepoch_entry *entry)
{
	struct lagg_ifnet *ifp = teardown_container_of(entry, struct lagg_ifnet, softc_retire);

	device_free(ifp->retired_softc);
}

static void retire_teardown(void *reg)
{
	struct lagg_ifnet *ifp = reg;
	size_t destroyed;

	tepoch_register(&ifp->net_epoch, &lagg_record);
	ifp->retired_softc = lagg_unpublish(ifp);
	SCENARIO_NOTE("clone_destroy: tepoch_call(softc), returns without waiting");
	/* epoch_call() */
	tepoch_call(&lagg_record, &ifp->softc_retire, softc_free_deferred);
	destroyed = tepoch_poll(&lagg_record);
	SCENARIO_NOTE("tepoch_poll: %zu destroyed, %zu held back (epoch %lu)", destroyed,
		      lagg_record.n_pending, tepoch_epoch(&ifp->net_epoch));
	tepoch_unregister(&lagg_record);	/* what is still pending becomes an orphan */
}

static void retire_destroy(void *reg)
{
	struct lagg_ifnet *ifp = reg;

	SCENARIO_NOTE("destroys the ifnet: tepoch_barrier runs what is still pending");
	tepoch_register(&ifp->net_epoch, &lagg_record);
	tepoch_barrier(&lagg_record);	/* epoch_drain_callbacks(): before the domain goes */
	tepoch_unregister(&lagg_record);
	lagg_destroy_ifnet(ifp);
}
/* end quote: retire_destroy */

static const struct scenario_variant epoch_variants[] = {
	{
		.name = "naive",
		.story = "the ioctl holds a reference on the ifnet; clone_destroy frees the softc "
			 "regardless",
		.expect = "heap-use-after-free",
		.create = lagg_create,
		.callback = ref_callback,
		.teardown = naive_teardown,
		.destroy = lagg_destroy_ifnet,
	},
	{
		.name = "no_wait",
		.story = "the ioctl runs in an epoch section, but clone_destroy frees without "
			 "waiting",
		.expect = "heap-use-after-free",
		.create = lagg_create,
		.reader_start = epoch_reader_start,
		.reader_stop = epoch_reader_stop,
		.callback = epoch_callback,
		.teardown = no_wait_teardown,
		.destroy = lagg_destroy_ifnet,
	},
	{
		.name = "synchronize",
		.story = "unpublish the softc, tepoch_synchronize (epoch_wait), free",
		.create = lagg_create,
		.reader_start = epoch_reader_start,
		.reader_stop = epoch_reader_stop,
		.callback = epoch_callback,
		.teardown = synchronize_teardown,
		.destroy = lagg_destroy_ifnet,
	},
	{
		.name = "retire",
		.story = "unpublish, tepoch_call (epoch_call) frees later; the ifnet's destroy "
			 "runs tepoch_barrier",
		.create = lagg_create,
		.reader_start = epoch_reader_start,
		.reader_stop = epoch_reader_stop,
		.callback = epoch_callback,
		.teardown = retire_teardown,
		.destroy = retire_destroy,
	},
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "epoch",
	.source_case = "FreeBSD lagg: an ioctl uses the softc while clone_destroy frees it; the "
		       "ifnet reference counts the wrong object",
	.variants = epoch_variants,
	.n_variants = TEARDOWN_ARRAY_SIZE(epoch_variants),
	.uses_membarrier = tepoch_uses_membarrier,
};
