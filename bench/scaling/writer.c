/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writer-side latency against the number of registered reader threads: 1, 4, 16, 64 and 256.
 *
 * idle	  every reader registers, then parks on a futex until the run ends: it costs no CPU,
 *	  so what grows with N is the writer's own work (the registry scan, the shard walk,
 *	  membarrier), which a 2-CPU machine can measure as well as a large one.
 * active  every reader runs its read side in a loop, on the CPUs other than the writer's
 *	  (pinned round-robin; here all share CPU 1). Only 1, 4 and 16: with more, a reader
 *	  preempted inside its section holds a spinning writer for a whole scheduling round.
 *
 * Each row states its readers' duty cycle, measured: "duty" is the readers' CPU time over N times
 * the wall time of the run, the fraction of the time each reader was on a CPU (about 0 idle,
 * about 1/N for N active readers sharing one CPU).
 *
 * The labs with an asymmetric fence run in the mode their variable selects; writer_fenced sets
 * every such variable before the labs decide (fenced_mode.c) and names those rows "_fenced".
 */
#define _GNU_SOURCE
#include "bench/scaling/writer.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/common/futex.h"
#include "patterns/epoch/tepoch.h"
#include "patterns/rcu/trcu.h"
#include "patterns/rcu/trcu_qsbr.h"
#include "patterns/remove_lock/remove_lock.h"
#include "patterns/rundown/rundown.h"
#include "patterns/rundown/rundown_ca.h"
#include "patterns/rwlock/drwlock.h"

struct scaling_object scaling_object = { .field = 1 };

/* ---- The readers ---- */

static const int reader_counts[] = { 1, 4, 16, 64, 256 };
#define ACTIVE_MAX_READERS 16
#define READER_STACK (256 * 1024)

struct readers {
	const struct scaling_op *op;
	int n;
	bool active;
	pthread_t thread[SCALING_MAX_READERS];
	struct { int i; struct readers *all; } arg[SCALING_MAX_READERS];
	atomic_bool stop;
	_Atomic uint32_t park;		/* futex: 0 while idle readers stay parked */
	atomic_int running;
	_Atomic long cpu_ns;		/* the readers' CPU time, summed as they exit */
	cpu_set_t writer_saved;
	long wall_start;
};

static struct readers readers;

static long clock_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void pin(pthread_t t, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)pthread_setaffinity_np(t, sizeof(set), &set);	/* best effort */
}

static int ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* The CPUs active readers share: all but the writer's CPU 0 (or CPU 0 itself on one CPU). */
static int reader_cpus(void)
{
	return ncpus() > 1 ? ncpus() - 1 : 1;
}

static void *reader_main(void *p)
{
	int i = *(int *)p;
	struct readers *r = readers.arg[i].all;
	const struct scaling_op *op = r->op;
	long cpu0;

	op->reader_register(i);
	cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (r->active) {
		atomic_fetch_add(&r->running, 1);
		op->read_loop(i, &r->stop);
	} else {
		if (op->reader_park)
			op->reader_park(i);
		atomic_fetch_add(&r->running, 1);
		while (!atomic_load(&r->park))
			futex_wait_while(&r->park, 0);
		if (op->reader_unpark)
			op->reader_unpark(i);
	}
	atomic_fetch_add(&r->cpu_ns, clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0);
	op->reader_unregister(i);
	return NULL;
}

static void readers_start(const struct scaling_op *op, int n, bool active)
{
	pthread_attr_t attr;
	int err;

	readers.op = op;
	readers.n = n;
	readers.active = active;
	atomic_store(&readers.stop, false);
	atomic_store(&readers.park, 0);
	atomic_store(&readers.running, 0);
	atomic_store(&readers.cpu_ns, 0);
	if (sched_getaffinity(0, sizeof(readers.writer_saved), &readers.writer_saved))
		teardown_die("scaling", errno, "sched_getaffinity");
	pin(pthread_self(), 0);
	err = pthread_attr_init(&attr);
	if (!err)
		err = pthread_attr_setstacksize(&attr, READER_STACK);
	if (err)
		teardown_die("scaling", err, "pthread_attr");
	for (int i = 0; i < n; i++) {
		readers.arg[i].i = i;
		readers.arg[i].all = &readers;
		err = pthread_create(&readers.thread[i], &attr, reader_main, &readers.arg[i].i);
		if (err)
			teardown_die("scaling", err, "pthread_create (reader %d of %d)", i, n);
		if (active)
			pin(readers.thread[i], ncpus() > 1 ? 1 + i % reader_cpus() : 0);
	}
	pthread_attr_destroy(&attr);
	while (atomic_load(&readers.running) < n)
		sched_yield();
	readers.wall_start = clock_ns(CLOCK_MONOTONIC);
}

