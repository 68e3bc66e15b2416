/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sanitizer options a race binary runs with, written once: halt at the first report, and
 * exit with SCENARIO_SANITIZER_EXIT, so that "reported" is an exit code, not a guess from the
 * output. The race binaries set them as defaults (scenario/race.c); the race test driver and
 * the tour pass them in the environment as well.
 *
 * atexit_sleep_ms=0: ThreadSanitizer otherwise sleeps a second at exit, so that threads still
 * running can finish their reports. The harness joins every thread it starts before it exits,
 * and a trcu_call callback thread left behind is idle by then (destroy ran trcu_barrier), so
 * the sleep bought nothing but a second per race binary run.
 */
#ifndef TEARDOWN_SCENARIO_SANITIZER_OPTIONS_H
#define TEARDOWN_SCENARIO_SANITIZER_OPTIONS_H

#define SCENARIO_SANITIZER_EXIT 66

#define SCENARIO_STRINGIFY_(x) #x
#define SCENARIO_STRINGIFY(x) SCENARIO_STRINGIFY_(x)

#define SCENARIO_TSAN_OPTIONS \
	"halt_on_error=1:exitcode=" SCENARIO_STRINGIFY(SCENARIO_SANITIZER_EXIT) \
	":second_deadlock_stack=1:atexit_sleep_ms=0"
#define SCENARIO_ASAN_OPTIONS \
	"halt_on_error=1:exitcode=" SCENARIO_STRINGIFY(SCENARIO_SANITIZER_EXIT) ":detect_leaks=0"

/* The same, as the environment a driver passes to a race binary (a char *[] initializer). */
#define SCENARIO_SANITIZER_ENV \
	{ "TSAN_OPTIONS=" SCENARIO_TSAN_OPTIONS, "ASAN_OPTIONS=" SCENARIO_ASAN_OPTIONS, NULL }

#endif /* TEARDOWN_SCENARIO_SANITIZER_OPTIONS_H */
