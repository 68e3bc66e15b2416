/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * drwlock: a distributed reader-writer lock (a "big reader" lock). Each reader thread owns a
 * slot on a cache line of its own and writes nothing else; the writer raises one shared flag,
 * then visits every slot. Two CPUs taking the read lock at once therefore never pass a cache
 * line back and forth, which is what makes pthread_rwlock_rdlock cost ~50 ns on two CPUs here.
 * The writer pays instead: a membarrier(2) and a scan of every registered reader.
 *
 * Why it is enough (mutual exclusion). Each side stores, then loads what the other stored:
 *   reader, read_lock:   slot = READING ; load writer
 *   writer, write_lock:  writer = HELD ; load every slot
 * This is the store-buffering pattern: with a full barrier between the store and the load on
 * both sides, at least one load sees the other side's store. The writer's barrier is
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes every running thread of the process
 * execute a full barrier at some point of its program before the call returns; so the reader's
 * side needs only a compiler barrier, and its read lock is a plain store and a plain load. Either
 * the reader sees the flag and backs off (it clears its slot and sleeps until the writer leaves),
 * or the writer sees the slot READING and waits for it to go back to IDLE.
 *
 * Why the writer's sleep is safe (no lost wake-up). The same pair, on read_unlock:
 *   reader:  slot = IDLE ; load writer (set? wake the slot)
 *   writer:  writer = HELD ; load slot (READING? sleep on it)
 * A reader the writer sleeps on had not stored IDLE before the writer's membarrier, so its
 * unlock's load of the flag comes after that barrier and sees HELD: it wakes the writer. The
 * futex re-checks the slot in the kernel, so a wake that comes first is not lost either.
 *
 * Happens-before, which is what ThreadSanitizer checks (it models neither membarrier nor fences,
 * and needs neither here): read_unlock stores IDLE with release and the writer's scan loads it
 * with acquire, so a reader's section happens before the writer's section (and the free after
 * it); write_unlock stores the flag back to NONE with release and read_lock loads it with
 * acquire, so a writer's section happens before every later reader's. The membarrier only
 * decides which values those loads see, and TSan checks the execution it gets.
 *
 * Without membarrier (an old kernel, seccomp, or DRWLOCK_NO_MEMBARRIER=1 in the environment at
 * start-up) the reader executes a full fence itself: the textbook store-buffering argument.
 *
 * Writers exclude each other with a mutex held from write_lock to write_unlock, which also keeps
 * the registry still. A stream of writers can starve readers; readers cannot starve a writer
 * (once the flag is up, new readers wait). Misuse aborts with "teardown: rwlock: misuse: ...".
 */
#ifndef TEARDOWN_PATTERNS_RWLOCK_DRWLOCK_H
#define TEARDOWN_PATTERNS_RWLOCK_DRWLOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "patterns/common/asymmetric_fence.h"
#include "patterns/common/compiler.h"
#include "scenario/hooks.h"

/*
 * A reader slot's state. The writer waits while the READING bit is set, asleep on the slot (a
 * futex word). FENCED marks a slot whose owner pays the full fence itself (no membarrier): the
 * fast paths below accept only IDLE and IDLE | READING, so one compare both catches misuse and
 * sends a fenced slot to the out-of-line path. A second compare, of the slot's lock with the
 * lock asked for, catches a slot used with the wrong lock in either mode. Both read the slot's
 * own line; the fast path loads nothing global but the writer flag.
 */
#define DRWLOCK_UNREGISTERED 0u
#define DRWLOCK_READING 1u
#define DRWLOCK_IDLE 2u
#define DRWLOCK_FENCED 4u

/* The writer flag: no writer, a writer holds or is taking the lock, and readers sleep on it. */
#define DRWLOCK_WRITER_NONE 0u
#define DRWLOCK_WRITER_HELD 1u
#define DRWLOCK_WRITER_HELD_WAITERS 2u

struct drwlock;

/* One per reader thread and lock: the slot. Its line is written only by its owner. */
struct drwlock_reader {
	/* written by the owner only; read by writers */
	TEARDOWN_CACHE_ALIGNED _Atomic uint32_t state;
	struct drwlock *lock;		/* the owner's: the lock it is registered with */
	uintptr_t thread;		/* the owner's thread tag, for the self-deadlock check */
	struct drwlock_reader *next;	/* the registry, under lock->writers */
};

