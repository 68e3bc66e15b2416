/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The race test driver. For a race binary of one pattern (scenario/race.c), runs every variant
 * as a subprocess and checks what the variant table says:
 *   - a variant that expects a report must be reported in its schedule (forced, or late), with
 *     halt_on_error, exit code 66 and the expected kind ("heap-use-after-free", "data race"):
 *     if the naive version stops failing, this test fails;
 *   - a variant that expects none must finish the forced schedule, the late schedule and a
 *     stress loop, each with exit code 0 and no sanitizer output.
 * And that each binary is the build asked for:
 *   --sanitizer thread|address|none   the sanitizer its --list reports. A plain build (none,
 *                                as the AArch64 run uses) judges only what the device's canary
 *                                can see: a naive use after free of the device in the forced
 *                                schedule must abort on the canary, or fault; the other naive
 *                                variants need a sanitizer and are skipped;
 *   --fences membarrier|full     the fence mode of a pattern with an asymmetric fence: membarrier
 *                                (where this kernel offers it), or full fences on both sides.
 * usage: race_test [--rounds N] [--sanitizer S] [--fences F] RACE_BINARY...
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patterns/common/asymmetric_fence.h"

#include "scenario/args.h"
#include "scenario/sanitizer_options.h"
#include "tests/sanitizer_report.h"
#include "tests/subprocess.h"
#include "tests/variant_list.h"

static char *sanitizer_env[] = SCENARIO_SANITIZER_ENV;

static int failures;

static void fail(const char *bin, const char *variant, const char *what,
		 const struct subprocess_result *res)
{
	failures++;
	printf("FAIL  %s --variant %s: %s\n", bin, variant, what);
	if (res)
		printf("----- exit %d, signal %d; stdout:\n%s----- stderr:\n%s-----\n",
		       res->exit_code, res->signal, res->out, res->err);
}

static void run(const char *bin, const char *variant, const char *schedule, const char *rounds,
		struct subprocess_result *res)
{
	char *argv[] = { (char *)bin, "--variant", (char *)variant, "--schedule",
			 (char *)schedule, "--rounds", (char *)rounds, NULL };

	subprocess_run(argv, sanitizer_env, false, res);
}

static bool clean(const struct subprocess_result *res)
{
	return res->exit_code == 0 && !strstr(res->err, "Sanitizer");
}

/* A clean variant, in one schedule. */
static void check_clean(const char *bin, const char *variant, const char *schedule,
			const char *rounds)
{
	struct subprocess_result res;
	char what[128];

	run(bin, variant, schedule, rounds, &res);
	snprintf(what, sizeof(what), "the fix is not clean in the %s schedule", schedule);
	if (!clean(&res))
		fail(bin, variant, what, &res);
	else if (!strcmp(schedule, "stress"))
		printf("ok    %-28s %s", variant, res.out);
	else
		printf("ok    %-28s %s: clean\n", variant, schedule);
	subprocess_result_free(&res);
}

/* A naive variant in a build without a sanitizer: only the device's canary, or a fault, sees it. */
static void check_canary(const char *bin, const char *variant, const char *expect,
			 const char *schedule)
{
	struct subprocess_result res;

	if (strcmp(expect, "heap-use-after-free") || strcmp(schedule, "forced")) {
		printf("skip  %-28s %s in the %s schedule needs a sanitizer\n", variant, expect,
		       schedule);
		return;
	}
	run(bin, variant, schedule, "1", &res);
	if (res.signal == SIGABRT && strstr(res.err, "teardown: use after free"))
		printf("ok    %-28s forced: the canary caught the use after free\n", variant);
	else if (res.signal == SIGSEGV)
		printf("ok    %-28s forced: the use after free faulted (SIGSEGV)\n", variant);
	else
		fail(bin, variant, "the use after free went unnoticed", &res);
	subprocess_result_free(&res);
}

static void check_variant(const char *bin, const char *sanitizer, const char *variant,
			  const char *expect, const char *schedule, const char *rounds)
{
	struct subprocess_result res;
	struct sanitizer_report report;

	if (strcmp(expect, "clean") != 0 && !strcmp(sanitizer, "none")) {
		check_canary(bin, variant, expect, schedule);
		return;
	}
	if (strcmp(expect, "clean") != 0) {
		if (!strcmp(sanitizer, "address") && strcmp(expect, "heap-use-after-free") != 0) {
			printf("skip  %-28s %s: AddressSanitizer sees no race without a use "
			       "after free\n", variant, expect);
			return;
		}
		run(bin, variant, schedule, "1", &res);
		sanitizer_report_parse(res.err, &report);
		if (res.exit_code != SCENARIO_SANITIZER_EXIT || !report.found) {
			fail(bin, variant, "the naive race was not reported", &res);
		} else if (strcmp(report.kind, expect) != 0) {
			char what[256];
			snprintf(what, sizeof(what), "reported '%s', expected '%s'", report.kind,
				 expect);
			fail(bin, variant, what, &res);
		} else {
			printf("ok    %-28s %s: %s reported (use at %s; free at %s)\n", variant,
			       schedule, report.kind, report.use_top, report.free_top);
		}
		subprocess_result_free(&res);
		return;
	}
	check_clean(bin, variant, "forced", "1");
	check_clean(bin, variant, "late", "1");
	check_clean(bin, variant, "stress", rounds);
}

