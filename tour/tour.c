/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The tour: for every pattern, watch the naive code fail and the fix hold, then compare what each
 * costs on the hot path.
 *
 * For each race binary (one per pattern) and each of its variants it runs the forced schedule,
 * printing the timeline as it happens, then a verdict read from the real sanitizer report: its
 * kind, and where the use and the free happened. Fixes run again in a stress loop. Last, the
 * comparison benchmark runs every pattern's hot path beside the unprotected baseline.
 *
 * usage: tour [--pattern NAME] [--full-report] [--no-bench] [--rounds N]
 *             [--bench COMPARE_BINARY] RACE_BINARY...
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patterns/common/die.h"
#include "scenario/args.h"
#include "scenario/sanitizer_options.h"
#include "tests/sanitizer_report.h"
#include "tests/subprocess.h"
#include "tests/variant_list.h"

static bool color;
static const char *bold = "", *red = "", *green = "", *dim = "", *reset = "";

static char *sanitizer_env[] = SCENARIO_SANITIZER_ENV;

struct options {
	const char *pattern;
	const char *bench;
	const char *rounds;
	bool full_report;
	bool no_bench;
};

struct tally {
	int reported, clean, surprises;
};

static void print_frames(const char *label, const char *top, const char *caller)
{
	if (!top[0])
		return;
	printf("      %-5s %s\n", label, top);
	if (caller[0])
		printf("            %scalled from %s%s\n", dim, caller, reset);
}

/* A fix, in the late schedule or the stress loop: one verdict line. */
static bool run_quietly(const struct options *o, const char *bin, const char *name,
			const char *schedule, const char *what)
{
	char *argv[] = { (char *)bin, "--variant", (char *)name, "--schedule", (char *)schedule,
			 "--rounds", (char *)o->rounds, NULL };
	struct subprocess_result res;
	bool ok;

	subprocess_run(argv, sanitizer_env, false, &res);
	ok = res.exit_code == 0 && !strstr(res.err, "Sanitizer");
	if (ok && what)
		printf("  %s=> %s%s\n", green, what, reset);
	else if (ok)
		printf("  %s=> %s%s", green, res.out, reset);
	else
		printf("  %s=> %s schedule failed%s\n%s%s", red, schedule, reset, res.out, res.err);
	subprocess_result_free(&res);
	return ok;
}

static void run_variant(const struct options *o, const char *bin, const char *name,
			const char *expect, const char *schedule, const char *story,
			struct tally *t)
{
	bool want_report = strcmp(expect, "clean") != 0;
	char *argv[] = { (char *)bin, "--variant", (char *)name, "--schedule",
			 want_report ? (char *)schedule : "forced", NULL };
	struct subprocess_result res;
	struct sanitizer_report r;

	printf("\n  %s%s%s: %s%s\n", bold, name, reset, story,
	       want_report && !strcmp(schedule, "late") ? " (late schedule)" : "");
	printf("  %s%s%s\n", dim, "---------------------------------------------------------------",
	       reset);
	subprocess_run(argv, sanitizer_env, true, &res);
	sanitizer_report_parse(res.err, &r);
	if (r.found) {
		printf("  %s=> %s: %s%s", want_report ? bold : red, r.sanitizer, r.kind, reset);
		printf("%s\n", !want_report ? "  (UNEXPECTED: this variant should be clean)" :
			       strcmp(r.kind, expect) ? "  (expected another kind)" : "");
		if (r.use_access[0])
			printf("      %s%s%s\n", dim, r.use_access, reset);
		print_frames("use:", r.use_top, r.use_caller);
		print_frames("free:", r.free_top, r.free_caller);
		if (o->full_report)
			printf("\n%s\n", res.err);
		if (want_report && !strcmp(r.kind, expect))
			t->reported++;
		else
			t->surprises++;
	} else if (res.exit_code != 0) {
		printf("  %s=> exit %d, signal %d, no sanitizer report%s\n%s", red, res.exit_code,
		       res.signal, reset, res.err);
		t->surprises++;
	} else if (want_report) {
		printf("  %s=> no report (UNEXPECTED: the naive race should be reported)%s\n", red,
		       reset);
		t->surprises++;
	} else {
		printf("  %s=> clean in the same schedule%s\n", green, reset);
		if (run_quietly(o, bin, name, "late", "clean in the late schedule too (a "
				"releaser's last touches wait until teardown has returned)") &&
		    run_quietly(o, bin, name, "stress", NULL))
			t->clean++;
		else
			t->surprises++;
	}
	subprocess_result_free(&res);
}

