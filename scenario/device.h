/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The object that teardown frees: a driver instance, a softc, a list entry. It carries a canary
 * so that a use after free is caught even where no sanitizer runs: the canary is DEVICE_ALIVE
 * from device_new() until device_free() poisons it.
 */
#ifndef TEARDOWN_SCENARIO_DEVICE_H
#define TEARDOWN_SCENARIO_DEVICE_H

#include <stdint.h>

#include "patterns/common/compiler.h"
#include "scenario/hooks.h"

#define DEVICE_ALIVE 0xA11FE5A11FE5A11FULL
#define DEVICE_FREED 0xDEADDEADDEADDEADULL

struct device {
	uint64_t canary;
	long state;	/* what the hot path reads; written only by device_new() */
};

struct device *device_new(long state);

/* Poisons the canary and frees. The last thing teardown does to a device. */
void device_free(struct device *dev);

void device_use_after_free(const struct device *dev) __attribute__((noreturn));

/* The hot path's use of the device: checks the canary, then reads one field. */
static inline long device_read_state(const struct device *dev)
{
	SCENARIO_NOTE("reads device->state");
	if (teardown_unlikely(dev->canary != DEVICE_ALIVE))
		device_use_after_free(dev);
	return dev->state;
}

#endif /* TEARDOWN_SCENARIO_DEVICE_H */
