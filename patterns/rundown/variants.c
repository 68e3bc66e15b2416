/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rundown lab: FreeBSD lagg's ioctl against lagg_clone_destroy, plugged into the one
 * teardown scenario. Two naive twins (the reference counts the wrong object; check, then
 * increment) and four fixes (one-word rundown, last reference frees, cache-aware rundown,
 * percpu_ref), with percpu_ref's own naive twin (kill sums the counters with no grace period).
 */
#include "patterns/common/compiler.h"
#include "patterns/common/futex.h"
/* percpu_ref's gets stop between their mode load and their count in the forced schedule. */
#define PERCPU_REF_GET_COUNTING() SCENARIO_READER_WINDOW()
#include "patterns/rundown/percpu_ref.h"
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
	rundown_lagg_index_unlock(ifp);
	SCENARIO_NOTE("drops the interface's reference to the softc");
	/* Frees only if it was the last reference. */
	rundown_kref_put(&sc->sc_refs, rundown_lagg_if_freed);
}
/* end quote: kref_teardown */

/*
 * kref again, in the schedule kref's own forced run cannot reach: clone_destroy takes and drops
 * the index lock first; then a look-up takes it, loads if_softc and stops before
 * get_unless_zero until clone_destroy has returned. Correct code unpublished under the lock, so
 * the look-up loads NULL; code that unpublishes after the unlock lets it load a softc that the
 * last put then frees. Only this variant arms the two scheduling points (lagg.h).
 */
enum { LATE_LOOKUP_IDLE, LATE_LOOKUP_UNLOCKED, LATE_LOOKUP_LOADED, LATE_LOOKUP_TORN_DOWN };

static struct {
	atomic_bool armed;
	_Atomic uint32_t step;		/* LATE_LOOKUP_*; the futex both sides sleep on */
	atomic_int readers;		/* hot-path threads not yet stopped */
	atomic_bool loaded_taken;	/* only the first look-up after the unlock stops */
} late_lookup;

static void late_lookup_advance(uint32_t step)
{
	uint32_t old = atomic_load(&late_lookup.step);

	while (old < step && !atomic_compare_exchange_weak(&late_lookup.step, &old, step))
		;
	futex_wake_all(&late_lookup.step);
}

static void late_lookup_wait(uint32_t step)
{
	uint32_t now;

	while ((now = atomic_load(&late_lookup.step)) < step)
		futex_wait_while(&late_lookup.step, now);
}

void rundown_lagg_index_unlocked(void)
{
	if (!atomic_load(&late_lookup.armed))
		return;
	SCENARIO_NOTE("dropped the index lock; lets a look-up take it");
	late_lookup_advance(LATE_LOOKUP_UNLOCKED);
	SCENARIO_TEARDOWN_BLOCKS();
	/* A look-up loaded if_softc, or no reader is left. */
	late_lookup_wait(LATE_LOOKUP_LOADED);
}

void rundown_lagg_lookup_loaded(void)
{
	if (!atomic_load(&late_lookup.armed) ||
	    atomic_load(&late_lookup.step) != LATE_LOOKUP_UNLOCKED ||
	    atomic_exchange(&late_lookup.loaded_taken, true))
		return;
	SCENARIO_NOTE("took the index lock after clone_destroy dropped it; waits for it to return");
	late_lookup_advance(LATE_LOOKUP_LOADED);
	late_lookup_wait(LATE_LOOKUP_TORN_DOWN);
}

static void *late_lookup_create(struct device *dev)
{
	atomic_store(&late_lookup.step, LATE_LOOKUP_IDLE);
	atomic_store(&late_lookup.readers, 0);
	atomic_store(&late_lookup.loaded_taken, false);
	atomic_store(&late_lookup.armed, true);
	return lagg_create(dev);
}

static void late_lookup_destroy(void *reg)
{
	atomic_store(&late_lookup.armed, false);
	lagg_destroy(reg);
}

static void late_lookup_reader_start(void *reg)
{
	(void)reg;
	atomic_fetch_add(&late_lookup.readers, 1);
}

static void late_lookup_reader_stop(void *reg)
{
	(void)reg;
	if (atomic_fetch_sub(&late_lookup.readers, 1) == 1)
		late_lookup_advance(LATE_LOOKUP_LOADED);	/* nobody is left to look up */
}