/* Stops and joins the readers; returns their duty cycle over the run. */
static double readers_stop(void)
{
	long wall = clock_ns(CLOCK_MONOTONIC) - readers.wall_start;
	int err;

	atomic_store(&readers.stop, true);
	atomic_store(&readers.park, 1);
	futex_wake_all(&readers.park);
	for (int i = 0; i < readers.n; i++)
		if ((err = pthread_join(readers.thread[i], NULL)))
			teardown_die("scaling", err, "pthread_join");
	err = pthread_setaffinity_np(pthread_self(), sizeof(readers.writer_saved),
				     &readers.writer_saved);
	if (err)
		teardown_die("scaling", err, "pthread_setaffinity_np");
	if (wall <= 0)
		return 0;
	return (double)atomic_load(&readers.cpu_ns) / ((double)readers.n * (double)wall);
}

/* ---- One benchmark: an op, idle or active, N readers ---- */

/* The lab's variable as asym_fence_setup() reads it: set, and neither empty nor "0". */
static bool fenced(const struct scaling_op *op)
{
	const char *off = op->no_membarrier_env ? getenv(op->no_membarrier_env) : NULL;

	return off && *off && *off != '0';
}

static void run(bench_state *s, const struct scaling_op *op, bool active)
{
	int n = (int)bench_range(s, 0);
	int max = op->max_readers ? op->max_readers : SCALING_MAX_READERS;
	double membarrier = -1, duty;

	if (n > max) {
		bench_skip_with_error(s, "more readers than the pattern allows at once");
		return;
	}
	if (active && op->max_active_per_cpu && n > op->max_active_per_cpu * reader_cpus()) {
		bench_skip_with_error(s, op->why_not_more_active);
		return;
	}
	if (op->uses_membarrier) {
		membarrier = op->uses_membarrier();
		if (membarrier != !fenced(op)) {
			bench_skip_with_error(s, "the lab is not in the mode this row is "
						 "named for");
			return;
		}
	}
	if (op->setup)
		op->setup();
	readers_start(op, n, active);
	BENCH_LOOP(s)
		op->writer();
	duty = readers_stop();
	if (op->teardown)
		op->teardown();
	bench_counter(s, "readers", n, BENCH_COUNTER_PLAIN);
	bench_counter(s, "active", active, BENCH_COUNTER_PLAIN);
	bench_counter(s, "duty", duty, BENCH_COUNTER_PLAIN);
	bench_counter(s, "reader_cpus", active ? reader_cpus() : 0, BENCH_COUNTER_PLAIN);
	bench_counter(s, "membarrier", membarrier, BENCH_COUNTER_PLAIN);
}

/* ---- trcu, general flavour ---- */

static _Atomic(struct scaling_object *) trcu_slot = &scaling_object;

static void trcu_reader_register(int i)
{
	(void)i;
	trcu_register_thread();
}

static void trcu_read_loop(int i, const atomic_bool *stop)
{
	(void)i;
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		trcu_read_lock();
		scaling_use(trcu_dereference(trcu_slot));
		trcu_read_unlock();
	}
}

static void trcu_reader_unregister(int i)
{
	(void)i;
	trcu_unregister_thread();
}

static const struct scaling_op scaling_trcu = {
	.name = "trcu_synchronize",
	.uses_membarrier = trcu_uses_membarrier,
	.no_membarrier_env = "TRCU_NO_MEMBARRIER",
	.reader_register = trcu_reader_register,
	.read_loop = trcu_read_loop,
	.reader_unregister = trcu_reader_unregister,
	.writer = trcu_synchronize,
};

/* ---- trcu, QSBR flavour: a quiescent state every QSBR_EVERY reads; offline while parked ---- */

#define QSBR_EVERY 1024

static void qsbr_reader_register(int i)
{
	(void)i;
	trcu_qsbr_register_thread();
}

