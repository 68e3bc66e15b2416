/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rcu_barrier lesson must really crash, and its fix must really be clean: runs
 * unload_demo both ways as a subprocess. Under a sanitizer the crash is reported by the
 * sanitizer's SEGV handler (a nonzero exit, "SEGV" on stderr) rather than a bare SIGSEGV.
 * usage: unload_test UNLOAD_DEMO MODULE.so
 */
#include <stdio.h>
#include <string.h>

#include "tests/subprocess.h"

static int failures;

static void check(bool ok, const char *what, const struct subprocess_result *res)
{
	failures += !subprocess_check(ok, what, res);
}

int main(int argc, char **argv)
{
	struct subprocess_result res;

	if (argc != 3) {
		fprintf(stderr, "usage: %s UNLOAD_DEMO MODULE.so\n", argv[0]);
		return 2;
	}
	char *crash[] = { argv[1], "--unload-before-barrier", argv[2], NULL };
	char *clean[] = { argv[1], "--barrier-before-unload", argv[2], NULL };

	subprocess_run(crash, NULL, false, &res);
	check(strstr(res.out, "no longer mapped") != NULL, "dlclose really unmapped the module",
	      &res);
	check(subprocess_crashed(&res),
	      "unload before the barrier: the callback crashes in unmapped code", &res);
	check(!strstr(res.out, "trcu_barrier() returned"), "... and the barrier never returns",
	      &res);
	subprocess_result_free(&res);

	subprocess_run(clean, NULL, false, &res);
	check(res.exit_code == 0 && !strstr(res.err, "Sanitizer"),
	      "barrier before unload: exits 0, no sanitizer report", &res);
	check(strstr(res.out, "plugin_free_object() runs") != NULL,
	      "... and the module's callback ran before dlclose", &res);
	subprocess_result_free(&res);
	printf("%s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
