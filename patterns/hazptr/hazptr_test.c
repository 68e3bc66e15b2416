/* SPDX-License-Identifier: BSD-2-Clause */
/* hazptr's contract: protect and clear, retire and scan, orphans, and its misuse. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "patterns/hazptr/hazptr.h"
#include "tests/misuse.h"

struct thing {
	struct hazptr_obj obj;
	int *reclaimed;		/* counts this thing's reclamation */
};

static void thing_reclaim(struct hazptr_obj *o)
{
	struct thing *t = (struct thing *)o;

	(*t->reclaimed)++;
	free(t);
}

static struct thing *thing_new(int *reclaimed)
{
	struct thing *t = calloc(1, sizeof(*t));

	cr_assert(t);
	t->reclaimed = reclaimed;
	return t;
}

Test(hazptr, protect_returns_the_published_pointer_and_clear_releases_it)
{
	static struct hazptr_domain d;
	_Atomic(void *) src;
	int x;
	struct hazptr_rec *r;

	hazptr_domain_init(&d);
	r = hazptr_register(&d);
	atomic_init(&src, &x);
	cr_assert_eq(hazptr_protect(r, 1, &src), &x);
	cr_assert_eq(atomic_load(&r->slot[1]), &x, "the hazard is published in slot 1");
	hazptr_clear(r, 1);
	cr_assert_null(atomic_load(&r->slot[1]));
	atomic_store(&src, NULL);
	cr_assert_null(hazptr_protect(r, 0, &src), "nothing published, nothing protected");
	cr_assert_null(atomic_load(&r->slot[0]));
	hazptr_unregister(r);
	hazptr_domain_destroy(&d);
}

Test(hazptr, a_scan_reclaims_what_no_slot_holds_and_keeps_what_one_does)
{
	static struct hazptr_domain d;
	struct hazptr_rec *reader, *writer;
	_Atomic(void *) src;
	int reclaimed = 0;
	struct thing *a = thing_new(&reclaimed), *b = thing_new(&reclaimed);

	hazptr_domain_init(&d);
	reader = hazptr_register(&d);
	writer = hazptr_register(&d);
	atomic_init(&src, a);
	cr_assert_eq(hazptr_protect(reader, 0, &src), a);
	atomic_store(&src, b);
	hazptr_retire(writer, &a->obj, a, thing_reclaim);
	cr_assert_eq(hazptr_scan(writer), 0, "a is in the reader's slot");
	cr_assert_eq(reclaimed, 0);
	cr_assert_eq(writer->n_retired, 1);
	hazptr_clear(reader, 0);
	cr_assert_eq(hazptr_scan(writer), 1);
	cr_assert_eq(reclaimed, 1);
	atomic_store(&src, NULL);
	hazptr_retire(writer, &b->obj, b, thing_reclaim);
	cr_assert_eq(hazptr_scan(writer), 1);
	cr_assert_eq(reclaimed, 2);
	hazptr_unregister(reader);
	hazptr_unregister(writer);
	hazptr_domain_destroy(&d);
}

Test(hazptr, retire_scans_at_the_threshold_so_a_held_slot_bounds_the_list)
{
	static struct hazptr_domain d;
	struct hazptr_rec *reader, *writer;
	_Atomic(void *) src;
	int reclaimed = 0, retired = 0;
	size_t threshold, most = 0;
	struct thing *held = thing_new(&reclaimed);

	hazptr_domain_init(&d);
	reader = hazptr_register(&d);
	writer = hazptr_register(&d);
	threshold = hazptr_threshold(&d);
	cr_assert_eq(threshold, HAZPTR_SCAN_MIN);
	atomic_init(&src, held);
	cr_assert_eq(hazptr_protect(reader, 0, &src), held);	/* and never cleared below */
	for (int i = 0; i < 1000; i++) {
		struct thing *old = atomic_exchange(&src, thing_new(&reclaimed));

		hazptr_retire(writer, &old->obj, old, thing_reclaim);
		retired++;
		if (writer->n_retired > most)
			most = writer->n_retired;
	}
	cr_assert_lt(most, threshold, "the list never reaches the threshold: %zu", most);
	cr_assert_geq(reclaimed, retired - (int)threshold);
	cr_assert_eq(writer->n_scans, (uint64_t)(retired - 1) / (threshold - 1),
		     "one scan each time the list reaches the threshold");
	hazptr_clear(reader, 0);
	hazptr_scan(writer);
	cr_assert_eq(reclaimed, retired, "the held object goes once its slot is clear");
	free(atomic_exchange(&src, NULL));
	hazptr_unregister(reader);
	hazptr_unregister(writer);
	hazptr_domain_destroy(&d);
}

Test(hazptr, an_unregistered_records_leftovers_are_adopted_by_the_next_scan)
{
	static struct hazptr_domain d;
	struct hazptr_rec *reader, *writer, *other;
	_Atomic(void *) src;
	int reclaimed = 0;
	struct thing *a = thing_new(&reclaimed);

	hazptr_domain_init(&d);
	reader = hazptr_register(&d);
	writer = hazptr_register(&d);
	atomic_init(&src, a);
	cr_assert_eq(hazptr_protect(reader, 0, &src), a);
	atomic_store(&src, NULL);
	hazptr_retire(writer, &a->obj, a, thing_reclaim);
	hazptr_unregister(writer);
	cr_assert_eq(reclaimed, 0, "still protected: an orphan");
	cr_assert_eq(d.n_orphans, 1);
	hazptr_clear(reader, 0);
	other = hazptr_register(&d);
	cr_assert_eq(other, writer, "the freed record is reused");
	cr_assert_eq(hazptr_scan(other), 1);
	cr_assert_eq(reclaimed, 1);
	cr_assert_eq(d.n_orphans, 0);
	hazptr_unregister(other);
	hazptr_unregister(reader);
	hazptr_domain_destroy(&d);
}

