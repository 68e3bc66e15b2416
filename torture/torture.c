/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The torture run: every fix of every pattern, under load, for as long as asked, in the manner
 * of Linux's rcutorture.
 *
 * One writer publishes a new object through the pattern and tears down or retires the old one,
 * again and again; readers enter, use whatever object they find, and exit, in a loop. Every
 * object carries the generation stamped when it was published, and a poison written when it
 * goes back to the pool. The writer also records, in torture_done, the newest generation whose
 * wait or grace period has completed. A reader counts a failure when, while it holds an object,
 *  - the object is poisoned (its retirement has landed under the reader), or
 *  - torture_done has reached the object's generation: the writer has finished waiting for
 *    the object while a reader that the wait had to cover still holds it (rcutorture's pipe
 *    count: an object more than one step old after a completed grace period).
 * The second check fires as soon as the writer's wait returns, before the poison lands; the
 * first catches what the second cannot see (a kref destructor, a stale lower extension).
 *
 * Objects come from a pool and go back to it, never to malloc, in first-in first-out order:
 * a retired object keeps its poison until thousands of others have been used. So a plain -O2
 * build catches a late read by the poison, with no sanitizer. Under AddressSanitizer the pool
 * marks a retired object's checked line unaddressable (ASAN_POISON_MEMORY_REGION) until it is
 * reused: a late read is reported as a use after poison, as a use after free would be. Under
 * ThreadSanitizer the reader reads one plain field (payload) that the writer rewrites on
 * retirement: a reader section that does not happen before the retirement is reported as a
 * data race, even when the hardware let the read through in time.
 *
 * Why it can catch a missing fence on x86. drwlock, the cache-aware rundown, trcu and tepoch
 * order a reader's store (slot, shard, word) before its load of what the writer stored, against
 * the writer's store then scan: the store-buffering shape, the one reordering x86 makes. The
 * reader's store waits in its store buffer while its later load is already satisfied; if the
 * writer's scan falls in that window, both miss each other. Three things widen the window:
 *  - the reader stores to a few cache lines that the writer keeps writing just before it enters
 *    (torture_scribble): each needs the line back from the writer's cache, and the entry store
 *    queues behind them, invisible to the writer, while the loads after it go on;
 *  - one writer in a tight loop of publish, unpublish, wait, so that its scans come often;
 *  - readers that keep checking the object for a random while after finding it, so that the
 *    writer's done mark and poison land while they still hold it.
 * With the fences in place the buffer drains before the load, so none of this can make a
 * correct fix fail.
 *
 * Mixes. Each fix runs in two processes where it has a membarrier (the lab's *_NO_MEMBARRIER
 * is read once, by a constructor, so a mode is a process: the driver re-executes itself), and
 * in each through six mixes: 1, CPUs and 2 x CPUs readers, each without and with futex faults
 * (teardown_futex_fault() says yes now and then: a spurious wake-up or EINTR) and registration
 * churn (readers unregister and register again now and then).
 */
#define _GNU_SOURCE
#include "torture/torture.h"

#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "patterns/common/die.h"
#include "scenario/args.h"

#if TEARDOWN_ASAN
#include <sanitizer/asan_interface.h>
#define TORTURE_HIDE(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TORTURE_SHOW(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define TORTURE_HIDE(p, n) ((void)(p), (void)(n))
#define TORTURE_SHOW(p, n) ((void)(p), (void)(n))
#endif

#define TORTURE_POOL 4096
#define TORTURE_MIXES 6
#define TORTURE_TARGET 1000000ull	/* a default run's teardowns or grace periods per mode */
#define TORTURE_CAP_SECONDS 900	/* a default run stops here short of the target */
#define TORTURE_QUICK_CYCLES 100	/* per mix, in --quick */
#ifndef TORTURE_HANG_SECONDS
#define TORTURE_HANG_SECONDS 120	/* no writer cycle for this long: hung (a lost wake-up) */
#endif
#define TORTURE_SCRIBBLE_LINES 16
#define TORTURE_MAX_READERS 64

static const struct torture_fix *const torture_fixes[] = {
	&torture_flag, &torture_drwlock, &torture_rundown, &torture_kref, &torture_rundown_ca,
	&torture_remove_lock, &torture_trcu, &torture_trcu_qsbr, &torture_tepoch,
	&torture_registry, &torture_lookup,
	&torture_hazptr,
	&torture_percpu_ref,
	&torture_srcu,
};

