/* SPDX-License-Identifier: BSD-2-Clause */
/* Fatal errors are reported with their place and errno, apart from misuse. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "patterns/common/die.h"
#include "patterns/common/futex.h"
#include "tests/misuse.h"

static void die_out_of_memory(void *arg)
{
	(void)arg;
	teardown_die("test", ENOMEM, "allocating %d bytes", 64);
}

Test(die, names_the_pattern_the_place_and_the_errno)
{
	char out[1024];

	cr_assert(misuse_aborts_with(die_out_of_memory, NULL, "teardown: test: fatal: allocating 64 "
				     "bytes at patterns/common/die_test.c:", out, sizeof(out)),
		  "%s", out);
	cr_assert(strstr(out, " in die_out_of_memory(): Cannot allocate memory (errno 12)"), "%s", out);
	cr_assert_null(strstr(out, "misuse"), "%s", out);
}

static void die_without_errno(void *arg)
{
	(void)arg;
	teardown_die("test", 0, "no errno to give");
}

Test(die, prints_no_errno_when_there_is_none)
{
	char out[1024];

	cr_assert(misuse_aborts_with(die_without_errno, NULL, "teardown: test: fatal: no errno to give at ",
				     out, sizeof(out)),
		  "%s", out);
	cr_assert_null(strstr(out, "(errno"), "%s", out);
}

/* A futex error other than EAGAIN or EINTR is fatal: here EINVAL, for a misaligned word. */
static void futex_on_a_misaligned_word(void *arg)
{
	static _Alignas(8) unsigned char bytes[8];

	(void)arg;
	futex_wait_while((_Atomic uint32_t *)(void *)(bytes + 1), 0);
}

Test(die, a_futex_error_other_than_eagain_or_eintr_is_fatal)
{
	char out[1024];

	cr_assert(misuse_aborts_with(futex_on_a_misaligned_word, NULL,
				     "teardown: futex: fatal: FUTEX_WAIT_PRIVATE on ", out, sizeof(out)),
		  "%s", out);
	cr_assert(strstr(out, "Invalid argument (errno 22)"), "%s", out);
}

/* EAGAIN (the word no longer holds the expected value) is an ordinary return. */
Test(die, a_changed_word_returns_without_dying)
{
	_Atomic uint32_t word = 1;

	futex_wait_while(&word, 0);
}
