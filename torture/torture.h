/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a fix plugs into the torture run (torture.c): the object every fix publishes, the
 * reader's check of it, and the table entry that names the fix's reader and writer.
 */
#ifndef TEARDOWN_TORTURE_TORTURE_H
#define TEARDOWN_TORTURE_TORTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "patterns/common/compiler.h"
#include "patterns/epoch/tepoch.h"
#include "patterns/rcu/trcu.h"
#include "patterns/remove_lock/device_stack.h"
#include "patterns/rundown/rundown_kref.h"
#include "scenario/device.h"

#define TORTURE_LIVE 0x11FE11FE11FE11FEull
#define TORTURE_POISON 0xDEADBEEFDEADBEEFull

/*
 * The object. Its first line is what readers check; it is poisoned when the object goes back
 * to the pool (and, under AddressSanitizer, the line is marked unaddressable until reuse). The
 * pattern's own per-object state sits on the next line, which a late acquirer may still touch.
 */
struct torture_obj {
	TEARDOWN_CACHE_ALIGNED _Atomic uint64_t gen;	/* stamped at publication */
	_Atomic uint64_t life;		/* TORTURE_LIVE, or TORTURE_POISON once retired */
	long payload;			/* plain: ThreadSanitizer sees a missing edge as a race */
	struct device dev;		/* the remove lock's lower extension; canary poisoned too */
	TEARDOWN_CACHE_ALIGNED union {
		struct rundown_kref kref;
		struct tepoch_entry entry;
		struct trcu_head head;
		struct {
			struct rundown_kref kref;
			struct trcu_head head;
		} lookup;
	} u;
	struct torture_obj *pool_next;
};

/* One reader thread. Its counters are atomics: the progress line reads them while it runs. */
struct torture_reader {
	TEARDOWN_CACHE_ALIGNED _Atomic uint64_t reads;	/* objects checked */
	_Atomic uint64_t declined;	/* turned away by a teardown in progress */
	_Atomic uint64_t failures;
	uint64_t rng;
	unsigned id;
	void *state;	/* the fix's per-thread state (a slot, a record) */
};

struct torture_fix {
	const char *name;	/* "drwlock" */
	const char *lab;	/* "rwlock": what --pattern also accepts */
	const char *unit;	/* what one writer cycle completes: "teardowns", "grace periods" */
	const char *no_membarrier_env;	/* the lab's *_NO_MEMBARRIER, or NULL */
	bool (*uses_membarrier)(void);	/* NULL if the fix has no membarrier */
	bool registers;		/* readers register: churn applies */
	void (*setup)(void);
	void (*reader_start)(struct torture_reader *t);	/* may be NULL */
	void (*reader_stop)(struct torture_reader *t);	/* may be NULL */
	void (*read)(struct torture_reader *t);	/* enter, use the object, exit */
	void (*writer_start)(void);	/* may be NULL */
	void (*update)(void);	/* publish a new object; tear down or retire the old one */
	void (*writer_stop)(void);	/* may be NULL */
	void (*cleanup)(void);	/* no thread left: retire what is still out */
};

extern const struct torture_fix torture_flag, torture_drwlock, torture_rundown,
	torture_kref, torture_rundown_ca, torture_remove_lock, torture_trcu, torture_trcu_qsbr,
	torture_tepoch, torture_registry, torture_lookup;
extern const struct torture_fix torture_hazptr;
extern const struct torture_fix torture_percpu_ref;
extern const struct torture_fix torture_srcu;

/* The highest generation whose retirement has completed (its grace period, its wait). */
extern _Atomic uint64_t torture_done;

/* A fresh object from the pool, stamped with the next generation and TORTURE_LIVE. */
struct torture_obj *torture_obj_new(void);
/*
 * The object is unreachable: poison it and put it back. mark_done: every object of an older
 * or equal generation is unreachable too (a wait or grace period covered it).
 */
void torture_obj_retire(struct torture_obj *o, bool mark_done);
/* Counts one teardown or grace period the writer's cycle does not count itself (kref). */
void torture_count_teardown(void);

/* The reader's use of an object it holds: checks it a while, counts a failure if it is dead. */
void torture_use(struct torture_reader *t, struct torture_obj *o);
/* Stores that queue up in the reader's store buffer before it enters (see torture.c). */
void torture_scribble(struct torture_reader *t);
struct torture_reader *torture_self(void);

static inline uint64_t torture_rand(struct torture_reader *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return t->rng;
}

#endif /* TEARDOWN_TORTURE_TORTURE_H */
