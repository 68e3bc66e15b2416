/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The race harness: runs one variant of the pattern under test in the forced schedule, or in a
 * bounded random stress loop. Built only into the race binaries, with a sanitizer and with
 * TEARDOWN_RACE_HOOKS, so that the hooks in scenario/hooks.h call in here.
 *
 * The forced schedule, for every pattern alike:
 *   T1 callback  enters the hot path and obtains the device, then stops in SCENARIO_READER_WINDOW;
 *   T2 teardown  runs to completion, or until SCENARIO_TEARDOWN_BLOCKS says it must wait for T1;
 *   T1 callback  resumes and uses the device.
 * Semaphores order the steps (and are happens-before edges to ThreadSanitizer); no sleeps.
 *
 * The late schedule is the forced one, plus: the first releaser to reach SCENARIO_RELEASER_TAIL
 * (it has just given up what teardown waits for) stops there until teardown has returned, or
 * until teardown's thread has been seen asleep in the kernel for LATE_ASLEEP_MS (it waits for
 * this releaser, which must go on), or until LATE_BOUND_MS have passed. Then it makes its last
 * touches. It polls relaxed flags and /proc, so that nothing in the wait is a happens-before
 * edge: a last touch of memory that teardown freed is reported as a use after free.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "scenario/args.h"
#include "scenario/sanitizer_options.h"
#include "scenario/scenario.h"

#define FORCED_STEP_TIMEOUT_S 30
#define STRESS_READERS 2
#define LATE_ASLEEP_MS 30
#define LATE_BOUND_MS 3000

static bool forced;	/* set before any thread starts; also in the late schedule */
static bool late;	/* set before any thread starts */
static bool quiet;
static sem_t reader_holds_device;
static sem_t teardown_went_as_far_as_it_can;
static atomic_bool window_taken;
static atomic_bool teardown_blocked;
static atomic_uint timeline_step;
/* Relaxed on purpose: the "long enough" sleep must not be a happens-before edge (see below). */
static atomic_bool reader_finished;
/* Relaxed too: the late releaser's wait must not be a happens-before edge either. */
static atomic_bool teardown_started;
static atomic_bool teardown_returned;
static atomic_bool threads_joined;
static atomic_bool tail_taken;
static atomic_int teardown_tid;
static _Thread_local const char *thread_role = "main";
static _Thread_local bool is_teardown_thread;

/*
 * Run by hand, a race binary stops at the first report, as the driver and the tour run it; the
 * environment's TSAN_OPTIONS or ASAN_OPTIONS still override these.
 */
const char *__tsan_default_options(void)
{
	return SCENARIO_TSAN_OPTIONS;
}

const char *__asan_default_options(void)
{
	return SCENARIO_ASAN_OPTIONS;
}

/*
 * The sanitizers call these for each report (weak hooks, overridden here), so that the closing
 * line is true when a report did not halt the program.
 */
static atomic_int sanitizer_reports;

void __tsan_on_report(const void *report)
{
	(void)report;
	atomic_fetch_add_explicit(&sanitizer_reports, 1, memory_order_relaxed);
}

void __asan_on_error(void)
{
	atomic_fetch_add_explicit(&sanitizer_reports, 1, memory_order_relaxed);
}

void scenario_thread_role(const char *role)
{
	thread_role = role;
}

__attribute__((format(printf, 1, 2))) static void print_unsynchronized(const char *fmt, ...)
{
	char line[320];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	if (n > 0 && write(STDOUT_FILENO, line, (size_t)n) < 0)
		return;
}

/* The closing line, and the exit code: the sanitizers' own, if anything was reported. */
static int finish(const char *what)
{
	int reports = atomic_load_explicit(&sanitizer_reports, memory_order_relaxed);

	if (reports) {
		print_unsynchronized("finished after %d sanitizer report%s (above)\n", reports,
				     reports == 1 ? "" : "s");
		return SCENARIO_SANITIZER_EXIT;
	}
	print_unsynchronized("%s\n", what);
	return 0;
}

void scenario_note(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/*
	 * Narration must not synchronize the threads it narrates, or it would hide the race:
	 * relaxed, and write(2) rather than stdio, whose FILE lock is a happens-before edge.
	 */
	print_unsynchronized("%3u  %-12s  %s\n",
			     atomic_fetch_add_explicit(&timeline_step, 1, memory_order_relaxed) + 1,
			     thread_role, line);
}

