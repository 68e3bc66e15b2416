/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Memory per protected object, per pattern, against the number of threads that use it, from the
 * sizes of the patterns' real structures (sizeof, so a change to a struct changes the table).
 *
 * Three kinds of cost:
 *   per object		 what each protected object carries: its lock, ref or shards, or
 *			 the header a deferred free needs (trcu_call, tepoch_call, call_rcu,
 *			 ck_epoch_call);
 *   per object, thread	 what each thread that uses the object adds to it: a drwlock slot;
 *   once		 per thread or per domain, whatever the number of objects: the reader
 *			 records of RCU and epochs, the cache-aware rundown's wait buckets.
 * The table's "T threads" columns are per object + T x per object and thread, with "-" where the
 * pattern cannot serve T threads at once. Objects waiting for a grace period are the deferred
 * patterns' real memory cost, and depend on the update rate: not in this table.
 *
 * usage: memory [--csv]
 */
#define _LGPL_SOURCE
#include <ck_epoch.h>
#include <stdio.h>
#include <string.h>
#include <urcu/urcu-memb.h>

#include "patterns/common/compiler.h"
#include "patterns/epoch/tepoch.h"
#include "patterns/global_flag/global_flag.h"
#include "patterns/rcu/trcu.h"
#include "patterns/rcu/trcu_qsbr.h"
#include "patterns/remove_lock/remove_lock.h"
#include "patterns/rundown/rundown.h"
#include "patterns/rundown/rundown_ca.h"
#include "patterns/rwlock/drwlock.h"

struct row {
	const char *pattern;
	size_t per_object;
	size_t per_object_thread;
	size_t once_per_thread;
	size_t once;
	int max_threads;	/* 0: no limit */
	const char *note;
};

static const struct row rows[] = {
	{ "global flag", sizeof(struct global_flag), 0, 0, 0, 0,
	  "flag and in-flight count" },
	{ "remove lock", sizeof(struct remove_lock), 0, 0, 0, 0, "one word" },
	{ "one-word rundown", sizeof(struct rundown_ref), 0, 0, 0, 0, "one word" },
	{ "cache-aware rundown", sizeof(struct rundown_ca), 0, sizeof(rundown_ca_self),
	  sizeof(rundown_ca_buckets), RUNDOWN_CA_MAX_THREADS,
	  "a line per possible thread in every object; once: the wait buckets" },
	{ "drwlock", sizeof(struct drwlock), sizeof(struct drwlock_reader), 0, 0, 0,
	  "each reading thread registers a slot with each lock" },
	{ "trcu (trcu_call)", sizeof(struct trcu_head), 0, sizeof(struct trcu_reader), 0, 0,
	  "per object: the callback header (0 with trcu_synchronize)" },
	{ "trcu QSBR (trcu_call)", sizeof(struct trcu_head), 0, sizeof(struct trcu_qsbr_reader),
	  0, 0, "per object: the callback header (0 with synchronize)" },
	{ "tepoch (tepoch_call)", sizeof(struct tepoch_entry), 0, sizeof(struct tepoch_record),
	  sizeof(struct tepoch), 0, "once per thread: a record in each domain; once: the domain" },
	{ "liburcu urcu-memb (call_rcu)", sizeof(struct rcu_head), 0, sizeof(struct urcu_reader),
	  0, 0, "per object: the rcu_head (0 with synchronize_rcu)" },
	{ "ck_epoch (ck_epoch_call)", sizeof(ck_epoch_entry_t), 0, sizeof(ck_epoch_record_t),
	  sizeof(ck_epoch_t), 0, "once per thread: a record in each domain; once: the domain" },
};

static const int thread_counts[] = { 1, 4, 16, 64, 256 };

static void markdown(void)
{
	printf("| pattern | per object | per object and thread | once per thread | once |");
	for (size_t t = 0; t < TEARDOWN_ARRAY_SIZE(thread_counts); t++)
		printf(" %d threads |", thread_counts[t]);
	printf(" note |\n|---|---|---|---|---|");
	for (size_t t = 0; t < TEARDOWN_ARRAY_SIZE(thread_counts); t++)
		printf("---|");
	printf("---|\n");
	for (size_t i = 0; i < TEARDOWN_ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];

		printf("| %s | %zu | %zu | %zu | %zu |", r->pattern, r->per_object,
		       r->per_object_thread, r->once_per_thread, r->once);
		for (size_t t = 0; t < TEARDOWN_ARRAY_SIZE(thread_counts); t++) {
			int n = thread_counts[t];

			if (r->max_threads && n > r->max_threads)
				printf(" - |");
			else
				printf(" %zu |", r->per_object + (size_t)n * r->per_object_thread);
		}
		printf(" %s |\n", r->note);
	}
}

static void csv(void)
{
	printf("pattern,threads,bytes_per_object,fixed_per_object,per_thread_per_object,"
	       "per_thread_process,once,note\n");
	for (size_t i = 0; i < TEARDOWN_ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];

		for (size_t t = 0; t < TEARDOWN_ARRAY_SIZE(thread_counts); t++) {
			int n = thread_counts[t];

			if (r->max_threads && n > r->max_threads)
				continue;
			printf("\"%s\",%d,%zu,%zu,%zu,%zu,%zu,\"%s\"\n", r->pattern, n,
			       r->per_object + (size_t)n * r->per_object_thread, r->per_object,
			       r->per_object_thread, r->once_per_thread, r->once, r->note);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--csv"))
		csv();
	else if (argc == 1)
		markdown();
	else {
		fprintf(stderr, "usage: %s [--csv]\n", argv[0]);
		return 2;
	}
	return 0;
}
