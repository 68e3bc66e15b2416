/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The remove lock and the device stack of patterns/remove_lock, as Spin sees them: an upper
 * filter sends NIRP IRPs (1 to 3) down to a lower driver while IRP_MN_REMOVE_DEVICE arrives, and
 * the remove handler frees the lower driver's extension, then the upper extension with the
 * remove lock in it.
 *
 * Processes: the remover (variants.c remove_teardown), one requester per IRP (variants.c
 * double_callback or single_callback), and with ASYNC the lower driver's DPC thread, which
 * completes pending IRPs (variants.c dpc_thread).
 *
 * Versions (spin -D):
 *   NAIVE      one acquisition, released in the completion routine
 *              (device_stack.h devstack_upper_dispatch_single): the documentation as read.
 *   (none)     the fix: a second acquisition held across IoCallDriver
 *              (devstack_upper_dispatch_double).
 *   ASYNC      the lower driver marks the IRP pending and its DPC completes it on another
 *              thread (variants.c double_async); combines with either of the above.
 *   NO_FENCE   the fix, with devstack_io_delete()'s seq_cst store of io->stack made a plain
 *              store (release): the one store-load pair of the stack, with devstack_io_lookup().
 *   NO_WAIT    the fix, with remove_lock_release_and_wait()'s wait loop removed.
 *   NO_WAKE    the fix, with remove_lock_release_slow()'s futex_wake_all() removed: the
 *              remover sleeps for ever (a lost wake-up, seen as an invalid end state).
 *
 * Safety: assertions that nothing is used after its free: the lower extension (ext_freed,
 * device_free in devstack_upper_remove_device), the upper extension and its remove lock
 * (stack_freed, free(s) in remove_teardown), and each IRP on its requester's stack (irp_gone).
 * The misuse checks of the C are assertions too. A process that sleeps on a futex no one wakes
 * ends the search in an invalid end state: that is the check for lost wake-ups.
 *
 * Memory: TSO (tso.pml). The remove lock itself is all read-modify-writes, which drain the
 * store buffer on x86, so TSO changes nothing there; the stack's look-up/delete pair is a
 * store-load pair, and NO_FENCE shows that it needs its fence.
 */

#ifndef NIRP
#define NIRP 1
#endif

/* Memory locations. */
#define WORD		0	/* upper->remove_lock.word: REMOVED | count */
#define STACK		1	/* io->stack: 1 while published, 0 once deleted */
#define LOOKUPS		2	/* io->lookups */
#define COMPLETED	3	/* irp->completed of IRP i is COMPLETED + i */
#define NVAR		(COMPLETED + NIRP)

/* Threads: the remover, one requester per IRP, the DPC. */
#define REMOVER		0
#define DPC		(NIRP + 1)
#define NTHR		(NIRP + 2)

#include "tso.pml"

#define REMOVED		128	/* REMOVE_LOCK_REMOVED (bit 31 in the C; bit 7 here) */
#define COUNT(w)	((w) & 127)	/* REMOVE_LOCK_COUNT_MASK */

bool ext_freed;			/* the lower driver's extension: device_free() */
bool stack_freed;		/* the upper extension with its remove lock: free(s) */
bool irp_gone[NIRP];		/* the IRP on the requester's stack, once it has returned */
chan start_io = [NIRP] of { byte };	/* the DPC's queue (variants.c dpc_start_io) */

/*
 * remove_lock.h remove_lock_release(): old = atomic_fetch_sub_explicit(&lock->word, 1, release),
 * then remove_lock_release_slow() when old shows count 0 (misuse) or REMOVED | 1 (wake).
 */
inline rl_release(t)
{
	d_step { TSO_FLUSH(t); assert(!stack_freed); rold = mem[WORD]; mem[WORD] = rold - 1 };
	/* remove_lock_release_slow(): "release without a matching acquire" is misuse */
	assert(COUNT(rold) != 0);
	if
	:: rold == (REMOVED | 1) ->
#ifndef NO_WAKE
		/* remove_lock_release_slow(): futex_wake_all(&lock->word), an address only */
		futex_wake(t, WORD)
#else
		skip
#endif
	:: else
	fi;
	rold = 0
}

/*
 * remove_lock.h remove_lock_acquire(): old = atomic_fetch_add_explicit(&lock->word, 1, acquire);
 * if REMOVED, remove_lock_acquire_slow() takes the increment back (remove_lock_release()) and
 * returns REMOVE_LOCK_DELETE_PENDING. got: 1 for REMOVE_LOCK_SUCCESS.
 */
inline rl_acquire(t, got)
{
	d_step { TSO_FLUSH(t); assert(!stack_freed); aold = mem[WORD]; mem[WORD] = aold + 1 };
	if
	:: aold & REMOVED -> rl_release(t); got = 0
	:: else -> got = 1
	fi;
	aold = 0
}

/* device_stack.h devstack_lookup_done() and the give-up path of devstack_io_lookup():
 * atomic_fetch_sub_explicit(&io->lookups, 1, release) == 1 -> futex_wake_all(&io->lookups). */
inline lookup_done(t)
{
	d_step { TSO_FLUSH(t); rold = mem[LOOKUPS]; mem[LOOKUPS] = rold - 1 };
	if
	:: rold == 1 -> futex_wake(t, LOOKUPS)
	:: else
	fi;
	rold = 0
}

