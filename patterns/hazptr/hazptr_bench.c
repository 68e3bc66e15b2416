/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The read side of hazard pointers, ours beside Concurrency Kit's ck_hp in one process: load
 * the shared pointer, publish the hazard, order the two, load again and compare, read one field,
 * clear. hazptr/protect pairs the reader's compiler barrier with the scan's membarrier;
 * hazptr/protect_fenced makes the reader pay a full fence itself (the mode without membarrier);
 * ck_hp/set_fence is ck_hp_set_fence (an xchg on x86), the re-load, the read, ck_hp_clear.
 * Each thread registers its own record: ours for the run, ck's once per thread index (ck records
 * are not freed), as ck_epoch_bench.c does.
 */
#include <ck_hp.h>
#include <stdatomic.h>

#include "bench/scenario_bench.h"
#include "patterns/common/compiler.h"
#include "patterns/hazptr/hazptr.h"
#include "scenario/device.h"

static struct hazptr_domain bench_domain;
static _Atomic(void *) bench_slot;
static bool bench_saved_membarrier;

static ck_hp_t ck_domain;
static ck_hp_record_t ck_records[SCENARIO_BENCH_MAX_THREADS];
static void *ck_pointers[SCENARIO_BENCH_MAX_THREADS];
static bool ck_ready, ck_record_ready[SCENARIO_BENCH_MAX_THREADS];
static void *ck_slot;

static void ck_no_destroy(void *p)
{
	(void)p;
}

/* Thread i's record, registered the first time: only thread i touches it. */
static ck_hp_record_t *ck_record(int i)
{
	if (!ck_record_ready[i]) {
		ck_hp_register(&ck_domain, &ck_records[i], &ck_pointers[i]);
		ck_record_ready[i] = true;
	}
	return &ck_records[i];
}

/* quote: bench_enter */
#define HAZPTR_BENCH_ENTER(rec) ((struct device *)hazptr_protect(rec, 0, &bench_slot))
#define HAZPTR_BENCH_EXIT(rec, dev) hazptr_clear(rec, 0)
/* end quote: bench_enter */

/* quote: ck_bench_enter */
static inline struct device *ck_bench_enter(ck_hp_record_t *rec)
{
	void *p = ck_pr_load_ptr(&ck_slot);

	for (;;) {
		void *again;

		ck_hp_set_fence(rec, 0, p);
		again = ck_pr_load_ptr(&ck_slot);
		if (teardown_likely(again == p))
			return p;
		p = again;
	}
}
#define CK_BENCH_EXIT(rec, dev) ck_hp_clear(rec)
/* end quote: ck_bench_enter */

static void publish(const bench_state *s)
{
	(void)s;
	if (!ck_ready) {
		ck_hp_init(&ck_domain, 1, 64, ck_no_destroy);
		hazptr_domain_init(&bench_domain);
		ck_ready = true;
	}
	atomic_store_explicit(&bench_slot, device_new(1), memory_order_release);
	ck_pr_store_ptr(&ck_slot, atomic_load(&bench_slot));
	ck_pr_fence_store();
}

static void unpublish(const bench_state *s)
{
	(void)s;
	ck_pr_store_ptr(&ck_slot, NULL);
	device_free(atomic_exchange(&bench_slot, NULL));
}

static void publish_fenced(const bench_state *s)
{
	publish(s);
	bench_saved_membarrier = hazptr_membarrier;
	hazptr_membarrier = false;	/* no scan runs in this row */
}

static void unpublish_fenced(const bench_state *s)
{
	hazptr_membarrier = bench_saved_membarrier;
	unpublish(s);
}

static void bm_protect(bench_state *s)
{
	struct hazptr_rec *rec = hazptr_register(&bench_domain);

	SCENARIO_BENCH_LOOP(s, rec, HAZPTR_BENCH_ENTER, HAZPTR_BENCH_EXIT);
	hazptr_unregister(rec);
}

static void bm_ck_set_fence(bench_state *s)
{
	ck_hp_record_t *rec = ck_record(bench_thread_index(s));

	SCENARIO_BENCH_LOOP(s, rec, ck_bench_enter, CK_BENCH_EXIT);
}

BENCH_REGISTRATION(hazptr_register_benchmarks)
{
	/* Records for the sweep's threads: at most half the domain's, the rest for set-up. */
	bench_teardown(bench_setup(bench_max_threads(scenario_bench_register("hazptr/protect",
									     bm_protect),
						     HAZPTR_MAX_RECORDS / 2),
				   publish),
		       unpublish);
	bench_teardown(bench_setup(bench_max_threads(scenario_bench_register(
					   "hazptr/protect_fenced", bm_protect),
						     HAZPTR_MAX_RECORDS / 2),
				   publish_fenced),
		       unpublish_fenced);
	bench_teardown(bench_setup(scenario_bench_register("ck_hp/set_fence", bm_ck_set_fence),
				   publish),
		       unpublish);
}
