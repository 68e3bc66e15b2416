/* SPDX-License-Identifier: BSD-2-Clause */
/* hazptr: records, retire lists and the scan. The argument is in hazptr.h. */
#include "patterns/hazptr/hazptr.h"

#include <stdlib.h>

#include "patterns/common/die.h"
#include "patterns/common/misuse.h"

bool hazptr_membarrier;

__attribute__((constructor)) static void hazptr_init_membarrier(void)
{
	hazptr_membarrier = asym_fence_setup("HAZPTR_NO_MEMBARRIER");
}

bool hazptr_uses_membarrier(void)
{
	return hazptr_membarrier;
}

void hazptr_slot_misuse(struct hazptr_rec *r, unsigned i)
{
	(void)r;
	teardown_misuse("hazptr", "hazptr_protect on slot %u (a record has %u)", i, HAZPTR_SLOTS);
}

void hazptr_clear_misuse(struct hazptr_rec *r, unsigned i)
{
	(void)r;
	if (i >= HAZPTR_SLOTS)
		teardown_misuse("hazptr", "hazptr_clear of slot %u (a record has %u)", i,
				HAZPTR_SLOTS);
	teardown_misuse("hazptr", "hazptr_clear of slot %u, which holds nothing", i);
}

void hazptr_domain_init(struct hazptr_domain *d)
{
	int err;

	for (unsigned i = 0; i < HAZPTR_MAX_RECORDS; i++) {
		struct hazptr_rec *r = &d->rec[i];

		for (unsigned s = 0; s < HAZPTR_SLOTS; s++)
			atomic_init(&r->slot[s], NULL);
		atomic_init(&r->in_use, false);
		r->domain = d;
		r->retired = NULL;
		r->n_retired = 0;
		r->n_reclaimed = r->n_scans = 0;
	}
	atomic_init(&d->n_recs, 0);
	atomic_init(&d->n_in_use, 0);
	d->orphans = NULL;
	d->n_orphans = 0;
	err = pthread_mutex_init(&d->orphan_lock, NULL);
	if (err)
		teardown_die("hazptr", err, "pthread_mutex_init");
}

static bool rec_holds_a_hazard(struct hazptr_rec *r)
{
	for (unsigned s = 0; s < HAZPTR_SLOTS; s++)
		if (atomic_load_explicit(&r->slot[s], memory_order_relaxed))
			return true;
	return false;
}

static void reclaim_list(struct hazptr_obj *o)
{
	while (o) {
		struct hazptr_obj *next = o->next;

		o->retired = false;
		o->reclaim(o);
		o = next;
	}
}

void hazptr_domain_destroy(struct hazptr_domain *d)
{
	unsigned n = atomic_load_explicit(&d->n_recs, memory_order_acquire);

	for (unsigned i = 0; i < n; i++)
		if (rec_holds_a_hazard(&d->rec[i]))
			teardown_misuse("hazptr", "hazptr_domain_destroy while record %u holds a "
					"hazard", i);
	for (unsigned i = 0; i < n; i++)
		if (atomic_load_explicit(&d->rec[i].in_use, memory_order_acquire))
			teardown_misuse("hazptr", "hazptr_domain_destroy with record %u still "
					"registered", i);
	reclaim_list(d->orphans);
	d->orphans = NULL;
	d->n_orphans = 0;
	pthread_mutex_destroy(&d->orphan_lock);
}

struct hazptr_rec *hazptr_register(struct hazptr_domain *d)
{
	for (unsigned i = 0; i < HAZPTR_MAX_RECORDS; i++) {
		struct hazptr_rec *r = &d->rec[i];
		unsigned n;

		/* Acquire: the record's lists as its last owner left them (its release below). */
		if (atomic_exchange_explicit(&r->in_use, true, memory_order_acquire))
			continue;
		/* Grow the scanned range to cover i; a scan reading less sees an idle record. */
		n = atomic_load_explicit(&d->n_recs, memory_order_relaxed);
		while (n <= i && !atomic_compare_exchange_weak_explicit(&d->n_recs, &n, i + 1,
									 memory_order_relaxed,
									 memory_order_relaxed))
			;
		atomic_fetch_add_explicit(&d->n_in_use, 1, memory_order_relaxed);
		return r;
	}
	teardown_misuse("hazptr", "hazptr_register: all %d records are in use (more threads "
			"than HAZPTR_MAX_RECORDS)", HAZPTR_MAX_RECORDS);
}