static const char *const torture_no_membarrier_envs[] = {
	"DRWLOCK_NO_MEMBARRIER", "RUNDOWN_CA_NO_MEMBARRIER", "TRCU_NO_MEMBARRIER",
	"TEPOCH_NO_MEMBARRIER",
	"HAZPTR_NO_MEMBARRIER",
	"TSRCU_NO_MEMBARRIER",
};

/* The pool: a FIFO under a mutex (a kref destructor runs on whichever thread puts last). */
static struct {
	pthread_mutex_t lock;
	struct torture_obj *head, *tail;
	struct torture_obj *objs;
	uint64_t gen;	/* under lock */
} torture_pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

_Atomic uint64_t torture_done;

/* What the writer and the readers share with the main thread while a mix runs. */
static struct {
	const struct torture_fix *fix;
	const char *mode;
	struct timespec start;		/* of this fix and mode */
	_Atomic bool stop;		/* ends the current mix */
	_Atomic bool faults;		/* teardown_futex_fault() may say yes */
	_Atomic bool churn;		/* readers unregister and register again now and then */
	_Atomic uint64_t cycles;	/* writer cycles, all mixes */
	_Atomic uint64_t teardowns;	/* counted by torture_count_teardown() */
	_Atomic uint64_t target_ns;	/* when cycles reached TORTURE_TARGET; 0: not yet */
	_Atomic uint64_t first_failure_ns;	/* 0: none yet */
	_Atomic bool reported;		/* the first failure has been described */
	uint64_t hist[64 * 8];		/* writer latency, written by the writer only */
	uint64_t max_ns;
} torture_run;

/* Lines the writer dirties after every cycle and readers write before they enter. */
static struct {
	TEARDOWN_CACHE_ALIGNED _Atomic uint64_t word;
} torture_lines[TORTURE_SCRIBBLE_LINES];

static _Thread_local struct torture_reader *torture_current;
static _Thread_local uint64_t torture_fault_rng;

static uint64_t torture_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t torture_elapsed_ns(void)
{
	return torture_now_ns() - ((uint64_t)torture_run.start.tv_sec * 1000000000u +
				   (uint64_t)torture_run.start.tv_nsec);
}

/* The futex fault hook (patterns/common/futex.h): about one wait in 64 returns at once. */
bool teardown_futex_fault(void)
{
	if (!atomic_load_explicit(&torture_run.faults, memory_order_relaxed))
		return false;
	if (!torture_fault_rng)
		torture_fault_rng = (uintptr_t)&torture_fault_rng | 1;
	torture_fault_rng ^= torture_fault_rng << 13;
	torture_fault_rng ^= torture_fault_rng >> 7;
	torture_fault_rng ^= torture_fault_rng << 17;
	return (torture_fault_rng & 63) == 0;
}

static void torture_pool_init(void)
{
	torture_pool.objs = teardown_aligned_alloc("torture", TEARDOWN_CACHE_LINE,
						   TORTURE_POOL * sizeof(struct torture_obj));
	memset(torture_pool.objs, 0, TORTURE_POOL * sizeof(struct torture_obj));
	for (unsigned i = 0; i < TORTURE_POOL; i++) {
		struct torture_obj *o = &torture_pool.objs[i];

		atomic_init(&o->life, TORTURE_POISON);
		o->pool_next = i + 1 < TORTURE_POOL ? &torture_pool.objs[i + 1] : NULL;
		TORTURE_HIDE(o, offsetof(struct torture_obj, u));
	}
	torture_pool.head = &torture_pool.objs[0];
	torture_pool.tail = &torture_pool.objs[TORTURE_POOL - 1];
}

struct torture_obj *torture_obj_new(void)
{
	struct torture_obj *o;
	uint64_t gen;

	pthread_mutex_lock(&torture_pool.lock);
	o = torture_pool.head;
	if (!o)
		teardown_die("torture", 0, "the object pool is empty (%d objects out)",
			     TORTURE_POOL);
	torture_pool.head = o->pool_next;
	if (!torture_pool.head)
		torture_pool.tail = NULL;
	gen = ++torture_pool.gen;
	pthread_mutex_unlock(&torture_pool.lock);
	TORTURE_SHOW(o, offsetof(struct torture_obj, u));
	/* Relaxed: each fix publishes the object with a release store after this. */
	atomic_store_explicit(&o->gen, gen, memory_order_relaxed);
	atomic_store_explicit(&o->life, TORTURE_LIVE, memory_order_relaxed);
	o->payload = (long)gen;
	o->dev.canary = DEVICE_ALIVE;
	o->dev.state = (long)gen;
	return o;
}

