/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reads the variant lines of a race binary's --list (scenario/race.c prints them):
 *	variant <TAB> name <TAB> expect <TAB> schedule <TAB> story
 * The race test driver and the tour both read them here, so the format lives in one reader.
 */
#ifndef TEARDOWN_TESTS_VARIANT_LIST_H
#define TEARDOWN_TESTS_VARIANT_LIST_H

#include <stdio.h>
#include <string.h>

struct listed_variant {
	char name[64];
	char expect[64];	/* "clean", or the report kind the naive variant must get */
	char schedule[16];	/* "forced" or "late"; "all" for a fix */
	char story[256];
};

/* 1: a variant line, read into v; 0: some other line; -1: a variant line that cannot be read. */
static inline int listed_variant_parse(const char *line, struct listed_variant *v)
{
	if (strncmp(line, "variant\t", 8) != 0)
		return 0;
	if (sscanf(line, "variant\t%63[^\t]\t%63[^\t]\t%15[^\t]\t%255[^\n]", v->name, v->expect,
		   v->schedule, v->story) != 4)
		return -1;
	return 1;
}

#endif /* TEARDOWN_TESTS_VARIANT_LIST_H */
