/* SPDX-License-Identifier: BSD-2-Clause */
/* The device's canary: what reports a use after free where no sanitizer runs. */
#include <criterion/criterion.h>

#include "scenario/device.h"
#include "tests/misuse.h"

Test(device, a_new_device_is_alive_and_reads_its_state)
{
	struct device *dev = device_new(42);

	cr_assert_eq(dev->canary, DEVICE_ALIVE);
	cr_assert_eq(device_read_state(dev), 42);
	device_free(dev);
}

/* A device as device_free() leaves it (on the stack here, so that reading it is no bug). */
static void read_poisoned(void *arg)
{
	struct device *dev = arg;

	dev->canary = DEVICE_FREED;
	device_read_state(dev);
}

Test(device, reading_a_poisoned_device_aborts)
{
	struct device dev = { .canary = DEVICE_ALIVE, .state = 7 };
	char err[256];

	cr_assert(misuse_aborts_with(read_poisoned, &dev, "teardown: use after free: device", err,
				     sizeof(err)),
		  "stderr: %s", err);
}
