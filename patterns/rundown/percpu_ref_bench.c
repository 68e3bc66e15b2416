/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The lagg ioctl's hot path under percpu_ref: tryget_live + read one field + put, each thread
 * on its own counter, beside the cache-aware rundown's row (rundown_bench.c).
 */
#include <stdlib.h>

#include "bench/scenario_bench.h"
#include "patterns/rundown/lagg.h"
#include "patterns/rundown/percpu_ref.h"

static struct {
	struct rundown_lagg_ifnet *ifp;
	struct percpu_ref ref;
} bench_pcpu;

static void pcpu_release(struct percpu_ref *ref)
{
	(void)ref;
}

static void pcpu_setup(const bench_state *s)
{
	(void)s;
	bench_pcpu.ifp = rundown_lagg_ifnet_new(device_new(1));
	percpu_ref_init(&bench_pcpu.ref, pcpu_release);
}

static void pcpu_teardown(const bench_state *s)
{
	(void)s;
	percpu_ref_kill(&bench_pcpu.ref);
	percpu_ref_exit(&bench_pcpu.ref);
	rundown_lagg_softc_free(atomic_exchange(&bench_pcpu.ifp->if_softc, NULL));
	rundown_lagg_ifnet_free(bench_pcpu.ifp);
}

static inline struct device *pcpu_enter(struct percpu_ref *ref)
{
	if (!percpu_ref_tryget_live(ref))
		return NULL;
	return rundown_lagg_softc_of(bench_pcpu.ifp)->sc_dev;
}

static inline void pcpu_exit(struct percpu_ref *ref, struct device *dev)
{
	(void)dev;
	percpu_ref_put(ref);
}

static void bm_percpu_ref(bench_state *s)
{
	percpu_ref_register_thread();
	SCENARIO_BENCH_LOOP(s, &bench_pcpu.ref, pcpu_enter, pcpu_exit);
	percpu_ref_unregister_thread();
}

BENCH_REGISTRATION(percpu_ref_register)
{
	/* Each thread takes one of percpu_ref's PERCPU_REF_MAX_THREADS slots. */
	bench_teardown(bench_setup(bench_max_threads(scenario_bench_register(
		"rundown/percpu_ref (tryget_live/put)", bm_percpu_ref), PERCPU_REF_MAX_THREADS),
		pcpu_setup), pcpu_teardown);
}