/* A race binary, and what its --list said. */
struct lab {
	const char *bin;
	char pattern[64];
	struct subprocess_result list;
	bool listed;
};

/* Runs --list; reads the pattern's name. */
static void list_lab(struct lab *lab)
{
	char *argv[] = { (char *)lab->bin, "--list", NULL };

	subprocess_run(argv, NULL, false, &lab->list);
	lab->listed = lab->list.exit_code == 0 &&
		      sscanf(lab->list.out, "pattern\t%63[^\t]", lab->pattern) == 1;
	if (!lab->listed)
		subprocess_result_free(&lab->list);
}

/* A --pattern that names no lab is an error that names the labs there are. */
static bool pattern_exists(const char *argv0, const char *pattern, const struct lab *labs,
			   int nlabs)
{
	for (int i = 0; i < nlabs; i++)
		if (labs[i].listed && !strcmp(labs[i].pattern, pattern))
			return true;
	fprintf(stderr, "%s: no pattern '%s'; the patterns are:", argv0, pattern);
	for (int i = 0, n = 0; i < nlabs; i++)
		if (labs[i].listed)
			fprintf(stderr, "%s %s", n++ ? "," : "", labs[i].pattern);
	fprintf(stderr, "\n");
	return false;
}

static void run_pattern(const struct options *o, struct lab *lab, struct tally *t)
{
	const char *bin = lab->bin;
	char pattern[64] = "", seed[256] = "";

	if (!lab->listed) {
		printf("%scannot list %s%s\n", red, bin, reset);
		t->surprises++;
		return;
	}
	for (char *save, *line = strtok_r(lab->list.out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct listed_variant v;
		int variant = listed_variant_parse(line, &v);

		if (sscanf(line, "pattern\t%63[^\t]\t%255[^\n]", pattern, seed) == 2) {
			if (o->pattern && strcmp(o->pattern, pattern))
				break;
			printf("\n%s== %s%s  %s%s%s\n", bold, pattern, reset, dim, seed, reset);
		} else if (variant == 1) {
			run_variant(o, bin, v.name, v.expect, v.schedule, v.story, t);
		} else if (variant == -1) {
			printf("%s%s printed a variant line the tour cannot read: %s%s\n", red, bin,
			       line, reset);
			t->surprises++;
		}
	}
}

static int usage(const char *argv0, const char *problem, const char *arg)
{
	if (problem && arg)
		fprintf(stderr, "%s: %s '%s'\n", argv0, problem, arg);
	else if (problem)
		fprintf(stderr, "%s: %s\n", argv0, problem);
	fprintf(stderr,
		"usage: %s [--pattern NAME] [--full-report] [--no-bench] [--rounds N]\n"
		"          [--bench COMPARE_BINARY] RACE_BINARY...\n"
		"  --pattern NAME   only this pattern (and the baseline, in the benchmark)\n"
		"  --full-report    print each sanitizer report in full\n"
		"  --no-bench       skip the hot-path benchmark\n"
		"  --rounds N       teardowns in each fix's stress run (default 300, at most %u)\n"
		"  --bench BINARY   the comparison benchmark (required unless --no-bench)\n",
		argv0, SCENARIO_ROUNDS_MAX);
	return 2;
}

/*
 * From the comparison binary's output, the cost table only (bench.cc prints it last): a block
 * per thread count for the hot path, with its legend, then the writer side. Block titles in bold.
 */
static void print_cost_tables(const char *out)
{
	const char *table = strstr(out, "\nHot path at ");
	size_t size;
	char *copy, *save = NULL, *line;

	if (!table)
		table = strstr(out, "\nWriter side");
	if (!table) {
		fputs(out, stdout);
		return;
	}
	size = strlen(table) + 1;
	copy = memcpy(teardown_malloc("tour", size), table, size);
	printf("\n");
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool title = !strncmp(line, "Hot path at ", 12) ||
			     !strncmp(line, "Writer side", 11);

		if (title)
			printf("\n%s%s%s\n", bold, line, reset);
		else
			printf("%s\n", line);
	}
	free(copy);
}