static void qsbr_read_loop(int i, const atomic_bool *stop)
{
	(void)i;
	for (unsigned k = 1; !atomic_load_explicit(stop, memory_order_relaxed); k++) {
		trcu_qsbr_read_lock();
		scaling_use(trcu_dereference(trcu_slot));
		trcu_qsbr_read_unlock();
		if (k % QSBR_EVERY == 0)
			trcu_qsbr_quiescent_state();
	}
}

static void qsbr_reader_unregister(int i)
{
	(void)i;
	trcu_qsbr_unregister_thread();
}

static void qsbr_park(int i)
{
	(void)i;
	trcu_qsbr_thread_offline();
}

static void qsbr_unpark(int i)
{
	(void)i;
	trcu_qsbr_thread_online();
}

static const struct scaling_op scaling_trcu_qsbr = {
	.name = "trcu_qsbr_synchronize",
	.reader_register = qsbr_reader_register,
	.read_loop = qsbr_read_loop,
	.reader_unregister = qsbr_reader_unregister,
	.reader_park = qsbr_park,
	.reader_unpark = qsbr_unpark,
	.writer = trcu_qsbr_synchronize,
};

/* ---- tepoch: one domain per run; the writer has its own record ---- */

static struct tepoch tepoch_domain;
static struct tepoch_record tepoch_records[SCALING_MAX_READERS + 1];	/* [reader], writer */

static void tepoch_setup(void)
{
	tepoch_init(&tepoch_domain);
	memset(&tepoch_records[SCALING_MAX_READERS], 0, sizeof(tepoch_records[0]));
	tepoch_register(&tepoch_domain, &tepoch_records[SCALING_MAX_READERS]);
}

static void tepoch_teardown(void)
{
	tepoch_unregister(&tepoch_records[SCALING_MAX_READERS]);
	tepoch_destroy(&tepoch_domain);
}

static void tepoch_reader_register(int i)
{
	memset(&tepoch_records[i], 0, sizeof(tepoch_records[i]));
	tepoch_register(&tepoch_domain, &tepoch_records[i]);
}

static void tepoch_read_loop(int i, const atomic_bool *stop)
{
	struct tepoch_record *r = &tepoch_records[i];

	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		tepoch_enter(r);
		scaling_use(atomic_load_explicit(&trcu_slot, memory_order_acquire));
		tepoch_exit(r);
	}
}

static void tepoch_reader_unregister(int i)
{
	tepoch_unregister(&tepoch_records[i]);
}

static void tepoch_writer(void)
{
	tepoch_synchronize(&tepoch_records[SCALING_MAX_READERS]);
}

static const struct scaling_op scaling_tepoch = {
	.name = "tepoch_synchronize",
	.uses_membarrier = tepoch_uses_membarrier,
	.no_membarrier_env = "TEPOCH_NO_MEMBARRIER",
	.setup = tepoch_setup,
	.teardown = tepoch_teardown,
	.reader_register = tepoch_reader_register,
	.read_loop = tepoch_read_loop,
	.reader_unregister = tepoch_reader_unregister,
	.writer = tepoch_writer,
};

/* ---- drwlock: each reader registers its slot with the lock ---- */

static struct drwlock drwlock;
static struct drwlock_reader drwlock_readers[SCALING_MAX_READERS];

static void drwlock_setup(void)
{
	drwlock_init(&drwlock);
}

static void drwlock_teardown(void)
{
	drwlock_destroy(&drwlock);
}

static void drwlock_reg(int i)
{
	memset(&drwlock_readers[i], 0, sizeof(drwlock_readers[i]));
	drwlock_reader_register(&drwlock, &drwlock_readers[i]);
}

static void drwlock_read_loop(int i, const atomic_bool *stop)
{
	struct drwlock_reader *r = &drwlock_readers[i];

	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		drwlock_read_lock(&drwlock, r);
		scaling_use(&scaling_object);
		drwlock_read_unlock(&drwlock, r);
	}
}

static void drwlock_unreg(int i)
{
	drwlock_reader_unregister(&drwlock, &drwlock_readers[i]);
}

static void drwlock_writer(void)
{
	drwlock_write_lock(&drwlock);
	drwlock_write_unlock(&drwlock);
}

