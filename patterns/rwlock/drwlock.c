/* SPDX-License-Identifier: BSD-2-Clause */
/* drwlock: registration, membarrier set-up, the writer, and the readers' slow paths (drwlock.h). */
#define _GNU_SOURCE
#include "patterns/rwlock/drwlock.h"

#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"
#include "scenario/hooks.h"

/* Slot checks a writer makes, a few ns each, before it sleeps: read sections are short. */
#define DRWLOCK_SPINS 1000

bool drwlock_membarrier;

/* A tag that tells threads apart: the address of a thread-local, unique while the thread lives. */
static _Thread_local char drwlock_thread_tag_byte;

static uintptr_t drwlock_thread_tag(void)
{
	return (uintptr_t)&drwlock_thread_tag_byte;
}

/*
 * Decided once, before main() and so before any reader exists: a reader that had skipped its
 * fence while a writer relied on the reader's fence (or the reverse) would be a real bug.
 */
__attribute__((constructor)) static void drwlock_init_membarrier(void)
{
	drwlock_membarrier = asym_fence_setup("DRWLOCK_NO_MEMBARRIER");
}

bool drwlock_uses_membarrier(void)
{
	return drwlock_membarrier;
}

/* The writer's half of both store-load pairs in drwlock.h: a full barrier in every reader too. */
static void drwlock_writer_fence(void)
{
	asym_fence_heavy(drwlock_membarrier, "rwlock");
}

void drwlock_init(struct drwlock *l)
{
	int err;

	atomic_init(&l->writer, DRWLOCK_WRITER_NONE);
	err = pthread_mutex_init(&l->writers, NULL);
	if (err)
		teardown_die("rwlock", err, "pthread_mutex_init");
	atomic_init(&l->owner, 0);
	l->readers = NULL;
	l->n_readers = 0;
}

void drwlock_destroy(struct drwlock *l)
{
	/*
	 * Checked before taking writers: a write holder keeps that mutex, so the check would
	 * otherwise never be reached (the holder's own thread would deadlock on it). Relaxed: the
	 * write holder that matters here is the calling thread.
	 */
	if (atomic_load_explicit(&l->owner, memory_order_relaxed))
		teardown_misuse("rwlock", "drwlock_destroy while write-locked");
	pthread_mutex_lock(&l->writers);
	if (l->n_readers)
		teardown_misuse("rwlock", "drwlock_destroy with %u reader(s) still registered",
				l->n_readers);
	pthread_mutex_unlock(&l->writers);
	pthread_mutex_destroy(&l->writers);
}

void drwlock_reader_register(struct drwlock *l, struct drwlock_reader *r)
{
	/* Relaxed: the slot is the caller's own; UNREGISTERED is also what a zeroed slot holds. */
	uint32_t state = atomic_load_explicit(&r->state, memory_order_relaxed);

	if (state != DRWLOCK_UNREGISTERED && r->lock)
		teardown_misuse("rwlock", "drwlock_reader_register: this reader is already "
				"registered");
	/* Zeroed, or left so by unregister; the thread tag does not matter (we set it). */
	if (state != DRWLOCK_UNREGISTERED || r->lock || r->next)
		teardown_misuse("rwlock", "drwlock_reader_register: the slot is not zeroed (zero "
			       "it, or reuse it only after drwlock_reader_unregister)");
	pthread_mutex_lock(&l->writers);
	r->lock = l;
	r->thread = drwlock_thread_tag();
	r->next = l->readers;
	l->readers = r;
	l->n_readers++;
	/* Relaxed: writers find the slot through the registry, under the mutex we hold. */
	atomic_store_explicit(&r->state, DRWLOCK_IDLE | (drwlock_membarrier ? 0 : DRWLOCK_FENCED),
			      memory_order_relaxed);
	pthread_mutex_unlock(&l->writers);
}

