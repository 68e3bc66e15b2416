/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one teardown scenario every pattern plugs into.
 *
 * A registration point publishes a device. The hot path (a kauth listener callback, an ioctl,
 * a list lookup, an IRP dispatch) reaches the device through it and reads one field. Teardown
 * unregisters the device and frees it. A pattern supplies only how the hot path enters and
 * leaves, and how teardown unpublishes and retires; the rest is written here once.
 */
#ifndef TEARDOWN_SCENARIO_SCENARIO_H
#define TEARDOWN_SCENARIO_SCENARIO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "scenario/device.h"
#include "scenario/hooks.h"

/* What the hot path returns when the pattern turned it away (the device is being torn down). */
#define SCENARIO_DECLINED LONG_MIN

/*
 * One variant of a pattern: its naive twin, a folk remedy, or a fix. The forced and late
 * schedules and the stress loop (scenario/race.c) drive every variant through these functions.
 */
struct scenario_variant {
	const char *name;	/* "naive", "fixed", ... */
	const char *story;	/* one line for the tour: what this variant does */
	/*
	 * NULL: the forced and late schedules and the stress loop must run clean. Otherwise the
	 * kind of report ThreadSanitizer must give in the schedule below ("heap-use-after-free",
	 * "data race").
	 */
	const char *expect;
	/*
	 * Where a naive variant's report is expected: NULL for the forced schedule, "late" for
	 * the late schedule (the releaser's last touches after teardown has freed). A variant
	 * that expects no report leaves it NULL: it must run clean in every schedule.
	 */
	const char *schedule;
	void *(*create)(struct device *dev);	/* a registration point with dev published */
	void (*reader_start)(void *reg);	/* per hot-path thread; may be NULL */
	void (*reader_stop)(void *reg);		/* may be NULL */
	long (*callback)(void *reg);		/* the hot path: state, or SCENARIO_DECLINED */
	void (*teardown)(void *reg);		/* unregister the device; free or retire it */
	void (*destroy)(void *reg);		/* threads gone: free the registration point */
};

struct scenario_pattern {
	const char *name;	/* "global_flag" */
	const char *source_case;	/* the public case it comes from */
	const struct scenario_variant *variants;
	size_t n_variants;
	/* Patterns with an asymmetric fence: whether this process uses membarrier. Else NULL. */
	bool (*uses_membarrier)(void);
};

/* Each race binary links exactly one pattern, which defines this. */
extern const struct scenario_pattern scenario_pattern_under_test;

/*
 * The hot path, written once: enter (which yields the device, or NULL when turned away), the
 * window in which the reader holds the device, the use, exit. Defines
 * `static long NAME(void *reg)` for a registration point of type REG_TYPE.
 */
/* quote: callback */
#define SCENARIO_DEFINE_CALLBACK(NAME, REG_TYPE, ENTER, EXIT) \
	static long NAME(void *opaque_reg) \
	{ \
		REG_TYPE *reg = opaque_reg; \
		struct device *dev = ENTER(reg); \
		long state; \
		if (!dev) \
			return SCENARIO_DECLINED; \
		SCENARIO_READER_WINDOW(); \
		state = device_read_state(dev); \
		EXIT(reg, dev); \
		return state; \
	}
/* end quote: callback */

#endif /* TEARDOWN_SCENARIO_SCENARIO_H */
