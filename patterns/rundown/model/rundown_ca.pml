/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The cache-aware rundown (patterns/rundown/rundown_ca.h, rundown_ca.c) protecting the lab's
 * softc (lagg.h: rundown_lagg_enter_ca / exit_ca; variants.c: ca_teardown, and the churn
 * variant's threads that register, call and unregister while the wait runs), on x86-TSO with
 * membarrier as a flush of every store buffer.
 *
 * Versions (spin -D):
 *   NAIVE            the hot path without its second look: acquire loads state, stores its
 *                    count, and uses the softc; a wait that set ACTIVE and scanned between the
 *                    two finds no count and frees.
 *   (none)           the fix as written, with membarrier: the reader's two store-load pairs
 *                    (held, then state; held, then waiters) have compiler barriers only; the
 *                    wait's membarrier flushes every buffer.
 *   FENCED           without membarrier (RUNDOWN_CA_NO_MEMBARRIER=1): rundown_ca_reader_fence()
 *                    and rundown_ca_writer_fence() are full fences.
 *   NO_WRITER_FENCE  the fix without rundown_ca_writer_fence() in rundown_ca_wait_for_release().
 *   NO_READER_FENCE  with FENCED: the fix without the fence in rundown_ca_acquire() (held,
 *                    then state).
 *   NO_RELEASE_FENCE with FENCED: the fix without the fence in rundown_ca_released() (held,
 *                    then waiters): the wait may sleep for good (liveness).
 *   NO_WAKE          the fix without rundown_ca_wake_waiters() in rundown_ca_released()
 *                    (liveness).
 *   RELAXED_BUMP     rundown_ca_wake_waiters()' bump of q->seq relaxed, not release: with
 *                    WEAK_RMW the wait may see the new seq before the count's drop, rescan,
 *                    still count it, and sleep after the wake (liveness).
 *   WEAK_RMW         relaxed and acquire read-modify-writes do not drain the store buffer (as
 *                    in rundown.pml); release and seq_cst ones, and every fence, do.
 *   READERS=n        reader threads (default 2), as many shards; CYCLES=n: calls each (default
 *                    1). Each call registers the thread, acquires, uses the softc, releases and
 *                    unregisters (the churn variant), so a shard passes from a thread that left
 *                    to one that arrives: register takes the lowest free slot, as ctz(~used).
 *   HANDOFF          only that case (CYCLES=1): reader 1 registers once reader 0 has left, and
 *                    takes its shard (asserted), at any point of the wait.
 *
 * Safety: a reader uses the softc by reading it (asserted at once) and by writing it (asserted
 * when the write reaches memory): neither may come after teardown freed the softc.
 * Liveness (ltl proceeds): every reader and the teardown return.
 * Not modelled: nesting (one acquisition per thread at a time), misuse checks, completed and
 * reinit (one wait), the wait's RUNDOWN_CA_SPIN_SCANS spins (one scan, then the sleeping loop,
 * which scans again), the ref's own free (the model has one bucket, which is static), more
 * refs hashing to the bucket. A weak compare-exchange is a strong one.
 */

/* ---- memory: a store buffer per thread, read-modify-writes, membarrier, futexes ----------- */
#ifndef READERS
#define READERS 2
#endif
#ifndef CYCLES
#define CYCLES 1
#endif
#define NT (READERS + 1)	/* threads: the readers, then teardown */
#define TD READERS		/* teardown's thread number */
#define SB 3			/* store buffer entries per thread */

#define STATE 0			/* struct rundown_ca: state */
#define SLOTS 1			/* rundown_ca_slots: bit i, shard i is taken */
#define WAITERS 2		/* the bucket: waiters */
#define SEQ 3			/* the bucket: seq (the futex) */
#define SOFTC 4			/* ifp->if_softc (0: unpublished) */
#define OBJ 5			/* a field of the softc that readers write */
#define SHARD0 6		/* struct rundown_ca: shard[i].held at SHARD0 + i */
#define NV (SHARD0 + READERS)

#define ACTIVE 1		/* RUNDOWN_CA_ACTIVE */
#define DRAINING 2		/* RUNDOWN_CA_DRAINING */

byte mem[NV];
byte sb_a[NT * SB];		/* store buffer: address, value; oldest first */
byte sb_v[NT * SB];
byte sb_n[NT];
byte sleeping[NT];		/* futex: address + 1 the thread sleeps on; 0: awake */
bit freed;			/* ghost: teardown has freed the softc */
byte left;			/* ghost: calls reader 0 has finished (HANDOFF) */
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

/* A plain load (mov): the newest store to `addr` in our own buffer, else memory. */
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

