/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * drwlock, the distributed reader-writer lock (patterns/rwlock/drwlock.h, drwlock.c), guarding
 * the lab's ifnet (ifnet.h: read lock, re-check if_softc; teardown: write lock, unpublish,
 * unlock, free), on x86-TSO.
 *
 * Versions (spin -D):
 *   NAIVE            the no_recheck twin (variants.c): the reader loads if_softc before it
 *                    takes the read lock and uses what it loaded.
 *   (none)           the fix as written, with membarrier: the reader's store-load pair has a
 *                    compiler barrier only; the writer's membarrier flushes every buffer.
 *   FENCED           the fix without membarrier (DRWLOCK_NO_MEMBARRIER=1): each slot FENCED,
 *                    the reader's teardown_smp_mb() in drwlock_read_lock_fenced_slow() and
 *                    drwlock_read_unlock_fenced_slow(), and the writer's full fence.
 *   NO_WRITER_FENCE  the fix without drwlock_writer_fence() in drwlock_write_lock().
 *   NO_READER_FENCE  with FENCED: the fix without the teardown_smp_mb() in
 *                    drwlock_read_lock_fenced_slow() (the reader's own store-load fence).
 *   NO_UNLOCK_FENCE  with FENCED: the fix without the teardown_smp_mb() in
 *                    drwlock_read_unlock_fenced_slow() (after the slot store, before the
 *                    writer load): the writer may sleep for good (liveness).
 *   NO_UNLOCK_WAKE   the fix without drwlock_wake_writer() in drwlock_read_unlock() (liveness).
 *   NO_WRITER_WAKE   the fix without futex_wake_all(&l->writer) in drwlock_write_unlock().
 *   READERS=n        reader threads (default 2); CYCLES=n: read sections each (default 1).
 *
 * Safety: a reader that found the device under the read lock asserts it has not been freed.
 * Liveness (ltl proceeds): every reader and the writer return.
 * Not modelled: the writers' mutex (one writer), the registry (fixed slots), misuse checks,
 * the owner tag; the writer's DRWLOCK_SPINS spins before it sleeps (it sleeps at once; a spin
 * is a load that the futex's own check repeats). A weak compare-exchange is a strong one.
 */

/* ---- x86-TSO: memory, a store buffer per thread, membarrier, futexes --------------------- */
#ifndef READERS
#define READERS 2
#endif
#ifndef CYCLES
#define CYCLES 1
#endif
#define NT (READERS + 1)	/* threads: the readers, then the writer (teardown) */
#define WR READERS		/* the writer's thread number */
#define SB 3			/* store buffer entries per thread */

#define WRITER 0		/* struct drwlock: writer */
#define SOFTC 1			/* struct rwlock_ifnet: softc (0: unpublished) */
#define SLOT0 2			/* struct drwlock_reader: state, reader t's at SLOT0 + t */
#define NV (SLOT0 + READERS)

#define READING 1		/* DRWLOCK_READING */
#define IDLE 2			/* DRWLOCK_IDLE */
#define FENCED_BIT 4		/* DRWLOCK_FENCED */
#define W_NONE 0		/* DRWLOCK_WRITER_NONE */
#define W_HELD 1		/* DRWLOCK_WRITER_HELD */
#define W_WAITERS 2		/* DRWLOCK_WRITER_HELD_WAITERS */

#ifdef FENCED
#define SLOT_IDLE (IDLE | FENCED_BIT)
#else
#define SLOT_IDLE IDLE
#endif

byte mem[NV];
byte sb_a[NT * SB];		/* store buffer: address, value; oldest first */
byte sb_v[NT * SB];
byte sb_n[NT];
byte sleeping[NT];		/* futex: address + 1 the thread sleeps on; 0: awake */
bit freed;			/* ghost: teardown has freed the device */
byte finished;			/* ghost: threads that have returned */

/* A plain store (mov): into the buffer; it waits for room, as a full buffer stalls. */
inline STORE(th, addr, val)
{
	atomic {
		sb_n[th] < SB ->
		sb_a[th * SB + sb_n[th]] = addr;
		sb_v[th * SB + sb_n[th]] = val;
		sb_n[th]++
	}
}

/* A plain load (mov): the newest store to `a` in our own buffer, else memory. */
inline LOAD(th, addr, val)
{
	atomic {
		val = mem[addr];
		if
		:: sb_n[th] > 0 && sb_a[th * SB] == addr -> val = sb_v[th * SB]
		:: else
		fi;
		if
		:: sb_n[th] > 1 && sb_a[th * SB + 1] == addr -> val = sb_v[th * SB + 1]
		:: else
		fi;
		if
		:: sb_n[th] > 2 && sb_a[th * SB + 2] == addr -> val = sb_v[th * SB + 2]
		:: else
		fi
	}
}

/* The oldest buffered store reaches memory. */
inline DRAIN_ONE(th)
{
	mem[sb_a[th * SB]] = sb_v[th * SB];
	sb_a[th * SB] = sb_a[th * SB + 1];
	sb_v[th * SB] = sb_v[th * SB + 1];
	sb_a[th * SB + 1] = sb_a[th * SB + 2];
	sb_v[th * SB + 1] = sb_v[th * SB + 2];
	sb_a[th * SB + 2] = 0;
	sb_v[th * SB + 2] = 0;
	sb_n[th]--
}

/* mfence, or the drain that opens every lock-prefixed instruction. */
inline FENCE(th)
{
	atomic {
		do
		:: sb_n[th] > 0 -> DRAIN_ONE(th)
		:: else -> break
		od
	}
}

/*
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): a full barrier in the caller and in every
 * other thread, one thread after another (each at some point of its own program).
 */
inline MEMBARRIER(th)
{
	FENCE(th);
	_u = 0;
	do
	:: _u < NT -> FENCE(_u); _u++
	:: else -> break
	od;
	_u = 0
}

/* xchg */
inline EXCHANGE(th, addr, val, oldval)
{
	atomic {
		FENCE(th);
		oldval = mem[addr];
		mem[addr] = val
	}
}

/* lock cmpxchg (strong): `expect_val` is updated on failure, as in C. */
inline CAS(th, addr, expect_val, val, okay)
{
	atomic {
		FENCE(th);
		if
		:: mem[addr] == expect_val -> mem[addr] = val; okay = 1
		:: else -> expect_val = mem[addr]; okay = 0
		fi
	}
}

/*
 * futex_wait_while(word, expected): the kernel's full barrier (futex_wait's smp_mb before it
 * reads the word), then "sleep if the word still holds expected", atomically under the hash
 * bucket's lock; the thread runs again only when woken.
 */
inline FUTEX_WAIT(th, addr, expect_val)
{
	FENCE(th);
	atomic {
		if
		:: mem[addr] == expect_val -> sleeping[th] = addr + 1
		:: else
		fi
	}
	sleeping[th] == 0
}

/* futex_wake_all(word): the waker's full barrier, then every sleeper on the word runs again. */
inline FUTEX_WAKE(th, addr)
{
	FENCE(th);
	atomic {
		_u = 0;
		do
		:: _u < NT ->
			if
			:: sleeping[_u] == addr + 1 -> sleeping[_u] = 0
			:: else
			fi;
			_u++
		:: else -> break
		od;
		_u = 0
	}
}

/* Each thread's buffer drains to memory on its own, one store at a time, at any moment. */
proctype drain(byte t)
{
end:
	do
	:: atomic { sb_n[t] > 0 -> DRAIN_ONE(t) }
	od
}

/* ---- the reader -------------------------------------------------------------------------- */

/* drwlock_read_lock_slow() */
inline READ_LOCK_SLOW(t)
{
	/* uint32_t idle = atomic_load_explicit(&r->state, relaxed) & ~DRWLOCK_READING */
	LOAD(t, SLOT0 + t, s);
	idle = s & ~READING;
	do
	:: /* back off: atomic_store_explicit(&r->state, idle, release): mov */
		STORE(t, SLOT0 + t, idle);
		/* futex_wake_all(&r->state) */
		FUTEX_WAKE(t, SLOT0 + t);
		/* w = atomic_load_explicit(&l->writer, relaxed) */
		LOAD(t, WRITER, w);
		do
		:: w == W_NONE -> break
		:: w == W_HELD ->
			/* atomic_compare_exchange_weak_explicit(&l->writer, &w, HELD_WAITERS) */
			CAS(t, WRITER, w, W_WAITERS, ok);
			if
			:: ok ->
				/* futex_wait_while(&l->writer, HELD_WAITERS) */
				FUTEX_WAIT(t, WRITER, W_WAITERS);
				LOAD(t, WRITER, w)
			:: else	/* continue, with w updated */
			fi
		:: w == W_WAITERS ->
			FUTEX_WAIT(t, WRITER, W_WAITERS);
			LOAD(t, WRITER, w)
		od;
		/* atomic_store_explicit(&r->state, idle | READING, relaxed); teardown_smp_mb() */
		STORE(t, SLOT0 + t, idle | READING);
		FENCE(t);
		/* } while (atomic_load_explicit(&l->writer, acquire) != NONE) */
		LOAD(t, WRITER, w);
		if
		:: w == W_NONE -> break
		:: else
		fi
	od
}

/* drwlock_read_lock(), and drwlock_read_lock_fenced_slow() for a FENCED slot */
inline READ_LOCK(t)
{
	/* atomic_load_explicit(&r->state, relaxed) != DRWLOCK_IDLE: the fast path or not */
	LOAD(t, SLOT0 + t, s);
	/* atomic_store_explicit(&r->state, IDLE | READING, relaxed) (other: state | READING) */
	STORE(t, SLOT0 + t, s | READING);
#if defined(FENCED) && !defined(NO_READER_FENCE)
	FENCE(t);	/* read_lock_fenced_slow: teardown_smp_mb() */
#endif
	/* fast path: atomic_signal_fence(seq_cst), a compiler barrier: nothing on TSO */
	/* if (atomic_load_explicit(&l->writer, acquire) != DRWLOCK_WRITER_NONE) */
	LOAD(t, WRITER, w);
	if
	:: w != W_NONE -> READ_LOCK_SLOW(t)
	:: else
	fi
}

/* drwlock_read_unlock(), and drwlock_read_unlock_fenced_slow() for a FENCED slot */
inline READ_UNLOCK(t)
{
	LOAD(t, SLOT0 + t, s);
	/* atomic_store_explicit(&r->state, IDLE, release) (other: state & ~READING): mov */
	STORE(t, SLOT0 + t, s & ~READING);
#if defined(FENCED) && !defined(NO_UNLOCK_FENCE)
	FENCE(t);	/* read_unlock_fenced_slow: teardown_smp_mb() */
#endif
	/* fast path: atomic_signal_fence(seq_cst): nothing on TSO */
	/* if (atomic_load_explicit(&l->writer, relaxed) != DRWLOCK_WRITER_NONE) */
	LOAD(t, WRITER, w);
	if
	:: w != W_NONE ->
#ifndef NO_UNLOCK_WAKE
		/* drwlock_wake_writer(r): futex_wake_all(&r->state) */
		FUTEX_WAKE(t, SLOT0 + t)
#else
		skip
#endif
	:: else
	fi
}

proctype reader(byte t)
{
	byte s, w, idle, dev, n, _u;
	bit ok;

	do
	:: n < CYCLES ->
#ifdef NAIVE
		/* no_recheck_enter(): dev = atomic_load_explicit(&ifp->softc, relaxed) */
		LOAD(t, SOFTC, dev);
		if
		:: dev ->
			/* pthread_rwlock_rdlock(&ifp->rwlock): here drwlock_read_lock */
			READ_LOCK(t);
			assert(!freed);	/* the callback uses dev */
			READ_UNLOCK(t)
		:: else
		fi;
#else
		/* rwlock_ifnet_enter_dist(): drwlock_read_lock(&ifp->dist, self) */
		READ_LOCK(t);
		/* dev = rwlock_ifnet_softc(ifp): atomic_load_explicit(&ifp->softc, relaxed) */
		LOAD(t, SOFTC, dev);
		if
		:: dev -> assert(!freed)	/* the callback uses dev */
		:: else
		fi;
		/* rwlock_ifnet_exit_dist(), or enter_dist's own unlock when dev is NULL */
		READ_UNLOCK(t);
#endif
		n++
	:: else -> break
	od;
	finished++
}

/* ---- the writer: rwlock_ifnet_detach_dist(), then device_free() -------------------------- */

proctype writer()
{
	byte s, old, r, _u;

	/* drwlock_write_lock(): atomic_store_explicit(&l->writer, DRWLOCK_WRITER_HELD, relaxed) */
	STORE(WR, WRITER, W_HELD);
	/* drwlock_writer_fence(): asym_fence_heavy(drwlock_membarrier, "rwlock") */
#if defined(NO_WRITER_FENCE)
	skip;
#elif defined(FENCED)
	FENCE(WR);	/* no membarrier: teardown_smp_mb() */
#else
	MEMBARRIER(WR);
#endif
	/* for (r = l->readers; r; r = r->next) drwlock_wait_for_reader(r) */
	r = 0;
	do
	:: r < READERS ->
		/* while ((state = atomic_load_explicit(&r->state, acquire)) & READING) */
		do
		:: LOAD(WR, SLOT0 + r, s);
			if
			:: s & READING ->
				/* futex_wait_while(&r->state, state) */
				FUTEX_WAIT(WR, SLOT0 + r, s)
			:: else -> break
			fi
		od;
		r++
	:: else -> break
	od;
	/* rwlock_ifnet_unpublish(): atomic_exchange_explicit(&ifp->softc, NULL, relaxed): xchg */
	EXCHANGE(WR, SOFTC, 0, old);
	/* drwlock_write_unlock(): atomic_exchange_explicit(&l->writer, NONE, release): xchg */
	EXCHANGE(WR, WRITER, W_NONE, old);
	if
	:: old == W_WAITERS ->
#ifndef NO_WRITER_WAKE
		/* futex_wake_all(&l->writer) */
		FUTEX_WAKE(WR, WRITER)
#else
		skip
#endif
	:: else
	fi;
	/* device_free(dev) */
	freed = 1;
	finished++
}

init
{
	atomic {
		byte i = 0;
		mem[SOFTC] = 1;	/* the device is published */
		do
		:: i < READERS ->
			mem[SLOT0 + i] = SLOT_IDLE;	/* drwlock_reader_register() */
			run reader(i);
			i++
		:: else -> break
		od;
		run writer();
		i = 0;
		do
		:: i < NT -> run drain(i); i++
		:: else -> break
		od
	}
}

ltl proceeds { <> (finished == NT) }