struct drwlock {
	/* Loaded by every reader on lock and unlock, stored by writers only: a line of its own. */
	TEARDOWN_CACHE_ALIGNED _Atomic uint32_t writer;
	/* Writers and registration only. */
	TEARDOWN_CACHE_ALIGNED pthread_mutex_t writers;	/* one writer; the registry */
	_Atomic uintptr_t owner;	/* the writing thread's tag, for misuse checks */
	struct drwlock_reader *readers;
	unsigned n_readers;
};

void drwlock_init(struct drwlock *l);
/* Aborts if readers are still registered or the lock is write-held. */
void drwlock_destroy(struct drwlock *l);

/*
 * Registers the calling thread's slot r with l; the thread uses r for every read lock of l.
 * r must be zeroed ({ 0 }, calloc) or unregistered: anything else aborts, since a slot in use
 * and a stale one look alike.
 */
void drwlock_reader_register(struct drwlock *l, struct drwlock_reader *r);
/* Outside any read section. Afterwards r may be freed (or go out of scope). */
void drwlock_reader_unregister(struct drwlock *l, struct drwlock_reader *r);

/*
 * Blocks until no reader is inside a read section, and keeps new ones out until unlock. Aborts
 * if the calling thread's own slot is inside a read section of l (it would wait for itself);
 * drwlock_read_lock aborts likewise in the thread that holds the write lock.
 */
void drwlock_write_lock(struct drwlock *l);
void drwlock_write_unlock(struct drwlock *l);

bool drwlock_uses_membarrier(void);

/*
 * Not API: decided before main() (drwlock.c); each slot copies it (as FENCED) when it
 * registers. The unit tests clear it to run the fenced mode; nothing else writes it.
 */
extern bool drwlock_membarrier;

/* private: called only by the inline functions below; not API */
/* A writer is in the way: back off, sleep until it leaves, try again. */
void drwlock_read_lock_slow(struct drwlock *l, struct drwlock_reader *r);
/* The slot's state was not the fast path's: a fenced slot (no membarrier), or misuse. */
void drwlock_read_lock_fenced_slow(struct drwlock *l, struct drwlock_reader *r);
void drwlock_read_unlock_fenced_slow(struct drwlock *l, struct drwlock_reader *r);
/* A writer may be asleep on our slot. */
void drwlock_wake_writer(struct drwlock_reader *r);

/* quote: read_lock */
static inline void drwlock_read_lock(struct drwlock *l, struct drwlock_reader *r)
{
	/*
	 * Relaxed: our own slot; no other thread writes it. Not IDLE: fenced, or misuse. Not
	 * registered with l: misuse, caught here too (one more load from the slot's line).
	 */
	if (teardown_unlikely(atomic_load_explicit(&r->state, memory_order_relaxed) !=
			      DRWLOCK_IDLE || r->lock != l)) {
		drwlock_read_lock_fenced_slow(l, r);
		return;
	}
	/*
	 * Relaxed store, then a compiler barrier: the store half of the store-load pair with
	 * drwlock_write_lock() (flag, membarrier, scan); the membarrier is the hardware fence.
	 */
	atomic_store_explicit(&r->state, DRWLOCK_IDLE | DRWLOCK_READING, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	/* Acquire: pairs with write_unlock's release; the last writer's section precedes ours. */
	if (teardown_unlikely(atomic_load_explicit(&l->writer, memory_order_acquire) !=
			      DRWLOCK_WRITER_NONE))
		drwlock_read_lock_slow(l, r);
}
/* end quote: read_lock */

/* quote: read_unlock */
static inline void drwlock_read_unlock(struct drwlock *l, struct drwlock_reader *r)
{
	if (teardown_unlikely(atomic_load_explicit(&r->state, memory_order_relaxed) !=
			      (DRWLOCK_IDLE | DRWLOCK_READING) || r->lock != l)) {
		drwlock_read_unlock_fenced_slow(l, r);
		return;
	}
	/*
	 * Release: pairs with the writer's acquire scan; our section happens before its section.
	 * From here on the writer may run, and free what it guards: we touch only the lock (which
	 * outlives it) and our own slot.
	 */
	atomic_store_explicit(&r->state, DRWLOCK_IDLE, memory_order_release);
	SCENARIO_RELEASER_TAIL();
	/* Store-load again: our slot, then the flag (the writer: flag, then our slot, sleep). */
	atomic_signal_fence(memory_order_seq_cst);
	/* Relaxed: only decides whether to wake; the slot store above is the edge. */
	if (teardown_unlikely(atomic_load_explicit(&l->writer, memory_order_relaxed) !=
			      DRWLOCK_WRITER_NONE))
		drwlock_wake_writer(r);
}
/* end quote: read_unlock */

#endif /* TEARDOWN_PATTERNS_RWLOCK_DRWLOCK_H */
