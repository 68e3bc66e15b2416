/* SPDX-License-Identifier: BSD-2-Clause */
#include "scenario/device.h"

#include <stdio.h>
#include <stdlib.h>

struct device *device_new(long state)
{
	struct device *dev = malloc(sizeof(*dev));

	if (!dev) {
		perror("device_new");
		abort();
	}
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
