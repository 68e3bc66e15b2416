/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The code-lifetime lesson must really crash, and its fix must really be clean: runs
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
	char *crash[] = { argv[1], "--naive", argv[2], NULL };
	char *clean[] = { argv[1], "--draining", argv[2], NULL };

	subprocess_run(crash, NULL, false, &res);
	check(strstr(res.out, "kauth_unlisten_scope() returned") != NULL,
	      "naive: stop returned while the caller was still in the listener", &res);
	check(strstr(res.out, "no longer mapped") != NULL, "dlclose really unmapped the module",
	      &res);
	check(subprocess_crashed(&res),
	      "naive: the caller returns into unmapped code and crashes", &res);
	check(!strstr(res.out, "back in the framework"), "... and never gets back", &res);
	subprocess_result_free(&res);

	subprocess_run(clean, NULL, false, &res);
	check(res.exit_code == 0 && !strstr(res.err, "Sanitizer"),
	      "draining: exits 0, no sanitizer report", &res);
	check(strstr(res.out, "registry_unregister() waits for the caller") != NULL,
	      "... unregister waited for the caller in the listener", &res);
	const char *left = strstr(res.out, "caller: returns from the listener");
	const char *unregistered = strstr(res.out, "registry_unregister() returned");

	check(left && unregistered && left < unregistered,
	      "... and returned only after the caller had left the listener", &res);
	check(strstr(res.out, "no longer mapped") && strstr(res.out, "back in the framework"),
	      "... the module was unloaded, and the caller got back", &res);
	subprocess_result_free(&res);
	printf("%s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
