/* SPDX-License-Identifier: BSD-2-Clause */
/* Last reference frees: the misuse messages (see rundown_kref.h). */
#include "patterns/rundown/rundown_kref.h"

#include "patterns/common/misuse.h"

void rundown_kref_put_misuse(void)
{
	teardown_misuse("rundown", "rundown_kref_put on a zero count (a put without a "
			"matching get)");
}

void rundown_kref_get_misuse(const char *what, uint32_t count)
{
	if (count != 0)
		teardown_misuse("rundown", "%s: more than %u references (count overflow)", what,
				UINT32_MAX);
	teardown_misuse("rundown", "%s on a zero count (the caller holds no reference; look up "
		       "with rundown_kref_get_unless_zero under the lookup lock)", what);
}
