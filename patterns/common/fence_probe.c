/* SPDX-License-Identifier: BSD-2-Clause */
/* Compiled by fence_test.sh only: the functions whose code the test reads. */
#include "patterns/common/asymmetric_fence.h"
#include "patterns/common/compiler.h"

void fence_probe_smp_mb(void)
{
	teardown_smp_mb();
}

void fence_probe_cpu_relax(void)
{
	teardown_cpu_relax();
}
