/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit-test helper: does an API misuse abort with its documented message? */
#ifndef TEARDOWN_TESTS_MISUSE_H
#define TEARDOWN_TESTS_MISUSE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Runs misuse(arg) in a child process. Returns true if the child died of SIGABRT and its stderr
 * contains `expected`. What the child printed is left in `stderr_out` for the assertion message.
 */
bool misuse_aborts_with(void (*misuse)(void *), void *arg, const char *expected, char *stderr_out,
			size_t size);

#endif /* TEARDOWN_TESTS_MISUSE_H */