static void wait_or_die(sem_t *sem, const char *what)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += FORCED_STEP_TIMEOUT_S;
	while (sem_timedwait(sem, &deadline) != 0) {
		if (errno == EINTR)
			continue;
		if (errno != ETIMEDOUT)
			teardown_die("scenario", errno, "sem_timedwait");
		fprintf(stderr, "scenario: forced schedule stuck after %d s: %s\n",
			FORCED_STEP_TIMEOUT_S, what);
		fflush(NULL);
		_exit(3);
	}
}

static void release_reader(void)
{
	if (!atomic_exchange(&teardown_blocked, true))
		sem_post(&teardown_went_as_far_as_it_can);
}

void scenario_reader_window(void)
{
	if (!forced || atomic_exchange(&window_taken, true))
		return;
	scenario_note("holds the device; lets teardown run");
	sem_post(&reader_holds_device);
	wait_or_die(&teardown_went_as_far_as_it_can,
		    "teardown neither returned nor reached SCENARIO_TEARDOWN_BLOCKS");
}

void scenario_teardown_blocks(void)
{
	if (!forced || atomic_load(&teardown_blocked))
		return;
	scenario_note("waits for the callback to leave");
	release_reader();
}

/*
 * The folk remedy "sleep a second after unregistering", in its best case: the sleep was long
 * enough, the callback really has finished. Deterministically: T1 is released, then T2 waits
 * until T1 is done, through a relaxed flag that is no happens-before edge, as a sleep is none.
 */