void torture_count_teardown(void)
{
	atomic_fetch_add_explicit(&torture_run.teardowns, 1, memory_order_relaxed);
}

void torture_obj_retire(struct torture_obj *o, bool mark_done)
{
	uint64_t gen = atomic_load_explicit(&o->gen, memory_order_relaxed);
	uint64_t done = atomic_load_explicit(&torture_done, memory_order_relaxed);

	/* Relaxed: a reader that reads it is already wrong; nothing is published through it. */
	while (mark_done && done < gen &&
	       !atomic_compare_exchange_weak_explicit(&torture_done, &done, gen,
						      memory_order_relaxed, memory_order_relaxed))
		;
	atomic_store_explicit(&o->life, TORTURE_POISON, memory_order_relaxed);
	o->payload = -1;
	o->dev.canary = DEVICE_FREED;
	TORTURE_HIDE(o, offsetof(struct torture_obj, u));
	o->pool_next = NULL;
	pthread_mutex_lock(&torture_pool.lock);
	if (torture_pool.tail)
		torture_pool.tail->pool_next = o;
	else
		torture_pool.head = o;
	torture_pool.tail = o;
	pthread_mutex_unlock(&torture_pool.lock);
}

struct torture_reader *torture_self(void)
{
	return torture_current;
}

static void torture_failure(struct torture_reader *t, const struct torture_obj *o, uint64_t gen,
			    const char *what)
{
	uint64_t at = torture_elapsed_ns(), none = 0;

	atomic_fetch_add_explicit(&t->failures, 1, memory_order_relaxed);
	atomic_compare_exchange_strong_explicit(&torture_run.first_failure_ns, &none, at,
						memory_order_relaxed, memory_order_relaxed);
	if (!atomic_exchange_explicit(&torture_run.reported, true, memory_order_relaxed))
		fprintf(stderr, "torture: %s [%s]: FAILURE at %.3f s: reader %u holds object %p "
			"of generation %llu: %s\n", torture_run.fix->name, torture_run.mode,
			at / 1e9, t->id, (const void *)o, (unsigned long long)gen, what);
}

/*
 * Checks the object a random while (up to 127 pauses): long enough for a writer that
 * wrongly went ahead to mark it done and poison it while this reader still holds it.
 */
void torture_use(struct torture_reader *t, struct torture_obj *o)
{
	uint64_t gen = atomic_load_explicit(&o->gen, memory_order_relaxed);
	unsigned spins = torture_rand(t) & 127;

	if (o->payload != (long)gen)
		torture_failure(t, o, gen, "its payload was rewritten (retired and reused)");
	for (unsigned i = 0;; i++) {
		/* Relaxed: the pattern orders these; a value it failed to order is the finding. */
		if (atomic_load_explicit(&o->life, memory_order_relaxed) != TORTURE_LIVE) {
			torture_failure(t, o, gen, "it is poisoned (retired under the reader)");
			break;
		}
		if (atomic_load_explicit(&torture_done, memory_order_relaxed) >= gen) {
			torture_failure(t, o, gen, "the writer's wait for it has completed");
			break;
		}
		if (i >= spins)
			break;
		teardown_cpu_relax();
	}
	atomic_fetch_add_explicit(&t->reads, 1, memory_order_relaxed);
}

/* Half the time, 1 to 16 stores to lines the writer holds, just before the reader enters. */
void torture_scribble(struct torture_reader *t)
{
	uint64_t r = torture_rand(t);

	if (r & 1)
		return;
	for (unsigned i = 0; i <= (r >> 1 & (TORTURE_SCRIBBLE_LINES - 1)); i++)
		atomic_store_explicit(&torture_lines[i].word, r, memory_order_relaxed);
}

static void torture_writer_scribble(uint64_t cycle)
{
	for (unsigned i = 0; i < TORTURE_SCRIBBLE_LINES; i++)
		atomic_store_explicit(&torture_lines[i].word, cycle, memory_order_relaxed);
}