static struct device *late_lookup_enter(struct rundown_lagg_ifnet *ifp)
{
	SCENARIO_NOTE("ioctl: about to look the softc up in the index");
	/* clone_destroy goes first, until it drops the index lock. */
	SCENARIO_READER_WINDOW();
	return rundown_lagg_enter_kref(ifp);
}

SCENARIO_DEFINE_CALLBACK(late_lookup_callback, struct rundown_lagg_ifnet, late_lookup_enter,
			 rundown_lagg_exit_kref)

static void late_lookup_teardown(void *reg)
{
	kref_teardown(reg);
	late_lookup_advance(LATE_LOOKUP_TORN_DOWN);
}

/*
 * Fix 3: cache-aware rundown protection. clone_destroy frees the ref itself the moment its wait
 * returns, as ExFreeCacheAwareRundownProtection allows. So the ioctl finds the ref through the
 * ifnet under the index lock, and a look-up after clone_destroy unpublished it finds none. The
 * ref's own hot path, the use and the release, runs outside the lock.
 */
static _Thread_local struct rundown_ca *ca_held;	/* the ioctl's local variable */

static struct device *ca_enter(struct rundown_lagg_ifnet *ifp)
{
	struct rundown_ca *ca;

	pthread_mutex_lock(&ifp->if_index_lock);
	ca = ifp->if_rundown_ca;
	if (ca && !rundown_ca_acquire(ca))
		ca = NULL;
	pthread_mutex_unlock(&ifp->if_index_lock);
	if (!ca)
		return NULL;
	ca_held = ca;
	return rundown_lagg_softc_of(ifp)->sc_dev;
}

static void ca_exit(struct rundown_lagg_ifnet *ifp, struct device *dev)
{
	(void)ifp, (void)dev;
	rundown_ca_release(ca_held);
}

SCENARIO_DEFINE_CALLBACK(ca_callback, struct rundown_lagg_ifnet, ca_enter, ca_exit)

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
	struct rundown_ca *ca = ifp->if_rundown_ca;	/* only clone_destroy writes it */

	rundown_ca_wait_for_release(ca);
	rundown_lagg_softc_free(lagg_unpublish(ifp));
	rundown_ca_completed(ca);
	pthread_mutex_lock(&ifp->if_index_lock);
	ifp->if_rundown_ca = NULL;	/* no look-up finds the ref from here on */
	pthread_mutex_unlock(&ifp->if_index_lock);
	SCENARIO_NOTE("frees the rundown ref");
	rundown_ca_free(ca);	/* releasers may still be returning: they touch none of it */
}
/* end quote: ca_teardown */

/*
 * The same, with ioctl threads that come and go while clone_destroy waits: a thread registers,
 * makes two calls, unregisters, registers again. A shard passes from a thread that left to one
 * that arrives within one teardown, and the wait may read the newcomer's 0 in a shard whose
 * last holder was the leaver.
 */
static _Thread_local unsigned churn_calls;	/* odd: registered, between two calls */

static long ca_churn_callback(void *reg)
{
	long state;

	if (churn_calls++ % 2 == 0)
		rundown_ca_register_thread();
	state = ca_callback(reg);
	if (churn_calls % 2 == 0 || state == SCENARIO_DECLINED) {
		rundown_ca_unregister_thread();
		churn_calls = 0;
	}
	return state;
}

static void ca_churn_reader_stop(void *reg)
{
	(void)reg;
	if (churn_calls % 2)
		rundown_ca_unregister_thread();
}

/*
 * Fix 4: percpu_ref (Linux). The ioctl's get adds to its own counter; clone_destroy kills the
 * ref, which switches it to atomic mode after a grace period, and waits for release, which
 * runs when the exact count reaches zero; then it frees the softc and the counters.
 */
struct lagg_pcpu {
	struct rundown_lagg_ifnet *ifp;
	struct percpu_ref ref;
	_Atomic uint32_t released;	/* futex: release has run */
};

static void pcpu_release(struct percpu_ref *ref)
{
	struct lagg_pcpu *lp = teardown_container_of(ref, struct lagg_pcpu, ref);

	SCENARIO_NOTE("release: the count is zero; wakes clone_destroy");
	/* release: every holder's uses (the last put's acquire RMW) before the free. */
	atomic_store_explicit(&lp->released, 1, memory_order_release);
	futex_wake_all(&lp->released);
}

