/* SPDX-License-Identifier: BSD-2-Clause */
/* Compiled by fence_test.sh only: the one function whose code the test reads. */
#include "patterns/common/asymmetric_fence.h"

void fence_probe_smp_mb(void)
{
	teardown_smp_mb();
}
