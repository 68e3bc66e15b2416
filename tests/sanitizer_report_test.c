/* SPDX-License-Identifier: BSD-2-Clause */
/* The sanitizer-report reader, on reports in each format this machine's toolchains print. */
#include <criterion/criterion.h>

#include "tests/sanitizer_report.h"

static const char gcc_tsan_uaf[] =
	"  10  T1 callback   reads device->state\n"
	"==================\n"
	"WARNING: ThreadSanitizer: heap-use-after-free (pid=15688)\n"
	"  Read of size 8 at 0x7b0400000000 by thread T1:\n"
	"    #0 device_read_state scenario/device.h:33 (race_test_gcc+0x1dc6)\n"
	"    #1 flag_callback patterns/global_flag/variants.c:39 (race_test_gcc+0x1dc6)\n"
	"\n"
	"  Previous write of size 8 at 0x7b0400000000 by thread T2:\n"
	"    #0 free ../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp:706 "
	"(libtsan.so.2+0x47e82)\n"
	"    #1 device_free scenario/device.c:23 (race_test_gcc+0x206c)\n"
	"    #2 flag_teardown patterns/global_flag/variants.c:53 (race_test_gcc+0x1fc0)\n"
	"\n"
	"  Thread T1 (tid=15690, running) created by main thread at:\n"
	"    #0 pthread_create ../../../../src/libsanitizer/tsan/x.cpp:1001 "
	"(libtsan.so.2+0x5e686)\n";

/* The free comes first when the use merely precedes it without ordering. */
static const char gcc_tsan_race[] =
	"WARNING: ThreadSanitizer: data race (pid=15708)\n"
	"  Write of size 8 at 0x7b0400000000 by thread T2:\n"
	"    #0 free ../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp:706 (x+0x1)\n"
	"    #1 device_free scenario/device.c:23 (race_test_gcc+0x206c)\n"
	"    #2 flag_sleep_teardown patterns/global_flag/variants.c:64 (race_test_gcc+0x1c14)\n"
	"\n"
	"  Previous read of size 8 at 0x7b0400000000 by thread T1:\n"
	"    #0 device_read_state scenario/device.h:33 (race_test_gcc+0x1dc6)\n"
	"    #1 flag_callback patterns/global_flag/variants.c:39 (race_test_gcc+0x1dc6)\n";

/* clang: file:line:col, absolute sandbox paths, and the canary poisoning as the racing write. */
static const char clang_tsan_race[] =
	"WARNING: ThreadSanitizer: data race (pid=3153)\n"
	"  Write of size 8 at 0x7b0400000000 by thread T2:\n"
	"    #0 device_free /root/.cache/bazel/x/sandbox/linux-sandbox/66/execroot/teardown/./"
	"scenario/device.c:22:14 (race_test_clang+0xd0105) (BuildId: 03c0)\n"
	"    #1 flag_sleep_teardown patterns/global_flag/variants.c:64:2 (race_test_clang+0x1)\n"
	"\n"
	"  Previous read of size 8 at 0x7b0400000000 by thread T1:\n"
	"    #0 device_read_state scenario/device.h:32:11 (race_test_clang+0xd0105)\n"
	"    #1 flag_callback patterns/global_flag/variants.c:39:1 (race_test_clang+0xd0105)\n";

/* A race under a lock: the access header holds colons of its own. */
static const char gcc_tsan_race_mutexes[] =
	"WARNING: ThreadSanitizer: data race (pid=4711)\n"
	"  Read of size 8 at 0x7b0800000010 by thread T1 (mutexes: read M11):\n"
	"    #0 device_read_state scenario/device.h:33 (race_test_gcc+0x1dc6)\n"
	"    #1 softc_callback patterns/rwlock/variants.c:40 (race_test_gcc+0x1dc6)\n"
	"\n"
	"  Previous write of size 8 at 0x7b0800000010 by thread T2 "
	"(mutexes: write M12, read M13):\n"
	"    #0 free ../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp:706 (x+0x1)\n"
	"    #1 device_free scenario/device.c:23 (race_test_gcc+0x206c)\n"
	"    #2 softc_teardown patterns/rwlock/variants.c:60 (race_test_gcc+0x1fc0)\n"
	"\n"
	"  Mutex M11 (0x7b0c00000000) created at:\n";