static void pcpu_confirm(struct percpu_ref *ref)
{
	(void)ref;
	SCENARIO_NOTE("confirm: every get now sees the ref dead; the count is exact");
}

static void *pcpu_create(struct device *dev)
{
	struct lagg_pcpu *lp = teardown_malloc("rundown", sizeof(*lp));

	lp->ifp = rundown_lagg_ifnet_new(dev);
	atomic_init(&lp->released, 0);
	percpu_ref_init(&lp->ref, pcpu_release);
	return lp;
}

static void pcpu_destroy(void *reg)
{
	struct lagg_pcpu *lp = reg;

	lagg_destroy(lp->ifp);
	free(lp);
}

static struct device *pcpu_enter(struct lagg_pcpu *lp)
{
	if (!percpu_ref_tryget_live(&lp->ref))
		return NULL;
	return rundown_lagg_softc_of(lp->ifp)->sc_dev;	/* published until release */
}

static void pcpu_exit(struct lagg_pcpu *lp, struct device *dev)
{
	(void)dev;
	percpu_ref_put(&lp->ref);
}

SCENARIO_DEFINE_CALLBACK(pcpu_callback, struct lagg_pcpu, pcpu_enter, pcpu_exit)

static void pcpu_reader_start(void *reg)
{
	(void)reg;
	percpu_ref_register_thread();
}

static void pcpu_reader_stop(void *reg)
{
	(void)reg;
	percpu_ref_unregister_thread();
}

/* After kill: release has run, or will on the last put. */
static void pcpu_wait_released(struct lagg_pcpu *lp)
{
	/* acquire: pairs with pcpu_release()'s store. */
	if (!atomic_load_explicit(&lp->released, memory_order_acquire)) {
		SCENARIO_NOTE("waits for release");
		SCENARIO_TEARDOWN_BLOCKS();
	}
	while (!atomic_load_explicit(&lp->released, memory_order_acquire))
		futex_wait_while(&lp->released, 0);
	rundown_lagg_softc_free(lagg_unpublish(lp->ifp));
	percpu_ref_exit(&lp->ref);
}

/* quote: percpu_teardown */
static void pcpu_teardown(void *reg)
{
	struct lagg_pcpu *lp = reg;

	percpu_ref_kill_and_confirm(&lp->ref, pcpu_confirm);
	pcpu_wait_released(lp);
}
/* end quote: percpu_teardown */

/*
 * The same, with ioctl threads that register, make two calls and unregister, again and again:
 * a slot, and its counter in the ref and its section word, pass from a thread that left to one
 * that arrives while kill runs.
 */
static _Thread_local unsigned pcpu_churn_calls;	/* odd: registered, between two calls */

static long pcpu_churn_callback(void *reg)
{
	long state;

	if (pcpu_churn_calls++ % 2 == 0)
		percpu_ref_register_thread();
	state = pcpu_callback(reg);
	if (pcpu_churn_calls % 2 == 0 || state == SCENARIO_DECLINED) {
		percpu_ref_unregister_thread();
		pcpu_churn_calls = 0;
	}
	return state;
}

static void pcpu_churn_reader_stop(void *reg)
{
	(void)reg;
	if (pcpu_churn_calls % 2)
		percpu_ref_unregister_thread();
	pcpu_churn_calls = 0;
}

/* Naive: kill switches to atomic mode and sums the counters at once, with no grace period. */
/* quote: percpu_naive_kill */
static void pcpu_no_grace_teardown(void *reg)
{
	struct lagg_pcpu *lp = reg;
	int64_t last;

	atomic_fetch_or_explicit(&lp->ref.mode, PERCPU_REF_ATOMIC | PERCPU_REF_DEAD,
				 memory_order_seq_cst);
	SCENARIO_NOTE("kill: mode = ATOMIC|DEAD; sums the counters at once");
	percpu_ref_fold(&lp->ref);	/* a get that read "percpu" may not have counted yet */
	SCENARIO_NOTE("confirm, too early: a get that read percpu mode has not counted yet");
	last = percpu_ref_put_atomic(&lp->ref);
	if (last <= 1)
		percpu_ref_put_done(&lp->ref, last);
	pcpu_wait_released(lp);
}
/* end quote: percpu_naive_kill */