static const struct scaling_op scaling_drwlock = {
	.name = "drwlock_write",
	.uses_membarrier = drwlock_uses_membarrier,
	.no_membarrier_env = "DRWLOCK_NO_MEMBARRIER",
	.setup = drwlock_setup,
	.teardown = drwlock_teardown,
	.reader_register = drwlock_reg,
	.read_loop = drwlock_read_loop,
	.reader_unregister = drwlock_unreg,
	.writer = drwlock_writer,
};

/* ---- One-word rundown: nothing to register; wait, then reinit for the next iteration ---- */

static struct rundown_ref rundown_ref = RUNDOWN_REF_INIT;

static void no_registration(int i)
{
	(void)i;
}

static void rundown_read_loop(int i, const atomic_bool *stop)
{
	(void)i;
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		if (rundown_acquire(&rundown_ref)) {
			scaling_use(&scaling_object);
			rundown_release(&rundown_ref);
		}
	}
}

static void rundown_writer(void)
{
	rundown_wait_for_release(&rundown_ref);
	rundown_reinit(&rundown_ref);
}

static const struct scaling_op scaling_rundown = {
	.name = "rundown_wait",
	.reader_register = no_registration,
	.read_loop = rundown_read_loop,
	.reader_unregister = no_registration,
	.writer = rundown_writer,
};

/* ---- Cache-aware rundown: one object per run; its threads register (at most 64) ---- */

static struct rundown_ca *rundown_ca;

static void rundown_ca_setup(void)
{
	rundown_ca = rundown_ca_new();
}

static void rundown_ca_teardown(void)
{
	rundown_ca_free(rundown_ca);
}

static void rundown_ca_reg(int i)
{
	(void)i;
	rundown_ca_register_thread();
}

static void rundown_ca_read_loop(int i, const atomic_bool *stop)
{
	(void)i;
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		if (rundown_ca_acquire(rundown_ca)) {
			scaling_use(&scaling_object);
			rundown_ca_release(rundown_ca);
		}
	}
}

static void rundown_ca_unreg(int i)
{
	(void)i;
	rundown_ca_unregister_thread();
}

static void rundown_ca_writer(void)
{
	rundown_ca_wait_for_release(rundown_ca);
	rundown_ca_reinit(rundown_ca);
}

static const struct scaling_op scaling_rundown_ca = {
	.name = "rundown_ca_wait",
	.uses_membarrier = rundown_ca_uses_membarrier,
	.no_membarrier_env = "RUNDOWN_CA_NO_MEMBARRIER",
	.max_readers = RUNDOWN_CA_MAX_THREADS,
	.setup = rundown_ca_setup,
	.teardown = rundown_ca_teardown,
	.reader_register = rundown_ca_reg,
	.read_loop = rundown_ca_read_loop,
	.reader_unregister = rundown_ca_unreg,
	.writer = rundown_ca_writer,
};

/*
 * ---- The remove lock: drain the live lock, then publish a fresh one ----
 *
 * A removed lock cannot be re-armed while readers may still touch it (an acquire that lost the
 * race releases its increment after the re-arm). So each iteration drains the lock the readers
 * use, then publishes a new, initialized one, held once by the writer as a remove handler holds
 * it. Drained locks stay allocated until the readers have exited: a reader may still load one.
 * The locks come in chunks of cache-line slots; the chunk allocation is timed, amortized.
 */

#define RL_CHUNK 4096

struct rl_slot {
	TEARDOWN_CACHE_ALIGNED struct remove_lock lock;
};

struct rl_chunk {
	struct rl_chunk *next;
	struct rl_slot *slots;
	int used;
};

static struct rl_chunk *rl_chunks;
static _Atomic(struct remove_lock *) rl_current;

static struct remove_lock *rl_fresh(void)
{
	struct remove_lock *l;

	if (!rl_chunks || rl_chunks->used == RL_CHUNK) {
		struct rl_chunk *c = teardown_malloc("scaling", sizeof(*c));

		c->slots = teardown_aligned_alloc("scaling", TEARDOWN_CACHE_LINE,
						  RL_CHUNK * sizeof(struct rl_slot));
		c->used = 0;
		c->next = rl_chunks;
		rl_chunks = c;
	}
	l = &rl_chunks->slots[rl_chunks->used++].lock;
	remove_lock_init(l);
	if (remove_lock_acquire(l, NULL) != REMOVE_LOCK_SUCCESS)	/* the remover's own */
		teardown_die("scaling", 0, "a fresh remove lock refused its first acquire");
	return l;
}