void drwlock_reader_unregister(struct drwlock *l, struct drwlock_reader *r)
{
	uint32_t state = atomic_load_explicit(&r->state, memory_order_relaxed);

	if (state == DRWLOCK_UNREGISTERED || r->lock != l)
		teardown_misuse("rwlock", "drwlock_reader_unregister: this reader is not "
				"registered with this lock");
	if (state & DRWLOCK_READING)
		teardown_misuse("rwlock", "drwlock_reader_unregister inside a read section");
	pthread_mutex_lock(&l->writers);
	for (struct drwlock_reader **link = &l->readers; *link; link = &(*link)->next) {
		if (*link == r) {
			*link = r->next;
			break;
		}
	}
	l->n_readers--;
	r->lock = NULL;
	r->next = NULL;
	atomic_store_explicit(&r->state, DRWLOCK_UNREGISTERED, memory_order_relaxed);
	pthread_mutex_unlock(&l->writers);
}

static void drwlock_read_misuse(struct drwlock *l, struct drwlock_reader *r, uint32_t state,
				bool locking) __attribute__((noreturn, cold));

static void drwlock_read_misuse(struct drwlock *l, struct drwlock_reader *r, uint32_t state,
				bool locking)
{
	const char *op = locking ? "lock" : "unlock";

	if (state == DRWLOCK_UNREGISTERED || r->lock != l)
		teardown_misuse("rwlock", "drwlock_read_%s on a thread whose reader is not "
				"registered with this lock (drwlock_reader_register)", op);
	if (locking)
		teardown_misuse("rwlock", "drwlock_read_lock inside a read section on the same "
				"reader (read sections do not nest)");
	teardown_misuse("rwlock", "drwlock_read_unlock without a matching drwlock_read_lock");
}

/* quote: read_lock_fenced */
/* The fast path's state check failed: a slot registered without membarrier, or misuse. */
void drwlock_read_lock_fenced_slow(struct drwlock *l, struct drwlock_reader *r)
{
	uint32_t state = atomic_load_explicit(&r->state, memory_order_relaxed);

	if (state != (DRWLOCK_IDLE | DRWLOCK_FENCED) || r->lock != l)
		drwlock_read_misuse(l, r, state, true);
	atomic_store_explicit(&r->state, state | DRWLOCK_READING, memory_order_relaxed);
	teardown_smp_mb();	/* no membarrier: the reader pays the store-load fence itself */
	/* Acquire: as on the fast path. */
	if (atomic_load_explicit(&l->writer, memory_order_acquire) != DRWLOCK_WRITER_NONE)
		drwlock_read_lock_slow(l, r);
}
/* end quote: read_lock_fenced */

void drwlock_read_unlock_fenced_slow(struct drwlock *l, struct drwlock_reader *r)
{
	uint32_t state = atomic_load_explicit(&r->state, memory_order_relaxed);

	if (state != (DRWLOCK_IDLE | DRWLOCK_FENCED | DRWLOCK_READING) || r->lock != l)
		drwlock_read_misuse(l, r, state, false);
	/* Release: as on the fast path; then the fence the writer's membarrier would have been. */
	atomic_store_explicit(&r->state, state & ~DRWLOCK_READING, memory_order_release);
	SCENARIO_RELEASER_TAIL();
	teardown_smp_mb();
	if (atomic_load_explicit(&l->writer, memory_order_relaxed) != DRWLOCK_WRITER_NONE)
		drwlock_wake_writer(r);
}

void drwlock_wake_writer(struct drwlock_reader *r)
{
	futex_wake_all(&r->state);
}