static const char asan_uaf[] =
	"==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc "
	"0x55 bp 0x7f sp 0x7f\n"
	"READ of size 8 at 0x602000000010 thread T1\n"
	"    #0 0x55d0c0 in device_read_state scenario/device.h:33\n"
	"    #1 0x55d0c1 in flag_callback patterns/global_flag/variants.c:39\n"
	"\n"
	"0x602000000010 is located 0 bytes inside of 16-byte region\n"
	"freed by thread T2 here:\n"
	"    #0 0x7f00 in __interceptor_free "
	"../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:52\n"
	"    #1 0x55d0c2 in device_free scenario/device.c:23\n"
	"    #2 0x55d0c3 in flag_teardown patterns/global_flag/variants.c:53\n"
	"\n"
	"previously allocated by thread T0 here:\n"
	"    #0 0x7f01 in __interceptor_malloc x.cpp:69\n";

Test(sanitizer_report, gcc_tsan_use_after_free)
{
	struct sanitizer_report r;

	cr_assert(sanitizer_report_parse(gcc_tsan_uaf, &r));
	cr_assert_str_eq(r.sanitizer, "ThreadSanitizer");
	cr_assert_str_eq(r.kind, "heap-use-after-free");
	cr_assert_str_eq(r.use_access, "Read of size 8 at 0x7b0400000000 by thread T1");
	cr_assert_str_eq(r.use_top, "device_read_state scenario/device.h:33");
	cr_assert_str_eq(r.use_caller, "flag_callback patterns/global_flag/variants.c:39");
	cr_assert_str_eq(r.free_top, "device_free scenario/device.c:23");
	cr_assert_str_eq(r.free_caller, "flag_teardown patterns/global_flag/variants.c:53");
}

Test(sanitizer_report, gcc_tsan_data_race_free_first)
{
	struct sanitizer_report r;

	cr_assert(sanitizer_report_parse(gcc_tsan_race, &r));
	cr_assert_str_eq(r.kind, "data race");
	cr_assert_str_eq(r.use_top, "device_read_state scenario/device.h:33");
	cr_assert_str_eq(r.free_top, "device_free scenario/device.c:23");
	cr_assert_str_eq(r.free_caller, "flag_sleep_teardown patterns/global_flag/variants.c:64");
}

Test(sanitizer_report, clang_paths_and_columns)
{
	struct sanitizer_report r;

	cr_assert(sanitizer_report_parse(clang_tsan_race, &r));
	cr_assert_str_eq(r.kind, "data race");
	cr_assert_str_eq(r.use_top, "device_read_state scenario/device.h:32");
	cr_assert_str_eq(r.free_top, "device_free scenario/device.c:22");
}

Test(sanitizer_report, tsan_header_with_mutexes)
{
	struct sanitizer_report r;

	cr_assert(sanitizer_report_parse(gcc_tsan_race_mutexes, &r));
	cr_assert_str_eq(r.kind, "data race");
	cr_assert_str_eq(r.use_access,
			 "Read of size 8 at 0x7b0800000010 by thread T1 (mutexes: read M11)");
	cr_assert_str_eq(r.use_top, "device_read_state scenario/device.h:33");
	cr_assert_str_eq(r.free_top, "device_free scenario/device.c:23");
	cr_assert_str_eq(r.free_caller, "softc_teardown patterns/rwlock/variants.c:60");
}

Test(sanitizer_report, asan_use_after_free)
{
	struct sanitizer_report r;

	cr_assert(sanitizer_report_parse(asan_uaf, &r));
	cr_assert_str_eq(r.sanitizer, "AddressSanitizer");
	cr_assert_str_eq(r.kind, "heap-use-after-free");
	cr_assert_str_eq(r.use_top, "device_read_state scenario/device.h:33");
	cr_assert_str_eq(r.free_top, "device_free scenario/device.c:23");
	cr_assert_str_eq(r.free_caller, "flag_teardown patterns/global_flag/variants.c:53");
}

Test(sanitizer_report, no_report)
{
	struct sanitizer_report r;

	cr_assert_not(sanitizer_report_parse("finished with no sanitizer report\n", &r));
	cr_assert_not(r.found);
}
