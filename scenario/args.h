/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Command-line values, read strictly: the race binaries, the race test driver and the tour
 * take their numbers and option values through these. Bad input is an error with exit code 2,
 * never a silent default: "--rounds -5" must not become four billion rounds.
 */
#ifndef TEARDOWN_SCENARIO_ARGS_H
#define TEARDOWN_SCENARIO_ARGS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define ARGS_USAGE_EXIT 2

/* The most teardowns a stress run takes (--rounds of the race binaries and the tour). */
#define SCENARIO_ROUNDS_MAX 1000000u

/*
 * A whole number in [min, max] written in decimal digits only: no sign, no spaces, no
 * trailing characters. Anything else prints why, naming the option, and exits 2.
 */
static inline unsigned long args_number(const char *prog, const char *option, const char *text,
					unsigned long min, unsigned long max)
{
	unsigned long value;
	const char *p;
	char *end;

	for (p = text; *p >= '0' && *p <= '9'; p++)
		;
	if (!*text || *p) {
		fprintf(stderr,
			"%s: %s: '%s' is not a whole number (digits only, from %lu to %lu)\n",
			prog, option, text, min, max);
		exit(ARGS_USAGE_EXIT);
	}
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno == ERANGE || value > max) {
		fprintf(stderr, "%s: %s: %s is too large (at most %lu)\n", prog, option, text, max);
		exit(ARGS_USAGE_EXIT);
	}
	if (value < min) {
		fprintf(stderr, "%s: %s: %s is too small (at least %lu)\n", prog, option, text,
			min);
		exit(ARGS_USAGE_EXIT);
	}
	return value;
}

/*
 * The value that follows option argv[*i]; advances *i. A missing value (the end of the line,
 * or another option) prints why and exits 2.
 */
static inline const char *args_value(const char *prog, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc || (argv[*i + 1][0] == '-' && argv[*i + 1][1] == '-')) {
		fprintf(stderr, "%s: %s needs a value\n", prog, argv[*i]);
		exit(ARGS_USAGE_EXIT);
	}
	return argv[++*i];
}

#endif /* TEARDOWN_SCENARIO_ARGS_H */
