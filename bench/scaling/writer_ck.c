/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Concurrency Kit's ck_epoch for writer.c. A ck record cannot be freed while its domain is in use,
 * and an unregistered one stays on the domain's list (ck_epoch_synchronize walks it): so each run
 * has a fresh domain and records, freed once every reader has exited.
 */
#include <ck_epoch.h>
#include <stdlib.h>
#include <string.h>

#include "bench/scaling/writer.h"
#include "patterns/common/compiler.h"
#include "patterns/common/die.h"

static ck_epoch_t *ck_domain;
static ck_epoch_record_t *ck_records;	/* [reader], then the writer's */
static void *ck_slot = &scaling_object;

static void ck_setup(void)
{
	ck_domain = teardown_aligned_alloc("scaling", TEARDOWN_CACHE_LINE, sizeof(*ck_domain));
	ck_records = teardown_aligned_alloc("scaling", TEARDOWN_CACHE_LINE,
					    (SCALING_MAX_READERS + 1) * sizeof(*ck_records));
	memset(ck_domain, 0, sizeof(*ck_domain));
	memset(ck_records, 0, (SCALING_MAX_READERS + 1) * sizeof(*ck_records));
	ck_epoch_init(ck_domain);
	ck_epoch_register(ck_domain, &ck_records[SCALING_MAX_READERS], NULL);
}

static void ck_teardown(void)
{
	free(ck_records);
	free(ck_domain);
}

static void ck_reader_register(int i)
{
	ck_epoch_register(ck_domain, &ck_records[i], NULL);
}

static void ck_read_loop(int i, const atomic_bool *stop)
{
	ck_epoch_record_t *r = &ck_records[i];

	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		ck_epoch_begin(r, NULL);
		scaling_use((struct scaling_object *)ck_pr_load_ptr(&ck_slot));
		ck_epoch_end(r, NULL);
	}
}

static void ck_reader_unregister(int i)
{
	ck_epoch_unregister(&ck_records[i]);
}

static void ck_writer(void)
{
	ck_epoch_synchronize(&ck_records[SCALING_MAX_READERS]);
}

const struct scaling_op scaling_ck_epoch = {
	.name = "ck_epoch_synchronize",
	.setup = ck_setup,
	.teardown = ck_teardown,
	.reader_register = ck_reader_register,
	.read_loop = ck_read_loop,
	.reader_unregister = ck_reader_unregister,
	.writer = ck_writer,
};