/* The oldest buffered store reaches memory; a write to the softc must not land after the free. */
inline DRAIN_ONE(th)
{
	assert(sb_a[th * SB] != OBJ || !freed);
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

/* What a read-modify-write does with the thread's earlier stores; rel: release or seq_cst. */
#ifdef WEAK_RMW
#define RMW_ORDER(th, rel) if :: rel -> FENCE(th) :: else fi
#else
#define RMW_ORDER(th, rel) FENCE(th)
#endif

inline FETCH_ADD(th, addr, delta, oldval, rel)
{
	atomic {
		RMW_ORDER(th, rel);
		oldval = mem[addr];
		mem[addr] = mem[addr] + delta
	}
}

inline FETCH_SUB(th, addr, delta, oldval, rel)
{
	atomic {
		RMW_ORDER(th, rel);
		oldval = mem[addr];
		mem[addr] = mem[addr] - delta
	}
}

inline FETCH_OR(th, addr, bits, oldval, rel)
{
	atomic {
		RMW_ORDER(th, rel);
		oldval = mem[addr];
		mem[addr] = mem[addr] | bits
	}
}

inline FETCH_AND(th, addr, bits, oldval, rel)
{
	atomic {
		RMW_ORDER(th, rel);
		oldval = mem[addr];
		mem[addr] = mem[addr] & bits
	}
}

inline EXCHANGE(th, addr, val, oldval, rel)
{
	atomic {
		RMW_ORDER(th, rel);
		oldval = mem[addr];
		mem[addr] = val
	}
}

/* A strong compare-exchange; `expect_val` is updated on failure, as in C. */
inline CAS(th, addr, expect_val, val, okay, rel)
{
	atomic {
		RMW_ORDER(th, rel);
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

/*
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): a full barrier in the caller and in every
 * other thread, one thread after another (each at some point of its own program). The caller
 * declares `byte _u`.
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

/* futex_wake_all(word): every sleeper on the word runs again. The caller declares `byte _u`. */
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

/* ---- the reader: rundown_lagg_enter_ca(), a use, rundown_lagg_exit_ca() ------------------ */

/* rundown_ca_reader_fence(): asym_fence_light(rundown_ca_membarrier) */
#ifdef FENCED
#define READER_FENCE(t) FENCE(t)	/* teardown_smp_mb() */
#else
#define READER_FENCE(t) skip		/* atomic_signal_fence(seq_cst): nothing on TSO */
#endif

/* rundown_ca_released(q): the count is down; from here on only the bucket is touched */
inline RELEASED(t)
{
	/* held, then waiters: rundown_ca_reader_fence() */
#if defined(FENCED) && defined(NO_RELEASE_FENCE)
	skip;
#else
	READER_FENCE(t);
#endif
	/* if (atomic_load_explicit(&q->waiters, relaxed) != 0) rundown_ca_wake_waiters(q) */
	LOAD(t, WAITERS, wt);
	if
	:: wt != 0 ->
#ifndef NO_WAKE
		/* rundown_ca_wake_waiters(): atomic_fetch_add_explicit(&q->seq, 1, release) */
#ifdef RELAXED_BUMP
		FETCH_ADD(t, SEQ, 1, old, 0);
#else
		FETCH_ADD(t, SEQ, 1, old, 1);
#endif
		/* futex_wake_all(&q->seq) */
		FUTEX_WAKE(t, SEQ)
#else
		skip
#endif
	:: else
	fi
}

/* rundown_ca_release(): the common case (held == 1) */
inline RELEASE(t)
{
	/* atomic_store_explicit(&s->held, 0, release): mov */
	STORE(t, SHARD0 + slot, 0);
	RELEASED(t)
}

proctype reader(byte t)
{
	byte st, wt, old, used, slot, sc, n, _u;
	bit ok, granted;

#ifdef HANDOFF
	t == 0 || left > 0;	/* reader 1 arrives after reader 0 left */
#endif
	do
	:: n < CYCLES ->
		/* rundown_ca_register_thread(): used = atomic_load_explicit(&slots, relaxed) */
		LOAD(t, SLOTS, used);
		do
		:: /* slot = ctz(~used); compare_exchange_weak(&slots, &used, used | bit, acq) */
			slot = ((used & 1) -> 1 : 0);
			CAS(t, SLOTS, used, used | (1 << slot), ok, 0);
			if
			:: ok -> break
			:: else
			fi
		od;
#ifdef HANDOFF
		assert(t == 0 || n > 0 || slot == 0);	/* the shard reader 0 left */
#endif
		/* rundown_ca_acquire(): atomic_load_explicit(&ca->state, relaxed) & ACTIVE */
		LOAD(t, STATE, st);
		if
		:: st & ACTIVE -> granted = 0	/* turned away; the count is left alone */
		:: else ->
			/* atomic_store_explicit(&s->held, 1, relaxed): mov */
			STORE(t, SHARD0 + slot, 1);
#ifdef NAIVE
			granted = 1
#else
			/* held, then state: rundown_ca_reader_fence() */
#ifndef NO_READER_FENCE
			READER_FENCE(t);
#endif
			/* if (!(atomic_load_explicit(&ca->state, acquire) & ACTIVE)) return true */
			LOAD(t, STATE, st);
			if
			:: !(st & ACTIVE) -> granted = 1
			:: else ->
				/* rundown_ca_release(ca); return false */
				RELEASE(t);
				granted = 0
			fi
#endif
		fi;
		if
		:: granted ->
			/* rundown_lagg_softc_of(ifp)->sc_dev: the softc is read ... */
			LOAD(t, SOFTC, sc);
			if
			:: sc ->
				assert(!freed);
				/* ... and written (checked when the write reaches memory) */
				STORE(t, OBJ, t + 1)
			:: else
			fi;
			/* rundown_lagg_exit_ca(): rundown_ca_release(ifp->if_rundown_ca) */
#ifdef NAIVE
			STORE(t, SHARD0 + slot, 0);
#else
			RELEASE(t);
#endif
			granted = 0
		:: else
		fi;
		/* rundown_ca_unregister_thread(): fetch_and(&slots, ~bit, release): lock and */
		FETCH_AND(t, SLOTS, ~(1 << slot), old, 1);
		slot = 0;
		used = 0;
		left = left + (t == 0 -> 1 : 0);
		n++
	:: else -> break
	od;
	finished++
}

/* ---- teardown: ca_teardown() ------------------------------------------------------------- */

/* rundown_ca_holders(): each shard loaded (acquire) in turn, summed */
inline HOLDERS()
{
	holders = 0;
	i = 0;
	do
	:: i < READERS -> LOAD(TD, SHARD0 + i, h); holders = holders + h; i++
	:: else -> break
	od;
	i = 0;
	h = 0
}

proctype teardown()
{
	byte st, old, seq, holders, h, i, _u;
	bit ok;

#ifdef NAIVE
	EXCHANGE(TD, STATE, ACTIVE, old, 1);	/* close the door */
	HOLDERS();
	do
	:: holders == 0 -> break
	:: else ->
		LOAD(TD, SEQ, seq);
		HOLDERS();
		if
		:: holders == 0 -> break
		:: else -> FUTEX_WAIT(TD, SEQ, seq)
		fi
	od;
#else
	/* rundown_ca_begin_wait(): state = atomic_load_explicit(&ca->state, acquire) */
	LOAD(TD, STATE, st);
	/* compare_exchange_weak(&ca->state, &state, ACTIVE | DRAINING, acquire, acquire) */
	do
	:: CAS(TD, STATE, st, ACTIVE | DRAINING, ok, 0);
		if
		:: ok -> break
		:: else
		fi
	od;
	/* atomic_fetch_add_explicit(&q->waiters, 1, relaxed): lock xadd */
	FETCH_ADD(TD, WAITERS, 1, old, 0);
	/* rundown_ca_writer_fence(): asym_fence_heavy(rundown_ca_membarrier, "rundown") */
#if defined(NO_WRITER_FENCE)
	skip;
#elif defined(FENCED)
	FENCE(TD);	/* teardown_smp_mb() */
#else
	MEMBARRIER(TD);
#endif
	/* holders = rundown_ca_holders(ca) (the spinning scans: one) */
	HOLDERS();
	/* while (holders) */
	do
	:: holders == 0 -> break
	:: else ->
		/* seq = atomic_load_explicit(&q->seq, acquire) */
		LOAD(TD, SEQ, seq);
		/* if ((holders = rundown_ca_holders(ca)) == 0) break */
		HOLDERS();
		if
		:: holders == 0 -> break
		:: else ->
			/* futex_wait_while(&q->seq, seq) */
			FUTEX_WAIT(TD, SEQ, seq)
		fi
	od;
	/* atomic_fetch_sub_explicit(&q->waiters, 1, relaxed): lock xadd */
	FETCH_SUB(TD, WAITERS, 1, old, 0);
	/* atomic_store_explicit(&ca->state, RUNDOWN_CA_ACTIVE, release): mov */
	STORE(TD, STATE, ACTIVE);
#endif
	/* rundown_lagg_softc_free(lagg_unpublish(ifp)): exchange(if_softc, NULL, relaxed), free */
	EXCHANGE(TD, SOFTC, 0, old, 0);
	freed = 1;
	finished++
}

init
{
	atomic {
		byte i = 0;
		mem[SOFTC] = 1;	/* the softc is published; rundown_ca_new(): all zero */
		do
		:: i < READERS -> run reader(i); i++
		:: else -> break
		od;
		run teardown();
		i = 0;
		do
		:: i < NT -> run drain(i); i++
		:: else -> break
		od
	}
}

ltl proceeds { <> (finished == NT) }