Test(hazptr, the_last_record_to_leave_reclaims_the_orphans)
{
	static struct hazptr_domain d;
	struct hazptr_rec *reader, *writer;
	_Atomic(void *) src;
	int reclaimed = 0;
	struct thing *a = thing_new(&reclaimed);

	hazptr_domain_init(&d);
	reader = hazptr_register(&d);
	writer = hazptr_register(&d);
	atomic_init(&src, a);
	hazptr_protect(reader, 0, &src);
	hazptr_retire(writer, &a->obj, a, thing_reclaim);
	hazptr_unregister(writer);
	hazptr_clear(reader, 0);
	cr_assert_eq(reclaimed, 0);
	hazptr_unregister(reader);
	cr_assert_eq(reclaimed, 1, "its last scan adopted the orphan");
	hazptr_domain_destroy(&d);
}

/* ---- misuse ---- */

#define ASSERT_MISUSE(fn, message) \
	do { \
		char err_[512]; \
		cr_assert(misuse_aborts_with(fn, NULL, "hazptr: misuse: " message, err_, \
					     sizeof(err_)), \
			  "stderr: %s", err_); \
	} while (0)

static struct hazptr_domain md;

static struct hazptr_rec *misuse_rec(void)
{
	hazptr_domain_init(&md);
	return hazptr_register(&md);
}

static void retire_null(void *arg)
{
	(void)arg;
	hazptr_retire(misuse_rec(), NULL, &md, thing_reclaim);
}

static void retire_twice(void *arg)
{
	static int reclaimed;
	struct hazptr_rec *r = misuse_rec();
	struct thing *t = thing_new(&reclaimed);
	_Atomic(void *) src;

	(void)arg;
	atomic_init(&src, t);
	hazptr_protect(hazptr_register(&md), 0, &src);	/* keeps t on the list */
	hazptr_retire(r, &t->obj, t, thing_reclaim);
	hazptr_scan(r);
	hazptr_retire(r, &t->obj, t, thing_reclaim);
}

static void too_many_threads(void *arg)
{
	(void)arg;
	misuse_rec();
	for (int i = 0; i < HAZPTR_MAX_RECORDS; i++)
		hazptr_register(&md);
}

static void protect_slot_out_of_range(void *arg)
{
	_Atomic(void *) src;
	int x;

	(void)arg;
	atomic_init(&src, &x);
	hazptr_protect(misuse_rec(), HAZPTR_SLOTS, &src);
}

static void clear_slot_out_of_range(void *arg)
{
	(void)arg;
	hazptr_clear(misuse_rec(), HAZPTR_SLOTS);
}

static void clear_a_slot_not_held(void *arg)
{
	(void)arg;
	hazptr_clear(misuse_rec(), 1);
}

static void destroy_with_a_hazard_held(void *arg)
{
	_Atomic(void *) src;
	int x;

	(void)arg;
	atomic_init(&src, &x);
	hazptr_protect(misuse_rec(), 0, &src);
	hazptr_domain_destroy(&md);
}

static void destroy_with_a_record_registered(void *arg)
{
	(void)arg;
	misuse_rec();
	hazptr_domain_destroy(&md);
}

static void unregister_with_a_hazard_held(void *arg)
{
	struct hazptr_rec *r = misuse_rec();
	_Atomic(void *) src;
	int x;

	(void)arg;
	atomic_init(&src, &x);
	hazptr_protect(r, 1, &src);
	hazptr_unregister(r);
}

Test(misuse, retire_null)
{
	ASSERT_MISUSE(retire_null, "hazptr_retire of NULL");
}

Test(misuse, retire_an_object_still_on_a_list)
{
	ASSERT_MISUSE(retire_twice, "hazptr_retire of an object already retired");
}

Test(misuse, more_threads_than_records)
{
	ASSERT_MISUSE(too_many_threads, "hazptr_register: all 128 records are in use");
}

Test(misuse, protect_on_a_slot_out_of_range)
{
	ASSERT_MISUSE(protect_slot_out_of_range, "hazptr_protect on slot 2 (a record has 2)");
}

Test(misuse, clear_a_slot_out_of_range)
{
	ASSERT_MISUSE(clear_slot_out_of_range, "hazptr_clear of slot 2 (a record has 2)");
}

Test(misuse, clear_a_slot_not_held)
{
	ASSERT_MISUSE(clear_a_slot_not_held, "hazptr_clear of slot 1, which holds nothing");
}

Test(misuse, destroy_with_a_hazard_held)
{
	ASSERT_MISUSE(destroy_with_a_hazard_held, "hazptr_domain_destroy while record 0 holds a "
		      "hazard");
}

Test(misuse, destroy_with_a_record_registered)
{
	ASSERT_MISUSE(destroy_with_a_record_registered, "hazptr_domain_destroy with record 0 "
		      "still registered");
}

Test(misuse, unregister_with_a_hazard_held)
{
	ASSERT_MISUSE(unregister_with_a_hazard_held, "hazptr_unregister while a slot holds a "
		      "hazard");
}