/* quote: read_lock_slow */
void drwlock_read_lock_slow(struct drwlock *l, struct drwlock_reader *r)
{
	uint32_t idle = atomic_load_explicit(&r->state, memory_order_relaxed) & ~DRWLOCK_READING;
	uint32_t w;

	/* Relaxed: only this thread ever stores its own tag there (write_lock, write_unlock). */
	if (atomic_load_explicit(&l->owner, memory_order_relaxed) == drwlock_thread_tag())
		teardown_misuse("rwlock", "drwlock_read_lock by the thread that holds the write "
				"lock (it would wait for itself forever)");
	do {
		/* Back off. Release: a writer's acquire scan that sees us not READING may go on. */
		atomic_store_explicit(&r->state, idle, memory_order_release);
		futex_wake_all(&r->state);	/* the writer may be asleep on our slot */
		SCENARIO_NOTE("drwlock: finds a writer; waits for it to leave");
		/* Relaxed: the acquire load below, after the wait, is the edge. */
		w = atomic_load_explicit(&l->writer, memory_order_relaxed);
		while (w != DRWLOCK_WRITER_NONE) {
			if (w == DRWLOCK_WRITER_HELD &&
			    !atomic_compare_exchange_weak_explicit(&l->writer, &w,
								   DRWLOCK_WRITER_HELD_WAITERS,
								   memory_order_relaxed,
								   memory_order_relaxed))
				continue;
			futex_wait_while(&l->writer, DRWLOCK_WRITER_HELD_WAITERS);
			w = atomic_load_explicit(&l->writer, memory_order_relaxed);
		}
		/* Try again, as on the fast path; the slow path can afford a real fence. */
		atomic_store_explicit(&r->state, idle | DRWLOCK_READING, memory_order_relaxed);
		teardown_smp_mb();
		/* Acquire: pairs with write_unlock's release; its section happens before ours. */
	} while (atomic_load_explicit(&l->writer, memory_order_acquire) != DRWLOCK_WRITER_NONE);
}
/* end quote: read_lock_slow */

/* quote: wait_for_reader */
/* Returns once r is outside any read section; its last section happens before our return. */
static void drwlock_wait_for_reader(struct drwlock_reader *r)
{
	unsigned spins = 0;
	uint32_t state;

	/* Acquire: pairs with read_unlock's release store of IDLE (and with the slow path's). */
	while ((state = atomic_load_explicit(&r->state, memory_order_acquire)) & DRWLOCK_READING) {
		if (r->thread == drwlock_thread_tag())
			teardown_misuse("rwlock", "drwlock_write_lock inside a read section of the "
				       "same thread (it would wait for itself forever)");
		if (spins++ < DRWLOCK_SPINS) {
			teardown_cpu_relax();
			continue;
		}
		SCENARIO_NOTE("drwlock: a reader is inside its read section; sleeps on its slot");
		SCENARIO_TEARDOWN_BLOCKS();
		futex_wait_while(&r->state, state);
	}
}
/* end quote: wait_for_reader */

/* quote: write_lock */
void drwlock_write_lock(struct drwlock *l)
{
	if (atomic_load_explicit(&l->owner, memory_order_relaxed) == drwlock_thread_tag())
		teardown_misuse("rwlock", "drwlock_write_lock twice on one thread (it would wait "
			       "for itself forever)");
	pthread_mutex_lock(&l->writers);
	/* Relaxed: only this thread compares the owner with its own tag (above, and in unlock). */
	atomic_store_explicit(&l->owner, drwlock_thread_tag(), memory_order_relaxed);
	/* Relaxed: the store half of the store-load pair; the writer fence orders it. */
	atomic_store_explicit(&l->writer, DRWLOCK_WRITER_HELD, memory_order_relaxed);
	drwlock_writer_fence();	/* membarrier: a full barrier in every running reader too */
	for (struct drwlock_reader *r = l->readers; r; r = r->next)
		drwlock_wait_for_reader(r);
	SCENARIO_NOTE("drwlock: write lock taken (no reader inside)");
}
/* end quote: write_lock */

void drwlock_write_unlock(struct drwlock *l)
{
	if (atomic_load_explicit(&l->owner, memory_order_relaxed) != drwlock_thread_tag())
		teardown_misuse("rwlock", "drwlock_write_unlock without drwlock_write_lock on this "
			       "thread");
	atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
	/* Release: pairs with read_lock's acquire load; our section precedes later readers'. */
	if (atomic_exchange_explicit(&l->writer, DRWLOCK_WRITER_NONE, memory_order_release) ==
	    DRWLOCK_WRITER_HELD_WAITERS)
		futex_wake_all(&l->writer);
	pthread_mutex_unlock(&l->writers);
}
