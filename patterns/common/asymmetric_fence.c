/* SPDX-License-Identifier: BSD-2-Clause */
/* membarrier set-up and the writer's half of the asymmetric fence (see asymmetric_fence.h). */
#define _GNU_SOURCE
#include "patterns/common/asymmetric_fence.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "patterns/common/die.h"

bool asym_fence_kernel_offers_membarrier(void)
{
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	return cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED);
}

bool asym_fence_setup(const char *disable_env)
{
	const char *off = getenv(disable_env);

	if (off && *off && *off != '0')
		return false;
	if (!asym_fence_kernel_offers_membarrier())
		return false;
	/* A process must register before it may use the private expedited command. */
	return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

void asym_fence_heavy(bool uses_membarrier, const char *pattern)
{
	if (!uses_membarrier) {
		teardown_smp_mb();
		return;
	}
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		teardown_die(pattern, errno, "membarrier failed after registration succeeded");
}