size_t hazptr_threshold(struct hazptr_domain *d)
{
	size_t t = 2 * HAZPTR_SLOTS * (size_t)atomic_load_explicit(&d->n_in_use,
								   memory_order_relaxed);

	return t < HAZPTR_SCAN_MIN ? HAZPTR_SCAN_MIN : t;
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const void *const *)a, y = (uintptr_t)*(const void *const *)b;

	return (x > y) - (x < y);
}

/* Moves the domain's orphans onto r's list. */
static void adopt_orphans(struct hazptr_rec *r)
{
	struct hazptr_domain *d = r->domain;
	struct hazptr_obj *o;

	pthread_mutex_lock(&d->orphan_lock);
	o = d->orphans;
	r->n_retired += d->n_orphans;
	d->orphans = NULL;
	d->n_orphans = 0;
	pthread_mutex_unlock(&d->orphan_lock);
	while (o) {
		struct hazptr_obj *next = o->next;

		o->next = r->retired;
		r->retired = o;
		o = next;
	}
}

/* quote: scan */
size_t hazptr_scan(struct hazptr_rec *r)
{
	struct hazptr_domain *d = r->domain;
	void *hazards[HAZPTR_MAX_RECORDS * HAZPTR_SLOTS];
	struct hazptr_obj *o, *keep = NULL;
	size_t n_hazards = 0, reclaimed = 0, kept = 0;
	unsigned n;

	adopt_orphans(r);
	/*
	 * Store-load: every unpublish of what is on our list, then the slots. Pairs with the
	 * reader's fence between its slot store and its re-load (hazptr.h, argument 1).
	 */
	asym_fence_heavy(hazptr_membarrier, "hazptr");
	n = atomic_load_explicit(&d->n_recs, memory_order_acquire);
	for (unsigned i = 0; i < n; i++)
		for (unsigned s = 0; s < HAZPTR_SLOTS; s++) {
			/* Acquire pairs with hazptr_clear()'s release: its use first (2). */
			void *h = atomic_load_explicit(&d->rec[i].slot[s], memory_order_acquire);

			if (h)
				hazards[n_hazards++] = h;
		}
	qsort(hazards, n_hazards, sizeof(hazards[0]), ptr_cmp);
	for (o = r->retired; o;) {
		struct hazptr_obj *next = o->next;

		if (bsearch(&o->ptr, hazards, n_hazards, sizeof(hazards[0]), ptr_cmp)) {
			o->next = keep;		/* still protected: stays on the list */
			keep = o;
			kept++;
		} else {
			o->retired = false;
			o->reclaim(o);
			reclaimed++;
		}
		o = next;
	}
	r->retired = keep;
	r->n_retired = kept;
	r->n_reclaimed += reclaimed;
	r->n_scans++;
	return reclaimed;
}
/* end quote: scan */

/* quote: retire */
void hazptr_retire(struct hazptr_rec *r, struct hazptr_obj *obj, const void *ptr,
		   void (*reclaim)(struct hazptr_obj *obj))
{
	if (!obj || !ptr)
		teardown_misuse("hazptr", "hazptr_retire of NULL");
	if (obj->retired)
		teardown_misuse("hazptr", "hazptr_retire of an object already retired");
	obj->retired = true;
	obj->ptr = ptr;
	obj->reclaim = reclaim;
	obj->next = r->retired;
	r->retired = obj;
	if (++r->n_retired >= hazptr_threshold(r->domain))
		hazptr_scan(r);
}
/* end quote: retire */

void hazptr_unregister(struct hazptr_rec *r)
{
	struct hazptr_domain *d = r->domain;
	struct hazptr_obj *o, *last = NULL;

	if (rec_holds_a_hazard(r))
		teardown_misuse("hazptr", "hazptr_unregister while a slot holds a hazard");
	hazptr_scan(r);
	for (o = r->retired; o; o = o->next)
		last = o;
	if (last) {
		pthread_mutex_lock(&d->orphan_lock);
		last->next = d->orphans;
		d->orphans = r->retired;
		d->n_orphans += r->n_retired;
		pthread_mutex_unlock(&d->orphan_lock);
		r->retired = NULL;
		r->n_retired = 0;
	}
	atomic_fetch_sub_explicit(&d->n_in_use, 1, memory_order_relaxed);
	/* Release: the next owner's exchange sees the record as we leave it. */
	atomic_store_explicit(&r->in_use, false, memory_order_release);
}