static void torture_record_latency(uint64_t ns)
{
	unsigned msb = ns ? 63 - (unsigned)__builtin_clzll(ns) : 0;
	unsigned sub = msb >= 3 ? (unsigned)(ns >> (msb - 3)) & 7 : (unsigned)ns & 7;

	torture_run.hist[msb * 8 + sub]++;
	if (ns > torture_run.max_ns)
		torture_run.max_ns = ns;
}

/* The lower bound of the bucket that holds the q-quantile of the writer's latency. */
static double torture_quantile_ns(double q)
{
	uint64_t total = 0, seen = 0;

	for (unsigned i = 0; i < TEARDOWN_ARRAY_SIZE(torture_run.hist); i++)
		total += torture_run.hist[i];
	for (unsigned i = 0; i < TEARDOWN_ARRAY_SIZE(torture_run.hist); i++) {
		seen += torture_run.hist[i];
		if (total && seen >= q * total) {
			unsigned msb = i / 8, sub = i % 8;

			return msb >= 3 ? (double)((8u + sub) << (msb - 3)) : (double)sub;
		}
	}
	return 0;
}

static void *torture_writer(void *arg)
{
	const struct torture_fix *fix = torture_run.fix;

	(void)arg;
	if (fix->writer_start)
		fix->writer_start();
	while (!atomic_load_explicit(&torture_run.stop, memory_order_relaxed)) {
		uint64_t t0 = torture_now_ns(), cycle;

		fix->update();
		torture_record_latency(torture_now_ns() - t0);
		cycle = atomic_fetch_add_explicit(&torture_run.cycles, 1, memory_order_relaxed) + 1;
		if (cycle == TORTURE_TARGET)
			atomic_store_explicit(&torture_run.target_ns, torture_elapsed_ns(),
					      memory_order_relaxed);
		torture_writer_scribble(cycle);
	}
	if (fix->writer_stop)
		fix->writer_stop();
	return NULL;
}

static void *torture_reader_main(void *arg)
{
	struct torture_reader *t = arg;
	const struct torture_fix *fix = torture_run.fix;

	torture_current = t;
	if (fix->reader_start)
		fix->reader_start(t);
	while (!atomic_load_explicit(&torture_run.stop, memory_order_relaxed)) {
		fix->read(t);
		if (fix->registers && (torture_rand(t) & 1023) == 0 &&
		    atomic_load_explicit(&torture_run.churn, memory_order_relaxed)) {
			fix->reader_stop(t);
			fix->reader_start(t);
		}
	}
	if (fix->reader_stop)
		fix->reader_stop(t);
	return NULL;
}

static uint64_t torture_sum(struct torture_reader *r, unsigned n, size_t field)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += atomic_load_explicit((_Atomic uint64_t *)((char *)&r[i] + field),
					    memory_order_relaxed);
	return sum;
}

struct torture_totals {
	uint64_t reads, declined, failures;
};

static void torture_progress(const char *mix, struct torture_totals *before,
			     struct torture_reader *r, unsigned n)
{
	fprintf(stderr, "torture: %s [%s] %6.1f s, %s: %llu cycles, %llu reads, %llu failures\n",
		torture_run.fix->name, torture_run.mode, torture_elapsed_ns() / 1e9, mix,
		(unsigned long long)atomic_load_explicit(&torture_run.cycles,
							 memory_order_relaxed),
		(unsigned long long)(before->reads +
				     torture_sum(r, n, offsetof(struct torture_reader, reads))),
		(unsigned long long)(before->failures +
				     torture_sum(r, n, offsetof(struct torture_reader, failures))));
}

struct torture_limits {
	uint64_t mix_ns;	/* 0: run the mix to mix_cycles */
	uint64_t mix_cycles;
	uint64_t hang_ns;	/* no writer cycle this long, or a count-bounded mix this long */
};

/* A writer or reader stuck in a wait that nobody ends cannot be joined: report, and leave. */
static void torture_hung(const char *mix, uint64_t cycles, uint64_t reads, uint64_t hang_ns)
{
	fprintf(stderr, "torture: %s [%s]: %s: no progress in %llu s (%llu cycles, %llu reads): "
		"hung\n", torture_run.fix->name, torture_run.mode, mix,
		(unsigned long long)(hang_ns / 1000000000u), (unsigned long long)cycles,
		(unsigned long long)reads);
	fflush(NULL);
	_exit(1);
}