/* The requester of IRP i, from look-up to its return. */
proctype requester(byte t; byte i)
{
	byte rold, aold, s, c;
	bool got;

	/* devstack_io_lookup(): atomic_fetch_add_explicit(&io->lookups, 1, seq_cst) */
	d_step { TSO_FLUSH(t); mem[LOOKUPS]++ };
	/* devstack_io_lookup(): s = atomic_load_explicit(&io->stack, seq_cst) */
	tso_load(t, STACK, s);
	if
	:: s == 0 -> lookup_done(t); goto out	/* the stack is gone: SCENARIO_DECLINED */
	:: else
	fi;
	/* devstack_upper_dispatch_*(): got = remove_lock_acquire(&upper->remove_lock, irp) */
	rl_acquire(t, got);
	/* devstack_lookup_done(irp): from here only the remove lock keeps the stack alive */
	lookup_done(t);
	if
	:: !got -> goto out		/* devstack_fail_request(irp, DELETE_PENDING) */
	:: else
	fi;
#ifndef NAIVE
	/* devstack_upper_dispatch_double(): remove_lock_acquire(&upper->remove_lock, call_tag) */
	rl_acquire(t, got);
	if
	:: !got -> rl_release(t); goto out	/* "removal began in between" */
	:: else
	fi;
#endif
	/* devstack_call_driver() -> devstack_lower_dispatch(): irp->information = ext->state */
	assert(!ext_freed);
#ifndef ASYNC
	/*
	 * devstack_lower_dispatch(): devstack_complete_request(irp, status) ->
	 * devstack_upper_completion(): remove_lock_release(&upper->remove_lock, irp)
	 */
	rl_release(t);
#else
	/* devstack_lower_dispatch(): irp->pending = true; lower->start_io(...) (dpc_start_io) */
	start_io!i;
#endif
	/* devstack_lower_dispatch(): the tail, (void)device_read_state(ext) */
	assert(!ext_freed);
#ifndef NAIVE
	/* devstack_upper_dispatch_double(): remove_lock_release(&upper->remove_lock, call_tag) */
	rl_release(t);
#endif
#ifdef ASYNC
	/* devstack_wait_for_completion(): while (!load(&irp->completed, acquire)) futex_wait */
	do
	:: tso_load(t, COMPLETED + i, c);
		if
		:: c -> break
		:: else -> futex_wait_while(t, COMPLETED + i, 0)
		fi
	od;
#endif
out:
	irp_gone[i] = 1		/* the request returns: its IRP, on its stack, is gone */
}

/* variants.c dpc_thread(): completes each IRP the lower driver started. */
proctype dpc(byte t)
{
	byte rold, i;

end:	do
	:: start_io?i ->
		/* devstack_complete_request(): irp->status = status; irp->completion(...) */
		assert(!irp_gone[i]);
		/* devstack_upper_completion(): remove_lock_release(&upper->remove_lock, irp) */
		rl_release(t);
		/* devstack_complete_request(): irp->pending; store(&irp->completed, 1, release) */
		assert(!irp_gone[i]);
		tso_store(t, COMPLETED + i, 1);
		/* futex_wake_all(&irp->completed): an address only, even if the IRP is gone */
		futex_wake(t, COMPLETED + i)
	od
}

/* variants.c remove_teardown(): IRP_MN_REMOVE_DEVICE, then IoDeleteDevice, then free. */
proctype remover(byte t)
{
	byte rold, aold, old, w;
	bool got;

	/* devstack_upper_remove_device(): remove_lock_acquire(&upper->remove_lock, &remove_irp) */
	rl_acquire(t, got);
	assert(got);
	/* remove_lock_release_and_wait(): old = atomic_fetch_or_explicit(&lock->word, REMOVED) */
	d_step { TSO_FLUSH(t); assert(!stack_freed); old = mem[WORD]; mem[WORD] = old | REMOVED };
	assert(!(old & REMOVED));	/* misuse: release-and-wait called twice */
	assert(COUNT(old) != 0);	/* misuse: release-and-wait holding no acquisition */
	/* remove_lock_release_and_wait(): remove_lock_release(lock, tag) */
	rl_release(t);
#ifndef NO_WAIT
	/* while ((word = atomic_load_explicit(&lock->word, acquire)) != REMOVED)
	 *	futex_wait_while(&lock->word, word); */
	do
	:: tso_load(t, WORD, w);
		if
		:: w == REMOVED -> break
		:: else -> futex_wait_while(t, WORD, w)
		fi
	od;
#endif
	/* devstack_upper_remove_device(): device_free(upper->attached_to->extension) */
	ext_freed = 1;
	/* devstack_io_delete(): atomic_store_explicit(&io->stack, NULL, seq_cst) (mov; mfence) */
	tso_store(t, STACK, 0);
#ifndef NO_FENCE
	tso_fence(t);
#endif
	/* while ((n = atomic_load_explicit(&io->lookups, seq_cst)) != 0)
	 *	futex_wait_while(&io->lookups, n); */
	do
	:: tso_load(t, LOOKUPS, w);
		if
		:: w == 0 -> break
		:: else -> futex_wait_while(t, LOOKUPS, w)
		fi
	od;
	/* variants.c remove_teardown(): free(s), the upper extension and its remove lock */
	stack_freed = 1
}

init
{
	byte i;

	atomic {
		mem[STACK] = 1;		/* reg_create(): the stack is published */
		run remover(REMOVER);
		for (i : 0 .. NIRP - 1) {
			run requester(i + 1, i)
		}
#ifdef ASYNC
		run dpc(DPC);
#endif
		for (i : 0 .. NTHR - 1) {
			run drainer(i)
		}
	}
}