static const struct scenario_variant rundown_variants[] = {
	{
		.name = "naive",
		.story = "ioctl holds if_ref on the ifnet; clone_destroy frees the softc anyway "
			 "(the reference counts the wrong object)",
		.expect = "heap-use-after-free",
		.create = lagg_create,
		.callback = ifref_callback,
		.teardown = ifref_teardown,
		.destroy = lagg_destroy,
	},
	{
		.name = "check_then_increment",
		.story = "ioctl loads if_softc, then takes a reference on the softc; clone_destroy "
			 "drops the last one in between",
		.expect = "heap-use-after-free",
		.create = lagg_create,
		.callback = unlocked_callback,
		.teardown = unlocked_teardown,
		.destroy = lagg_destroy,
	},
	{
		.name = "rundown",
		.story = "one-word rundown protection in the ifnet; clone_destroy waits for the "
			 "holders, then frees",
		.create = lagg_create,
		.callback = rundown_callback,
		.teardown = rundown_teardown,
		.destroy = lagg_destroy,
	},
	{
		.name = "kref",
		.story = "look-up under the index lock with get_unless_zero; the last reference "
			 "frees (if_freed)",
		.create = lagg_create,
		.callback = kref_callback,
		.teardown = kref_teardown,
		.destroy = lagg_destroy,
	},
	{
		.name = "kref_lookup_after_unlock",
		.story = "kref, with a look-up that takes the index lock right after clone_destroy "
			 "dropped it and stops before get_unless_zero",
		.create = late_lookup_create,
		.reader_start = late_lookup_reader_start,
		.reader_stop = late_lookup_reader_stop,
		.callback = late_lookup_callback,
		.teardown = late_lookup_teardown,
		.destroy = late_lookup_destroy,
	},
	{
		.name = "cache_aware",
		.story = "cache-aware rundown: per-thread shards, membarrier in the wait; "
			 "clone_destroy frees the ref when its wait returns",
		.create = lagg_create,
		.reader_start = ca_reader_start,
		.reader_stop = ca_reader_stop,
		.callback = ca_callback,
		.teardown = ca_teardown,
		.destroy = lagg_destroy,
	},
	{
		.name = "cache_aware_churn",
		.story = "cache-aware rundown, with ioctl threads that register, make two calls "
			 "and unregister, again and again, during the wait",
		.create = lagg_create,
		.reader_stop = ca_churn_reader_stop,
		.callback = ca_churn_callback,
		.teardown = ca_teardown,
		.destroy = lagg_destroy,
	},
	{
		.name = "percpu_ref_no_grace_period",
		.story = "percpu_ref whose kill sums the per-thread counters without waiting for a "
			 "grace period: a get that read percpu mode counts after the sum",
		.expect = "heap-use-after-free",
		.create = pcpu_create,
		.reader_start = pcpu_reader_start,
		.reader_stop = pcpu_reader_stop,
		.callback = pcpu_callback,
		.teardown = pcpu_no_grace_teardown,
		.destroy = pcpu_destroy,
	},
	{
		.name = "percpu_ref",
		.story = "percpu_ref: per-thread counters; kill switches to atomic mode after a "
			 "grace period; release runs when the exact count reaches zero",
		.create = pcpu_create,
		.reader_start = pcpu_reader_start,
		.reader_stop = pcpu_reader_stop,
		.callback = pcpu_callback,
		.teardown = pcpu_teardown,
		.destroy = pcpu_destroy,
	},
	{
		.name = "percpu_ref_churn",
		.story = "percpu_ref, with ioctl threads that register, make two calls and "
			 "unregister, again and again, while kill runs",
		.create = pcpu_create,
		.reader_stop = pcpu_churn_reader_stop,
		.callback = pcpu_churn_callback,
		.teardown = pcpu_teardown,
		.destroy = pcpu_destroy,
	},
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "rundown",
	.source_case = "FreeBSD lagg: ioctl holds a reference to the ifnet, clone_destroy frees "
		"the softc regardless",
	.variants = rundown_variants,
	.n_variants = TEARDOWN_ARRAY_SIZE(rundown_variants),
	.uses_membarrier = rundown_ca_uses_membarrier,
};