static void torture_join(pthread_t thread, const char *mix, uint64_t cycles, uint64_t reads,
			 uint64_t hang_ns)
{
	struct timespec deadline;
	int err;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)(hang_ns / 1000000000u);
	err = pthread_timedjoin_np(thread, NULL, &deadline);
	if (err == ETIMEDOUT)
		torture_hung(mix, cycles, reads, hang_ns);
	if (err)
		teardown_die("torture", err, "pthread_timedjoin_np");
}

/*
 * Runs one mix to its limit; adds its readers' counts to *totals. A hang (a writer stuck in a
 * wait that nobody ends, as a lost wake-up leaves it) cannot be joined: it is reported, and
 * the process exits at once with failure.
 */
static void torture_mix(unsigned readers, bool faults, const struct torture_limits *lim,
			struct torture_totals *totals)
{
	struct torture_reader *r = teardown_aligned_alloc("torture", TEARDOWN_CACHE_LINE,
							  readers * sizeof(*r));
	uint64_t begin = torture_now_ns(), from = atomic_load(&torture_run.cycles), last = begin;
	uint64_t seen = 0, advanced = begin, done = 0, reads = 0;
	pthread_t writer, threads[TORTURE_MAX_READERS];
	char mix[64];
	int err;

	snprintf(mix, sizeof(mix), "%u reader%s%s", readers, readers == 1 ? "" : "s",
		 faults ? ", futex faults and churn" : "");
	memset(r, 0, readers * sizeof(*r));
	atomic_store(&torture_run.stop, false);
	atomic_store(&torture_run.faults, faults);
	atomic_store(&torture_run.churn, faults);
	for (unsigned i = 0; i < readers; i++) {
		r[i].id = i;
		r[i].rng = 0x9E3779B97F4A7C15ull * (i + 1) ^ begin;
		if ((err = pthread_create(&threads[i], NULL, torture_reader_main, &r[i])))
			teardown_die("torture", err, "pthread_create");
	}
	if ((err = pthread_create(&writer, NULL, torture_writer, NULL)))
		teardown_die("torture", err, "pthread_create");
	for (;;) {
		struct timespec tick = { 0, 10 * 1000 * 1000 };
		uint64_t now;

		nanosleep(&tick, NULL);
		now = torture_now_ns();
		done = atomic_load(&torture_run.cycles) - from;
		reads = torture_sum(r, readers, offsetof(struct torture_reader, reads));
		if (now - last >= 1000000000u) {
			torture_progress(mix, totals, r, readers);
			last = now;
		}
		if (lim->mix_ns ? now - begin >= lim->mix_ns
				: done >= lim->mix_cycles && reads >= lim->mix_cycles)
			break;
		if (done != seen) {
			seen = done;
			advanced = now;
		}
		if (now - advanced >= lim->hang_ns ||
		    (!lim->mix_ns && now - begin >= lim->hang_ns))
			torture_hung(mix, done, reads, lim->hang_ns);
	}
	atomic_store(&torture_run.stop, true);
	/* A thread that does not return within the bound after the stop is stuck: hung. */
	torture_join(writer, mix, done, reads, lim->hang_ns);
	for (unsigned i = 0; i < readers; i++)
		torture_join(threads[i], mix, done, reads, lim->hang_ns);
	totals->reads += torture_sum(r, readers, offsetof(struct torture_reader, reads));
	totals->declined += torture_sum(r, readers, offsetof(struct torture_reader, declined));
	totals->failures += torture_sum(r, readers, offsetof(struct torture_reader, failures));
	free(r);
}

static void torture_report(const struct torture_totals *tot, uint64_t ns)
{
	const struct torture_fix *fix = torture_run.fix;
	uint64_t cycles = atomic_load(&torture_run.cycles);
	uint64_t teardowns = atomic_load(&torture_run.teardowns);
	uint64_t target = atomic_load(&torture_run.target_ns);
	uint64_t first = atomic_load(&torture_run.first_failure_ns);
	double s = ns / 1e9;

	printf("%-12s %-10s %10llu %-13s in %6.1f s %9.0f/s", fix->name, torture_run.mode,
	       (unsigned long long)(teardowns ? teardowns : cycles), fix->unit, s,
	       (teardowns ? teardowns : cycles) / s);
	if (target)
		printf("  10^6 cycles after %.1f s", target / 1e9);
	printf("\n%-12s %-10s reads %llu checked, %llu declined; failures %llu", "", "",
	       (unsigned long long)tot->reads, (unsigned long long)tot->declined,
	       (unsigned long long)tot->failures);
	if (first)
		printf(" (first at %.3f s, %.2f/s)", first / 1e9, tot->failures / s);
	printf("\n%-12s %-10s writer cycle latency p50 %.2f us, p99 %.2f us, max %.1f us\n", "",
	       "", torture_quantile_ns(0.5) / 1e3, torture_quantile_ns(0.99) / 1e3,
	       torture_run.max_ns / 1e3);
	fflush(stdout);
}

