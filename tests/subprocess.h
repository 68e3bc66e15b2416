/* SPDX-License-Identifier: BSD-2-Clause */
/* Runs a program and captures what it printed: the race test driver and the tour both need it. */
#ifndef TEARDOWN_TESTS_SUBPROCESS_H
#define TEARDOWN_TESTS_SUBPROCESS_H

#include <stdbool.h>

struct subprocess_result {
	char *out;	/* stdout, NUL-terminated, malloc'ed */
	char *err;	/* stderr */
	int exit_code;	/* exit status, or -1 if killed by a signal */
	int signal;	/* the signal that killed it, or 0 */
};

/*
 * Runs argv with `extra_env` ("NAME=value" strings, NULL-terminated; may be NULL) added to this
 * process's environment. If echo_out is set, stdout is also copied to our stdout as it arrives.
 * A program that cannot be run exits 127, saying why on its stderr. A failed pipe, fork or poll
 * in this process is fatal (teardown_die).
 */
void subprocess_run(char *const argv[], char *const extra_env[], bool echo_out,
		    struct subprocess_result *res);
void subprocess_result_free(struct subprocess_result *res);

/*
 * For tests that judge a subprocess: prints "ok" or "FAIL" and what was checked; on FAIL also
 * the subprocess's exit, signal and output. Returns ok.
 */
bool subprocess_check(bool ok, const char *what, const struct subprocess_result *res);

/*
 * Whether it crashed on a bad address: killed by SIGSEGV or SIGBUS, or, under a sanitizer,
 * reported by the sanitizer's SEGV handler (a nonzero exit, "SEGV" on stderr).
 */
bool subprocess_crashed(const struct subprocess_result *res);

#endif /* TEARDOWN_TESTS_SUBPROCESS_H */