void scenario_grace_sleep(unsigned seconds)
{
	if (!forced) {
		sleep(seconds);
		return;
	}
	scenario_note("sleeps %u s (long enough: the callback finishes meanwhile)", seconds);
	release_reader();
	while (!atomic_load_explicit(&reader_finished, memory_order_relaxed))
		sched_yield();
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * The scheduler state of one of our threads ('R', 'S', 'D', ...), from
 * /proc/self/task/TID/stat, or '?'. Raw system calls: ThreadSanitizer's read() interceptor
 * would make reading a file a happens-before edge.
 */
static char thread_state(int tid)
{
	char path[64], buf[512], *paren;
	long fd, n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	/* "tid (comm) S ...": comm may hold spaces and ')'; the state follows the last ')'. */
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : '?';
}

/* The late releaser's wait; returns what ended it. */
static const char *late_wait(void)
{
	int tid = atomic_load_explicit(&teardown_tid, memory_order_relaxed);
	struct timespec start, asleep_since;
	bool asleep = false;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (atomic_load_explicit(&teardown_returned, memory_order_relaxed))
			return "teardown has returned";
		if (thread_state(tid) != 'S') {
			asleep = false;
		} else if (!asleep) {
			asleep = true;
			clock_gettime(CLOCK_MONOTONIC, &asleep_since);
		} else if (ms_since(&asleep_since) >= LATE_ASLEEP_MS) {
			return "teardown sleeps in the kernel, waiting for this releaser";
		}
		if (ms_since(&start) >= LATE_BOUND_MS)
			return "teardown neither returned nor slept within the bound";
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

void scenario_releaser_tail(void)
{
	if (!late || is_teardown_thread ||
	    !atomic_load_explicit(&teardown_started, memory_order_relaxed) ||
	    atomic_load_explicit(&threads_joined, memory_order_relaxed) ||
	    atomic_exchange_explicit(&tail_taken, true, memory_order_relaxed))
		return;
	scenario_note("has given up its hold; stops before its last touches");
	scenario_note("%s; makes its last touches", late_wait());
}

struct run {
	const struct scenario_variant *variant;
	void *reg;
	long expected_state;
	atomic_ulong served;
	atomic_ulong turned_away;
	unsigned teardown_delay;
};

static void *forced_reader(void *arg)
{
	struct run *run = arg;
	const struct scenario_variant *v = run->variant;
	long state;

	thread_role = "T1 callback";
	if (v->reader_start)
		v->reader_start(run->reg);
	scenario_note("enters the callback");
	state = v->callback(run->reg);
	if (state == SCENARIO_DECLINED)
		scenario_note("callback was turned away");
	else
		scenario_note("callback returned (state %ld)", state);
	atomic_store_explicit(&reader_finished, true, memory_order_relaxed);
	if (v->reader_stop)
		v->reader_stop(run->reg);
	return NULL;
}

static void *forced_teardown(void *arg)
{
	struct run *run = arg;

	thread_role = "T2 teardown";
	is_teardown_thread = true;
	atomic_store_explicit(&teardown_tid, (int)syscall(SYS_gettid), memory_order_relaxed);
	wait_or_die(&reader_holds_device, "the callback never reached SCENARIO_READER_WINDOW");
	scenario_note("starts teardown");
	atomic_store_explicit(&teardown_started, true, memory_order_relaxed);
	run->variant->teardown(run->reg);
	scenario_note("teardown returned");
	atomic_store_explicit(&teardown_returned, true, memory_order_relaxed);
	release_reader();
	return NULL;
}

static void spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int err = pthread_create(t, NULL, fn, arg);

	if (err)
		teardown_die("scenario", err, "pthread_create");
}

static void join(pthread_t t)
{
	int err = pthread_join(t, NULL);

	if (err)
		teardown_die("scenario", err, "pthread_join");
}

static void sem_init_or_die(sem_t *sem)
{
	if (sem_init(sem, 0, 0) != 0)
		teardown_die("scenario", errno, "sem_init");
}

static int run_forced(const struct scenario_variant *v, bool late_releaser)
{
	struct run run = { .variant = v, .expected_state = 42 };
	pthread_t reader, teardown;

	forced = true;
	late = late_releaser;
	sem_init_or_die(&reader_holds_device);
	sem_init_or_die(&teardown_went_as_far_as_it_can);
	run.reg = v->create(device_new(run.expected_state));
	spawn(&reader, forced_reader, &run);
	spawn(&teardown, forced_teardown, &run);
	join(reader);
	join(teardown);
	atomic_store_explicit(&threads_joined, true, memory_order_relaxed);
	v->destroy(run.reg);
	return finish("finished with no sanitizer report");
}

static void *stress_reader(void *arg)
{
	struct run *run = arg;
	const struct scenario_variant *v = run->variant;
	unsigned long served = 0;
	long state;

	if (v->reader_start)
		v->reader_start(run->reg);
	while ((state = v->callback(run->reg)) != SCENARIO_DECLINED) {
		if (state != run->expected_state) {
			fprintf(stderr, "scenario: callback read state %ld, device has %ld\n",
				state, run->expected_state);
			abort();
		}
		served++;
	}
	atomic_fetch_add(&run->served, served);
	atomic_fetch_add(&run->turned_away, 1);
	if (v->reader_stop)
		v->reader_stop(run->reg);
	return NULL;
}

static void *stress_teardown(void *arg)
{
	struct run *run = arg;

	/*
	 * Let the readers get going for a varying while: the overlap is what is being tested. A
	 * count of a few cycles a step, not a spin-wait's pause (26 ns a step on this machine's
	 * cores): the spread of start times must stay about as long as a reader's section.
	 */
	for (volatile unsigned i = 0; i < run->teardown_delay; i++)
		;
	run->variant->teardown(run->reg);
	return NULL;
}

static int run_stress(const struct scenario_variant *v, unsigned rounds)
{
	unsigned long served = 0, turned_away = 0;
	unsigned seed = 1;
	char summary[160];

	quiet = true;
	for (unsigned round = 0; round < rounds; round++) {
		struct run run = { .variant = v, .expected_state = round + 1 };
		pthread_t readers[STRESS_READERS], teardown;

		run.teardown_delay = rand_r(&seed) % 20000;
		run.reg = v->create(device_new(run.expected_state));
		for (int i = 0; i < STRESS_READERS; i++)
			spawn(&readers[i], stress_reader, &run);
		spawn(&teardown, stress_teardown, &run);
		for (int i = 0; i < STRESS_READERS; i++)
			join(readers[i]);
		join(teardown);
		v->destroy(run.reg);
		served += run.served;
		turned_away += run.turned_away;
	}
	snprintf(summary, sizeof(summary),
		 "stress: %u teardowns, %d readers, %lu callbacks served, %lu turned away; "
		 "no use after free", rounds, STRESS_READERS, served, turned_away);
	return finish(summary);
}

static const char *sanitizer(void)
{
	if (TEARDOWN_TSAN)
		return "thread";
	if (TEARDOWN_ASAN)
		return "address";
	return "none";
}

/*
 * One line per variant: name, expected report or "clean", the schedule the report is expected
 * in ("forced" or "late"; "all" for a clean variant, which runs clean in every schedule), story.
 */
static int list(const struct scenario_pattern *p)
{
	printf("pattern\t%s\t%s\nsanitizer\t%s\n", p->name, p->source_case, sanitizer());
	if (p->uses_membarrier)
		printf("fences\t%s\n", p->uses_membarrier() ? "membarrier" : "full");
	for (size_t k = 0; k < p->n_variants; k++) {
		const struct scenario_variant *v = &p->variants[k];

		if (v->schedule && (!v->expect || strcmp(v->schedule, "late"))) {
			fprintf(stderr, "variant %s: schedule \"%s\" is neither NULL nor \"late\" "
				"for a variant that expects a report\n", v->name, v->schedule);
			return 2;
		}
		printf("variant\t%s\t%s\t%s\t%s\n", v->name, v->expect ? v->expect : "clean",
		       !v->expect ? "all" : v->schedule ? v->schedule : "forced", v->story);
	}
	return 0;
}

static int usage(const char *argv0, const char *problem, const char *arg)
{
	if (problem && arg)
		fprintf(stderr, "%s: %s '%s'\n", argv0, problem, arg);
	else if (problem)
		fprintf(stderr, "%s: %s\n", argv0, problem);
	fprintf(stderr,
		"usage: %s --list\n"
		"       %s --variant NAME [--schedule forced|late|stress] [--rounds N]\n"
		"Runs one variant of the %s pattern in the forced schedule (the default), in the\n"
		"late schedule (the forced one, and a releaser's last touches wait until teardown\n"
		"has returned), or in a stress loop of N teardowns (default 300, at most %u).\n",
		argv0, argv0, scenario_pattern_under_test.name, SCENARIO_ROUNDS_MAX);
	return 2;
}

static int no_such_variant(const char *argv0, const struct scenario_pattern *p,
			   const char *variant)
{
	fprintf(stderr, "%s: no variant '%s' in pattern %s; its variants are:", argv0, variant,
		p->name);
	for (size_t k = 0; k < p->n_variants; k++)
		fprintf(stderr, "%s %s", k ? "," : "", p->variants[k].name);
	fprintf(stderr, "\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct scenario_pattern *p = &scenario_pattern_under_test;
	const char *variant = NULL, *schedule = "forced";
	unsigned rounds = 300;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--list"))
			return list(p);
		else if (!strcmp(argv[i], "--variant"))
			variant = args_value(argv[0], argc, argv, &i);
		else if (!strcmp(argv[i], "--schedule"))
			schedule = args_value(argv[0], argc, argv, &i);
		else if (!strcmp(argv[i], "--rounds"))
			rounds = (unsigned)args_number(argv[0], "--rounds",
						       args_value(argv[0], argc, argv, &i), 1,
						       SCENARIO_ROUNDS_MAX);
		else if (!strcmp(argv[i], "--help"))
			return usage(argv[0], NULL, NULL);
		else
			return usage(argv[0], "unknown option", argv[i]);
	}
	if (!variant)
		return usage(argv[0], "--variant NAME or --list is required", NULL);
	if (strcmp(schedule, "forced") && strcmp(schedule, "late") &&
	    strcmp(schedule, "stress")) {
		fprintf(stderr, "%s: no schedule '%s' (forced, late or stress)\n", argv[0],
			schedule);
		return 2;
	}
	for (size_t k = 0; k < p->n_variants; k++) {
		if (strcmp(p->variants[k].name, variant))
			continue;
		if (!strcmp(schedule, "stress"))
			return run_stress(&p->variants[k], rounds);
		return run_forced(&p->variants[k], !strcmp(schedule, "late"));
	}
	return no_such_variant(argv[0], p, variant);
}