/* One fix in one mode, in this process. Returns the exit status. */
static int torture_child(const struct torture_fix *fix, const char *mode, unsigned seconds,
			 bool quick)
{
	unsigned ncpu = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	unsigned counts[3] = { 1, ncpu, 2 * ncpu };
	struct torture_totals tot = { 0, 0, 0 };
	struct torture_limits lim = { 0, 0, (uint64_t)TORTURE_HANG_SECONDS * 1000000000u };
	bool ok = true;

	if (counts[2] > TORTURE_MAX_READERS)
		counts[2] = TORTURE_MAX_READERS;
	if (counts[1] > TORTURE_MAX_READERS)
		counts[1] = TORTURE_MAX_READERS;
	torture_run.fix = fix;
	torture_run.mode = mode;
	if (fix->uses_membarrier && fix->uses_membarrier() != !strcmp(mode, "membarrier"))
		fprintf(stderr, "torture: %s: note: asked for %s, but the lab says it %s "
			"membarrier (kernel or environment); running as the lab says\n",
			fix->name, mode, fix->uses_membarrier() ? "uses" : "does not use");
	if (quick)
		lim.mix_cycles = TORTURE_QUICK_CYCLES;
	else if (seconds)
		lim.mix_ns = (uint64_t)seconds * 1000000000u / TORTURE_MIXES;
	else
		lim.mix_ns = 2000000000u;
	torture_pool_init();
	fix->setup();
	clock_gettime(CLOCK_MONOTONIC, &torture_run.start);
	for (unsigned m = 0;; m = (m + 1) % TORTURE_MIXES) {
		torture_mix(counts[m / 2], m % 2, &lim, &tot);
		if (m + 1 < TORTURE_MIXES && (quick || seconds))
			continue;
		if (quick || seconds || (atomic_load(&torture_run.target_ns) && m + 1 ==
		    TORTURE_MIXES) || torture_elapsed_ns() >= TORTURE_CAP_SECONDS * 1000000000ull)
			break;
	}
	fix->cleanup();
	torture_report(&tot, torture_elapsed_ns());
	if (!seconds && !quick && !atomic_load(&torture_run.target_ns)) {
		printf("%-12s %-10s did not reach 10^6 cycles in %d s\n", fix->name, mode,
		       TORTURE_CAP_SECONDS);
		ok = false;
	}
	return ok && !tot.failures ? 0 : 1;
}

/* The driver: one child process per fix and mode, with the mode's environment. */
static int torture_spawn(const char *prog, const struct torture_fix *fix, const char *mode,
			 const char *const *extra)
{
	extern char **environ;
	size_t n = 0, k = 0;
	char **envp, *argv[8];
	pid_t pid;
	int status, err, a = 0;

	while (environ[n])
		n++;
	envp = teardown_calloc("torture", n + TEARDOWN_ARRAY_SIZE(torture_no_membarrier_envs) + 1,
			       sizeof(*envp));
	for (size_t i = 0; i < n; i++) {
		bool ours = false;

		for (size_t j = 0; j < TEARDOWN_ARRAY_SIZE(torture_no_membarrier_envs); j++) {
			size_t len = strlen(torture_no_membarrier_envs[j]);

			ours |= !strncmp(environ[i], torture_no_membarrier_envs[j], len) &&
				environ[i][len] == '=';
		}
		if (!ours)
			envp[k++] = environ[i];
	}
	if (!strcmp(mode, "fences")) {
		static char envs[TEARDOWN_ARRAY_SIZE(torture_no_membarrier_envs)][64];

		for (size_t j = 0; j < TEARDOWN_ARRAY_SIZE(torture_no_membarrier_envs); j++) {
			snprintf(envs[j], sizeof(envs[j]), "%s=1", torture_no_membarrier_envs[j]);
			envp[k++] = envs[j];
		}
	}
	envp[k] = NULL;
	argv[a++] = (char *)prog;
	argv[a++] = "--child";
	argv[a++] = (char *)fix->name;
	argv[a++] = (char *)mode;
	for (; *extra; extra++)
		argv[a++] = (char *)*extra;
	argv[a] = NULL;
	fflush(stdout);
	if ((err = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, envp)))
		teardown_die("torture", err, "posix_spawn /proc/self/exe");
	free(envp);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			teardown_die("torture", errno, "waitpid");
	if (WIFSIGNALED(status)) {
		printf("%-12s %-10s killed by signal %d\n", fix->name, mode, WTERMSIG(status));
		return 1;
	}
	return WEXITSTATUS(status);
}

