/* SPDX-License-Identifier: BSD-2-Clause */
/* Fatal errors are reported with their place and errno, apart from misuse. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patterns/common/die.h"
#include "patterns/common/futex.h"
#include "tests/misuse.h"

/* This test allocates more than the machine has on purpose: under ASan, let malloc say NULL. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static void allocate_too_much(void *arg)
{
	(void)arg;
	teardown_malloc("test", SIZE_MAX / 2);
}

Test(die, an_allocation_that_fails_dies_with_its_place)
{
	char out[1024];

	cr_assert(misuse_aborts_with(allocate_too_much, NULL,
				     "teardown: test: fatal: out of memory: ", out, sizeof(out)),
		  "%s", out);
	cr_assert(strstr(out, "die_test.c:"), "%s", out);
	cr_assert(strstr(out, " in allocate_too_much(): Cannot allocate memory (errno 12)"), "%s",
		  out);
}

static void allocate_an_overflowing_array(void *arg)
{
	(void)arg;
	teardown_calloc("test", SIZE_MAX / 4, 8);
}

Test(die, an_array_size_that_overflows_dies)
{
	char out[1024];

	cr_assert(misuse_aborts_with(allocate_an_overflowing_array, NULL,
				     "teardown: test: fatal: allocating ", out, sizeof(out)),
		  "%s", out);
	cr_assert(strstr(out, "Value too large"), "%s", out);
}

Test(die, aligned_allocations_are_aligned_and_zeroed_when_asked)
{
	unsigned char *p = teardown_aligned_alloc("test", 64, 100);
	unsigned char *z = teardown_calloc("test", 10, 10);

	cr_assert_eq((uintptr_t)p % 64, 0);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(z[i], 0);
	free(p);
	free(z);
}

static void die_out_of_memory(void *arg)
{
	(void)arg;
	teardown_die("test", ENOMEM, "allocating %d bytes", 64);
}

Test(die, names_the_pattern_the_place_and_the_errno)
{
	char out[1024];

	cr_assert(misuse_aborts_with(die_out_of_memory, NULL,
				     "teardown: test: fatal: allocating 64 bytes at "
				     "patterns/common/die_test.c:", out, sizeof(out)),
		  "%s", out);
	cr_assert(strstr(out, " in die_out_of_memory(): Cannot allocate memory (errno 12)"), "%s",
		  out);
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

	cr_assert(misuse_aborts_with(die_without_errno, NULL,
				     "teardown: test: fatal: no errno to give at ", out,
				     sizeof(out)),
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
				     "teardown: futex: fatal: FUTEX_WAIT_PRIVATE on ", out,
				     sizeof(out)),
		  "%s", out);
	cr_assert(strstr(out, "Invalid argument (errno 22)"), "%s", out);
}

/* EAGAIN (the word no longer holds the expected value) is an ordinary return. */
Test(die, a_changed_word_returns_without_dying)
{
	_Atomic uint32_t word = 1;

	futex_wait_while(&word, 0);
}