int main(int argc, char **argv)
{
	struct options o = { .rounds = "300" };
	struct tally t = { 0 };
	struct lab *labs = teardown_calloc("tour", (size_t)argc, sizeof(*labs));
	char *slash = strrchr(argv[0], '/');
	int nlabs = 0;

	if (slash)
		argv[0] = slash + 1;	/* messages say "tour: ...", not bazel's long path */

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pattern"))
			o.pattern = args_value(argv[0], argc, argv, &i);
		else if (!strcmp(argv[i], "--full-report"))
			o.full_report = true;
		else if (!strcmp(argv[i], "--no-bench"))
			o.no_bench = true;
		else if (!strcmp(argv[i], "--rounds"))
			o.rounds = args_value(argv[0], argc, argv, &i);
		else if (!strcmp(argv[i], "--bench"))
			o.bench = args_value(argv[0], argc, argv, &i);
		else if (!strcmp(argv[i], "--help"))
			return usage(argv[0], NULL, NULL);
		else if (argv[i][0] == '-')
			return usage(argv[0], "unknown option", argv[i]);
		else
			labs[nlabs++].bin = argv[i];
	}
	/* The race binaries take the same count; checked here, before anything runs. */
	args_number(argv[0], "--rounds", o.rounds, 1, SCENARIO_ROUNDS_MAX);
	if (!nlabs)
		return usage(argv[0], "no race binary given", NULL);
	if (!o.bench && !o.no_bench)
		return usage(argv[0], "--bench COMPARE_BINARY is required unless --no-bench", NULL);
	for (int i = 0; i < nlabs; i++)
		list_lab(&labs[i]);
	if (o.pattern && !pattern_exists(argv[0], o.pattern, labs, nlabs))
		return 2;
	color = isatty(STDOUT_FILENO);
	if (color) {
		bold = "\033[1m";
		red = "\033[31m";
		green = "\033[32m";
		dim = "\033[2m";
		reset = "\033[0m";
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("%steardown: the tour%s\n"
	       "Each naive variant runs in a forced schedule: the callback (T1) obtains the\n"
	       "object, teardown (T2) runs as far as the pattern lets it, then T1 uses the\n"
	       "object. The verdict is read from the real sanitizer report. Some naive variants\n"
	       "run in the late schedule: the same, and a releaser's last touches wait until\n"
	       "teardown has returned. Fixes run in the forced schedule, in the late one, then\n"
	       "in a stress loop.\n",
	       bold, reset);
	for (int i = 0; i < nlabs; i++) {
		run_pattern(&o, &labs[i], &t);
		if (labs[i].listed)
			subprocess_result_free(&labs[i].list);
	}
	free(labs);
	printf("\n%sRace demos:%s %d naive variant%s reported as %s chapter%s say%s, %d fix%s clean"
	       "%s%s\n", bold, reset, t.reported, t.reported == 1 ? "" : "s",
	       o.pattern ? "its" : "their", o.pattern ? "" : "s", o.pattern ? "s" : "", t.clean,
	       t.clean == 1 ? "" : "es",
	       t.surprises ? ", SURPRISES: " : "", t.surprises ? "see above" : "");
	if (!o.no_bench) {
		char filter[128];
		/*
		 * A pattern's production counterpart runs beside it: liburcu beside rcu, ck beside
		 * epoch.
		 */
		const char *also = !o.pattern ? "" : !strcmp(o.pattern, "rcu") ? "|liburcu"
					      : !strcmp(o.pattern, "epoch") ? "|ck_epoch" : "";
		snprintf(filter, sizeof(filter), "--benchmark_filter=^(baseline|%s%s)/",
			 o.pattern ? o.pattern : ".*", also);
		char *bench[] = { (char *)o.bench, filter, "--benchmark_min_time=0.02",
				  "--benchmark_repetitions=3",
				  "--benchmark_report_aggregates_only=true", NULL };
		struct subprocess_result res;

		printf("\n%sHot-path cost%s (a short run: 3 repetitions of ~0.02 s per row and\n"
		       "thread count, about a minute; bazel run //bench:compare for a longer one,\n"
		       "with Google Benchmark's own output)\n", bold, reset);
		subprocess_run(bench, NULL, false, &res);
		if (res.exit_code != 0) {
			printf("%sbenchmark failed%s\n%s", red, reset, res.err);
			t.surprises++;
		} else {
			print_cost_tables(res.out);
		}
		subprocess_result_free(&res);
	}
	return t.surprises ? 1 : 0;
}