static const struct torture_fix *torture_find(const char *name)
{
	for (size_t i = 0; i < TEARDOWN_ARRAY_SIZE(torture_fixes); i++)
		if (!strcmp(torture_fixes[i]->name, name))
			return torture_fixes[i];
	return NULL;
}

static void torture_usage(const char *prog, FILE *to)
{
	fprintf(to, "usage: %s [--pattern NAME] [--seconds N | --quick]\n"
		"  --pattern NAME  a lab (global_flag rwlock rundown remove_lock rcu epoch) "
		"or a fix:",
		prog);
	for (size_t i = 0; i < TEARDOWN_ARRAY_SIZE(torture_fixes); i++)
		fprintf(to, " %s", torture_fixes[i]->name);
	fprintf(to, "\n  --seconds N     each fix runs N seconds in each mode (default: until "
		"10^6 cycles)\n  --quick         %d cycles per mix: the test size\n",
		TORTURE_QUICK_CYCLES);
}

int main(int argc, char **argv)
{
	const char *prog = argv[0], *pattern = NULL, *extra[3] = { NULL, NULL, NULL };
	unsigned long seconds = 0;
	bool quick = false, matched = false;
	int failed = 0, runs = 0;
	char secs[24];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--child") && i + 2 < argc && i == 1) {
			const struct torture_fix *fix = torture_find(argv[2]);

			for (i = 4; i < argc; i++) {
				if (!strcmp(argv[i], "--quick"))
					quick = true;
				else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
					seconds = args_number(prog, "--seconds", argv[++i], 1,
							      86400);
				else
					teardown_die("torture", 0, "--child: unexpected '%s'",
						     argv[i]);
			}
			if (!fix)
				teardown_die("torture", 0, "--child: no fix %s", argv[2]);
			return torture_child(fix, argv[3], (unsigned)seconds, quick);
		} else if (!strcmp(argv[i], "--pattern")) {
			pattern = args_value(prog, argc, argv, &i);
		} else if (!strcmp(argv[i], "--seconds")) {
			seconds = args_number(prog, "--seconds",
					      args_value(prog, argc, argv, &i), 1, 86400);
		} else if (!strcmp(argv[i], "--quick")) {
			quick = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			torture_usage(prog, stdout);
			return 0;
		} else {
			fprintf(stderr, "%s: unknown argument '%s'\n", prog, argv[i]);
			torture_usage(prog, stderr);
			return ARGS_USAGE_EXIT;
		}
	}
	if (quick && seconds) {
		fprintf(stderr, "%s: --quick and --seconds exclude each other\n", prog);
		return ARGS_USAGE_EXIT;
	}
	if (quick) {
		extra[0] = "--quick";
	} else if (seconds) {
		snprintf(secs, sizeof(secs), "%lu", seconds);
		extra[0] = "--seconds";
		extra[1] = secs;
	}
	for (size_t i = 0; i < TEARDOWN_ARRAY_SIZE(torture_fixes); i++) {
		const struct torture_fix *fix = torture_fixes[i];

		if (pattern && strcmp(pattern, fix->name) && strcmp(pattern, fix->lab))
			continue;
		matched = true;
		runs++;
		failed += torture_spawn(prog, fix, fix->no_membarrier_env ? "membarrier" : "-",
					extra) != 0;
		if (fix->no_membarrier_env) {
			runs++;
			failed += torture_spawn(prog, fix, "fences", extra) != 0;
		}
	}
	if (!matched) {
		fprintf(stderr, "%s: --pattern: no lab or fix named '%s'\n", prog, pattern);
		torture_usage(prog, stderr);
		return ARGS_USAGE_EXIT;
	}
	printf("torture: %d of %d runs failed\n", failed, runs);
	return failed ? 1 : 0;
}