static void rl_setup(void)
{
	/* release: the readers' acquire load of the pointer sees the initialized lock. */
	atomic_store_explicit(&rl_current, rl_fresh(), memory_order_release);
}

static void rl_teardown(void)
{
	remove_lock_release_and_wait(atomic_load(&rl_current), NULL);
	while (rl_chunks) {
		struct rl_chunk *c = rl_chunks;

		rl_chunks = c->next;
		free(c->slots);
		free(c);
	}
}

static void rl_read_loop(int i, const atomic_bool *stop)
{
	(void)i;
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		/* acquire: pairs with the publish, for the lock's initialization. */
		struct remove_lock *l = atomic_load_explicit(&rl_current, memory_order_acquire);

		if (remove_lock_acquire(l, NULL) == REMOVE_LOCK_SUCCESS) {
			scaling_use(&scaling_object);
			remove_lock_release(l, NULL);
		}
	}
}

static void rl_writer(void)
{
	remove_lock_release_and_wait(atomic_load_explicit(&rl_current, memory_order_relaxed), NULL);
	/* release: pairs with the readers' acquire load of the pointer. */
	atomic_store_explicit(&rl_current, rl_fresh(), memory_order_release);
}

/*
 * A turned-away acquire increments the count, sees REMOVED and decrements again. With many active
 * readers sharing a CPU, some are always preempted between the two, and the count the drain waits
 * to see at zero stays above it: here one drain with 16 readers on one CPU took 104 s. Rows with
 * more than 4 active readers per CPU are skipped for that reason.
 */
static const struct scaling_op scaling_remove_lock = {
	.name = "remove_lock_drain",
	.max_active_per_cpu = 4,
	.why_not_more_active = "skipped: preempted turned-away acquires keep the count above zero, "
			       "and the drain starves (see writer.c)",
	.setup = rl_setup,
	.teardown = rl_teardown,
	.reader_register = no_registration,
	.read_loop = rl_read_loop,
	.reader_unregister = no_registration,
	.writer = rl_writer,
};

/* ---- Registration: one benchmark per op and mode, the reader count as its argument ---- */

#define SCALING_BENCH(op) \
	static void bm_##op##_idle(bench_state *s) { run(s, &scaling_##op, false); } \
	static void bm_##op##_active(bench_state *s) { run(s, &scaling_##op, true); }

SCALING_BENCH(trcu)
SCALING_BENCH(trcu_qsbr)
SCALING_BENCH(tepoch)
SCALING_BENCH(drwlock)
SCALING_BENCH(rundown)
SCALING_BENCH(rundown_ca)
SCALING_BENCH(remove_lock)
SCALING_BENCH(urcu_memb)
SCALING_BENCH(ck_epoch)

static void register_mode(const struct scaling_op *op, bench_fn *fn, bool active)
{
	char name[128];
	bench *b;

	snprintf(name, sizeof(name), "scaling/writer/%s%s/%s", op->name,
		 fenced(op) ? "_fenced" : "", active ? "active" : "idle");
	b = bench_use_real_time(bench_arg_name(bench_register(name, fn), "readers"));
	for (size_t k = 0; k < TEARDOWN_ARRAY_SIZE(reader_counts); k++)
		if (!active || reader_counts[k] <= ACTIVE_MAX_READERS)
			bench_arg(b, reader_counts[k]);
}

/*
 * writer_fenced (fenced_mode.c sets the variables) registers only the labs that have a fenced
 * mode: the others would repeat the plain binary's rows.
 */
static void register_op(const struct scaling_op *op, bench_fn *idle, bench_fn *active)
{
	if (getenv("SCALING_FENCED_ONLY") && !fenced(op))
		return;
	register_mode(op, idle, false);
	register_mode(op, active, true);
}

#define REGISTER_OP(op) register_op(&scaling_##op, bm_##op##_idle, bm_##op##_active)

BENCH_REGISTRATION(scaling_writer_register)
{
	REGISTER_OP(trcu);
	REGISTER_OP(trcu_qsbr);
	REGISTER_OP(tepoch);
	REGISTER_OP(drwlock);
	REGISTER_OP(rundown);
	REGISTER_OP(rundown_ca);
	REGISTER_OP(remove_lock);
	REGISTER_OP(urcu_memb);
	REGISTER_OP(ck_epoch);
}
