/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Criterion's own main, plus one check: a unit-test binary that registered no tests fails.
 *
 * Criterion finds tests through a linker section nothing references. A link with --gc-sections
 * (Bazel's opt mode passes it) drops that section, and Criterion's stock main then reports
 * "Tested: 0" and exits 0: a test that cannot fail. //third_party:criterion links with
 * --no-gc-sections; this main makes sure it stays that way.
 */
#include <criterion/criterion.h>
#include <stdio.h>

int main(int argc, char *argv[])
{
	struct criterion_test_set *tests = criterion_initialize();
	int result = 0;

	if (tests->tests == 0) {
		fprintf(stderr, "teardown: this Criterion binary registered no tests "
				"(were its sections garbage-collected by the linker?)\n");
		criterion_finalize(tests);
		return 1;
	}
	if (criterion_handle_args(argc, argv, true))
		result = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return result;
}
