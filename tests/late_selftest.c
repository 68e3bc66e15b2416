/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A pattern that exists to prove the late schedule (scenario/race.c) can fail, and that each of
 * its exits is taken when it should be.
 *
 * A count of holders with a CLOSING bit lives in the registration point, which outlives every
 * thread. The extension (per-instance statistics, here one counter) is freed by teardown right
 * after its wait, as a driver frees its device extension. A release that counts itself in the
 * extension after dropping its hold touches freed memory, but only when teardown has returned
 * in between: the late schedule makes that happen.
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/common/futex.h"
#include "scenario/scenario.h"

#define CLOSING 0x80000000u

struct extension {
	atomic_ulong releases;	/* a statistic: relaxed */
};

struct selftest {
	struct device *dev;
	struct extension *ext;		/* freed by teardown after its wait */
	_Atomic uint32_t count;		/* holders, plus CLOSING once teardown began */
	_Atomic uint32_t woken;		/* 1 once the last holder has left a closing count */
};

static void *selftest_create(struct device *dev)
{
	struct selftest *s = teardown_calloc("late_selftest", 1, sizeof(*s));

	s->ext = teardown_calloc("late_selftest", 1, sizeof(*s->ext));
	s->dev = dev;
	return s;
}

/* The owner holds one count of its own until teardown drops it. */
static void *selftest_create_owned(struct device *dev)
{
	struct selftest *s = selftest_create(dev);

	atomic_store_explicit(&s->count, 1, memory_order_relaxed);
	return s;
}

static void selftest_destroy(void *reg)
{
	free(reg);
}

static bool selftest_acquire(struct selftest *s)
{
	uint32_t c = atomic_load_explicit(&s->count, memory_order_relaxed);

	do {
		if (c & CLOSING)
			return false;
		/* acquire: the device is used only after the hold is counted. */
	} while (!atomic_compare_exchange_weak_explicit(&s->count, &c, c + 1, memory_order_acquire,
							memory_order_relaxed));
	return true;
}

/* Drops a hold; returns true if it was the last one of a closing count. */
static bool selftest_drop(struct selftest *s)
{
	/*
	 * release: pairs with teardown's acquire load of the count; orders this holder's uses
	 * first. acquire: the last holder, which wakes teardown, takes the earlier holders' drops
	 * along, so that selftest_wake's release passes them on.
	 */
	return atomic_fetch_sub_explicit(&s->count, 1, memory_order_acq_rel) == CLOSING + 1;
}

static void selftest_wake(struct selftest *s)
{
	/* release: pairs with teardown's acquire load of woken; the count drop came before it. */
	atomic_store_explicit(&s->woken, 1, memory_order_release);
	futex_wake_all(&s->woken);
}

static struct device *selftest_enter(struct selftest *s)
{
	return selftest_acquire(s) ? s->dev : NULL;
}

/* Naive: drops the hold, then counts itself in the extension teardown may have freed. */
static void selftest_exit_naive(struct selftest *s, struct device *dev)
{
	(void)dev;
	selftest_drop(s);
	SCENARIO_RELEASER_TAIL();
	atomic_fetch_add_explicit(&s->ext->releases, 1, memory_order_relaxed);
}

/* Fixed: counts itself first; after the drop it touches nothing. */
static void selftest_exit_fixed(struct selftest *s, struct device *dev)
{
	(void)dev;
	atomic_fetch_add_explicit(&s->ext->releases, 1, memory_order_relaxed);
	selftest_drop(s);
	SCENARIO_RELEASER_TAIL();
}

/* Counts itself first; after the drop it touches only the registration point, to wake. */
static void selftest_release_waking(struct selftest *s)
{
	atomic_fetch_add_explicit(&s->ext->releases, 1, memory_order_relaxed);
	bool last = selftest_drop(s);
	SCENARIO_RELEASER_TAIL();
	if (last)
		selftest_wake(s);
}