static const char *want_sanitizer;	/* NULL: any sanitizer, but one */
static const char *want_fences;		/* NULL: not checked */

/* The build the test asked for: the sanitizer, and the fence mode where the pattern has one. */
static void check_build(const char *bin, const char *sanitizer, const char *fences)
{
	char what[160];

	if (want_sanitizer && strcmp(sanitizer, want_sanitizer)) {
		snprintf(what, sizeof(what), "built with sanitizer %s, the build asks for %s",
			 sanitizer, want_sanitizer);
		fail(bin, "--list", what, NULL);
	}
	if (!want_fences)
		return;
	/* A pattern that prefers membarrier falls back to full fences where the kernel lacks it. */
	if (!strcmp(want_fences, "membarrier") && !asym_fence_kernel_offers_membarrier())
		want_fences = "full";
	if (strcmp(fences, want_fences)) {
		snprintf(what, sizeof(what), "runs with fences '%s', the test asks for '%s'",
			 fences, want_fences);
		fail(bin, "--list", what, NULL);
	}
}

static void check_binary(const char *bin, const char *rounds)
{
	char *argv[] = { (char *)bin, "--list", NULL };
	char sanitizer[32] = "none", fences[32] = "none";
	int racy = 0, fixes = 0;
	struct subprocess_result list;

	subprocess_run(argv, NULL, false, &list);
	if (list.exit_code != 0) {
		fail(bin, "--list", "could not list variants", &list);
		subprocess_result_free(&list);
		return;
	}
	printf("== %s\n", bin);
	for (char *line = strtok(list.out, "\n"); line; line = strtok(NULL, "\n")) {
		struct listed_variant v;

		if (sscanf(line, "sanitizer\t%31s", sanitizer) == 1)
			continue;
		if (sscanf(line, "fences\t%31s", fences) == 1)
			continue;
		switch (listed_variant_parse(line, &v)) {
		case 0:
			continue;
		case -1:
			fail(bin, line, "--list printed a variant line this driver cannot read",
			     NULL);
			continue;
		}
		/* A plain build is judged only when the test asks for one (--sanitizer none). */
		if (!strcmp(sanitizer, "none") &&
		    (!want_sanitizer || strcmp(want_sanitizer, "none")))
			fail(bin, v.name, "race binary built without a sanitizer", NULL);
		if (strcmp(v.expect, "clean"))
			racy++;
		else
			fixes++;
		check_variant(bin, sanitizer, v.name, v.expect, v.schedule, rounds);
	}
	if (racy == 0 || fixes == 0)
		fail(bin, "--list", "a lab needs at least one naive variant and one fix", NULL);
	check_build(bin, sanitizer, fences);
	subprocess_result_free(&list);
}

int main(int argc, char **argv)
{
	const char *rounds = "200";
	int first = 1;

	for (; first < argc && !strncmp(argv[first], "--", 2); first++) {
		const char *opt = argv[first];

		if (!strcmp(opt, "--rounds")) {
			rounds = args_value(argv[0], argc, argv, &first);
			args_number(argv[0], "--rounds", rounds, 1, SCENARIO_ROUNDS_MAX);
		} else if (!strcmp(opt, "--sanitizer")) {
			want_sanitizer = args_value(argv[0], argc, argv, &first);
		} else if (!strcmp(opt, "--fences")) {
			want_fences = args_value(argv[0], argc, argv, &first);
		} else {
			first = argc;
			break;
		}
	}
	if ((want_sanitizer && strcmp(want_sanitizer, "thread") &&
	     strcmp(want_sanitizer, "address") && strcmp(want_sanitizer, "none")) ||
	    (want_fences && strcmp(want_fences, "membarrier") && strcmp(want_fences, "full")))
		first = argc;
	if (first >= argc) {
		fprintf(stderr, "usage: %s [--rounds N] [--sanitizer thread|address|none] "
			"[--fences membarrier|full] RACE_BINARY...\n", argv[0]);
		return 2;
	}
	for (int i = first; i < argc; i++)
		check_binary(argv[i], rounds);
	printf("%s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
