/* SPDX-License-Identifier: BSD-2-Clause */
/* The device: its allocation, the free that poisons its canary, and the canary's report. */
#include "scenario/device.h"

#include <stdio.h>
#include <stdlib.h>

#include "patterns/common/die.h"

/* Never NULL: running out of memory is fatal, not a case for the caller to handle. */
struct device *device_new(long state)
{
	struct device *dev = teardown_malloc("scenario", sizeof(*dev));

	dev->canary = DEVICE_ALIVE;
	dev->state = state;
	return dev;
}

void device_free(struct device *dev)
{
	SCENARIO_NOTE("frees device %p", (void *)dev);
	dev->canary = DEVICE_FREED;
	free(dev);
}

void device_use_after_free(const struct device *dev)
{
	fprintf(stderr, "teardown: use after free: device %p has canary %#llx\n", (const void *)dev,
		(unsigned long long)dev->canary);
	abort();
}