static void selftest_exit_waking(struct selftest *s, struct device *dev)
{
	(void)dev;
	selftest_release_waking(s);
}

/*
 * The fixed callback first takes and drops a hold it does not use (a release before teardown
 * has started, which the late schedule must let through), then takes the one it uses.
 */
static struct device *selftest_enter_twice(struct selftest *s)
{
	if (!selftest_acquire(s))
		return NULL;
	selftest_exit_fixed(s, s->dev);
	return selftest_enter(s);
}

SCENARIO_DEFINE_CALLBACK(naive_callback, struct selftest, selftest_enter, selftest_exit_naive)
SCENARIO_DEFINE_CALLBACK(fixed_callback, struct selftest, selftest_enter_twice,
			 selftest_exit_fixed)
SCENARIO_DEFINE_CALLBACK(waking_callback, struct selftest, selftest_enter, selftest_exit_waking)

static void selftest_free(struct selftest *s)
{
	free(s->ext);
	device_free(s->dev);
}

/* Closes the count, waits by yielding until the holders are gone, frees. */
static void selftest_teardown(void *reg)
{
	struct selftest *s = reg;

	atomic_fetch_or_explicit(&s->count, CLOSING, memory_order_relaxed);
	SCENARIO_TEARDOWN_BLOCKS();
	/* acquire: pairs with selftest_drop's release. */
	while (atomic_load_explicit(&s->count, memory_order_acquire) != CLOSING)
		sched_yield();
	selftest_free(s);
}

/*
 * Closes the count, drops the owner's hold (its own release passes the tail hook, which must
 * not stop the teardown thread), and waits until the last holder wakes it: asleep in a futex,
 * or (spinning) yielding, which the late releaser cannot tell from work and waits out.
 */
static void selftest_teardown_owned(struct selftest *s, bool sleep)
{
	atomic_fetch_or_explicit(&s->count, CLOSING, memory_order_relaxed);
	selftest_release_waking(s);
	SCENARIO_TEARDOWN_BLOCKS();
	/* acquire: pairs with selftest_wake's release. */
	while (!atomic_load_explicit(&s->woken, memory_order_acquire)) {
		if (sleep)
			futex_wait_while(&s->woken, 0);
		else
			sched_yield();
	}
	selftest_free(s);
}

static void selftest_teardown_sleeping(void *reg)
{
	selftest_teardown_owned(reg, true);
}

static void selftest_teardown_spinning(void *reg)
{
	selftest_teardown_owned(reg, false);
}

static const struct scenario_variant selftest_variants[] = {
	{
		.name = "naive",
		.story = "the release counts itself in the extension after dropping its hold",
		.expect = "heap-use-after-free",
		.schedule = "late",
		.create = selftest_create,
		.callback = naive_callback,
		.teardown = selftest_teardown,
		.destroy = selftest_destroy,
	},
	{
		.name = "fixed",
		.story = "the release counts itself first, then drops its hold",
		.create = selftest_create,
		.callback = fixed_callback,
		.teardown = selftest_teardown,
		.destroy = selftest_destroy,
	},
	{
		.name = "sleeping",
		.story = "teardown sleeps in a futex until the last releaser wakes it",
		.create = selftest_create_owned,
		.callback = waking_callback,
		.teardown = selftest_teardown_sleeping,
		.destroy = selftest_destroy,
	},
	{
		.name = "spinning",
		.story = "teardown yields in a loop until the last releaser wakes it",
		.create = selftest_create_owned,
		.callback = waking_callback,
		.teardown = selftest_teardown_spinning,
		.destroy = selftest_destroy,
	},
};

const struct scenario_pattern scenario_pattern_under_test = {
	.name = "late_selftest",
	.source_case = "the race harness's own late schedule",
	.variants = selftest_variants,
	.n_variants = TEARDOWN_ARRAY_SIZE(selftest_variants),
};
