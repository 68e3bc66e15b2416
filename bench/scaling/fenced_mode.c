/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * writer_fenced: every lab with an asymmetric fence in its no-membarrier mode (full fences on both
 * sides). The labs decide their mode in constructors of default priority; this one has a higher
 * priority, so it runs first. writer.c checks each lab's mode at run time all the same.
 */
#include <stdlib.h>

__attribute__((constructor(101))) static void scaling_fenced_mode(void)
{
	static const char *const vars[] = {
		"TRCU_NO_MEMBARRIER", "TEPOCH_NO_MEMBARRIER", "DRWLOCK_NO_MEMBARRIER",
		"RUNDOWN_CA_NO_MEMBARRIER", "SCALING_FENCED_ONLY",
	};

	for (unsigned i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		setenv(vars[i], "1", 1);
}
