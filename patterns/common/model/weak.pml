/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An Arm-like memory, weaker than x86-TSO (tso.pml), for the models that include it instead.
 * The model defines NVAR (memory locations, each one byte) and NTHR (threads, 0 .. NTHR - 1)
 * before including it, optionally WEAK_READS(t, v) (whether thread t ever loads location v;
 * default every one), and runs one drainer(t) per thread.
 *
 * What it adds to x86-TSO is that a load may be satisfied early: it may return a value that
 * memory held a while ago, as a load that Arm performs before the loads and stores that come
 * before it in program order. Memory is multi-copy atomic, as Armv8's is: a store reaches every
 * other thread at one moment, when it leaves its thread's buffer. Each such moment gets a time,
 * and memory keeps, for each location, its newest value and the older values some thread may
 * still read, with the time each was written. A load by thread t of location v returns
 *   - the newest store to v still in t's own buffer, if there is one; else
 *   - any value v had at some moment no earlier than t's floor, and no older than the last
 *     value of v that t read or wrote (coherence: a thread never reads a location backwards).
 * The floor is what orders a thread's later loads:
 *   weak_load(t, v, r)          relaxed: the floor stays where it is.
 *   weak_load_acquire(t, v, r)  acquire: the floor rises to the moment the value read was
 *                               written, so that every later load of t sees what memory held
 *                               then (which includes all that a releasing store's thread had
 *                               stored before it: stores leave a buffer in order).
 *   weak_fence(t)               a full fence (dmb ish, a seq_cst fence, teardown_smp_mb()):
 *                               drains t's buffer, and the floor rises to now.
 *   weak_membarrier()           membarrier(2): a full fence in every thread at once.
 *   weak_store(t, v, x)         a store, relaxed or release: to the tail of t's buffer (it waits
 *                               while the buffer is full); the buffer leaves in order, so every
 *                               store is a release store as far as this memory goes.
 * A read-modify-write reads and writes the newest value in one step, inside a d_step:
 *   WEAK_FLUSH(t)               release or seq_cst: t's earlier stores leave first;
 *   WEAK_WRITE(t, v, x)         the write: memory's new value for v, written now;
 *   WEAK_ACQUIRE_NOW(t)         acquire or seq_cst: the floor rises to now (it read at once).
 * A relaxed read-modify-write is WEAK_WRITE alone: it overtakes t's buffered stores to other
 * locations, and t's later loads may be satisfied before it.
 *
 *   futex_wait_while(t, v, x)   FUTEX_WAIT: a full fence (the kernel's bucket lock), then sleeps
 *                               if v still holds x, until a futex_wake on v; a full fence again
 *                               on waking. No spurious wake-ups, as in tso.pml.
 *   futex_wake(t, v)            FUTEX_WAKE: drains t's buffer, then wakes every sleeper on v.
 *
 * Not modelled: a load that reads a store which, in its own thread, comes after it in program
 * order by way of another thread (load buffering, which Armv8 allows); stores that leave a buffer
 * out of order (Arm lets two relaxed stores to different locations do that); dependencies,
 * which C11's relaxed loads do not promise. With every load acquire the memory is x86-TSO with
 * read-modify-writes that need not drain the buffer.
 *
 * After every step the state is made canonical, so that executions that differ only in what
 * no thread can tell apart meet in the same state: values no thread may read are dropped, and
 * the times are renumbered. That is bookkeeping, not memory semantics, and it is written in C
 * (weak_canon(), run by pan only; a replay with spin -t skips it and takes the same steps).
 * WEAK_HIST older values are kept per location; a model that needs more is told by an error
 * ("a thread may still read more older values than WEAK_HIST"), not by a wrong verdict.
 * WEAK_READS(t, v) must be an expression that C reads too (no -> :).
 */
#ifndef WEAK_SB
#define WEAK_SB 2	/* store-buffer entries per thread */
#endif
#ifndef WEAK_HIST
#define WEAK_HIST 3	/* older values kept per location (at most 5) */
#endif
#ifndef WEAK_READS
#define WEAK_READS(t, v) 1
#endif

byte mem[NVAR];			/* each location's newest value */
byte mem_at[NVAR];		/* the time it was written (0: initial) */
byte old_val[NVAR * WEAK_HIST];	/* older values some thread may still read, newest first */
byte old_at[NVAR * WEAK_HIST];
byte n_old[NVAR];
byte weak_now;			/* the time of the newest write */
byte weak_floor[NTHR];		/* a thread's loads read memory as of this time or later */
byte weak_seen[NTHR * NVAR];	/* the time of the last value of v that t read or wrote */
byte sb_var[NTHR * WEAK_SB];	/* thread t's buffer: t * WEAK_SB + 0 .. sb_n[t] - 1 */
byte sb_val[NTHR * WEAK_SB];
byte sb_n[NTHR];
byte futex_on[NTHR];		/* 0, or 1 + the location thread t sleeps on */
/* scratch, inside d_steps only */
hidden byte weak_i, weak_j, weak_k, weak_t, weak_v, weak_r, weak_pick;

/* The time from which entry k of v's older values stopped being v's value. */
#define WEAK_SUCC(v, k) ((k) == 0 -> mem_at[v] : old_at[(v) * WEAK_HIST + (k) - 1])
/* Whether thread t may still read entry k (< n_old[v]) of v's older values. */
#define WEAK_CAN_READ(t, v, k) \
	(WEAK_SUCC(v, k) > weak_floor[t] && \
	 old_at[(v) * WEAK_HIST + (k)] >= weak_seen[(t) * NVAR + (v)])

c_code {
/*
 * The canonical state, after every step that changes memory, a floor or a last-seen time.
 * Each part keeps every load's choices as they were:
 *  1. drops, oldest first, the older values no thread may read;
 *  2. a last-seen time no newer than every older value kept of its location is no
 *     constraint: 0;
 *  3. a floor only tells which older values are readable (later ones all are): it becomes the
 *     newest time that ends a kept older value and is not after it, or 0;
 *  4. the times in use are renumbered 1, 2, 3, ... in their order (0 stays 0).
 */
__attribute__((optimize("O2"))) static int weak_succ(int v, int k)
{
	return k == 0 ? now.mem_at[v] : now.old_at[v * WEAK_HIST + k - 1];
}

__attribute__((optimize("O2"))) static int weak_can_read(int t, int v, int k)
{
	return weak_succ(v, k) > now.weak_floor[t] &&
	       now.old_at[v * WEAK_HIST + k] >= now.weak_seen[t * NVAR + v];
}

/* Drops v's older values, oldest first, while no thread may read them. */
__attribute__((optimize("O2"))) static void weak_drop(int v)
{
	int t, n;

	while ((n = now.n_old[v]) > 0) {
		for (t = 0; t < NTHR; t++)
			if ((WEAK_READS(t, v)) && weak_can_read(t, v, n - 1))
				return;
		now.old_val[v * WEAK_HIST + n - 1] = 0;
		now.old_at[v * WEAK_HIST + n - 1] = 0;
		now.n_old[v] = n - 1;
	}
}

extern void (*uerror)(char *);	/* pan's error report */

/* Before a write to v: room for one more older value, or the model needs a larger WEAK_HIST. */
__attribute__((optimize("O2"))) static void weak_make_room(int v)
{
	weak_drop(v);
	if (now.n_old[v] == WEAK_HIST)
		uerror("weak.pml: a thread may still read more older values than WEAK_HIST");
}

__attribute__((optimize("O2"))) static void weak_canon(void)
{
	unsigned char rank[256];
	int t, v, k, r, s;

	for (v = 0; v < NVAR; v++) {
		weak_drop(v);
		for (t = 0; t < NTHR; t++)
			if (now.n_old[v] == 0 || now.weak_seen[t * NVAR + v] <=
			    now.old_at[v * WEAK_HIST + now.n_old[v] - 1])
				now.weak_seen[t * NVAR + v] = 0;
	}
	for (t = 0; t < NTHR; t++) {
		r = 0;
		for (v = 0; v < NVAR; v++)
			for (k = 0; k < now.n_old[v]; k++) {
				s = weak_succ(v, k);
				if (s <= now.weak_floor[t] && s > r)
					r = s;
			}
		now.weak_floor[t] = r;
	}
	for (k = 0; k <= now.weak_now; k++)
		rank[k] = 0;
	for (v = 0; v < NVAR; v++) {
		rank[now.mem_at[v]] = 1;
		for (k = 0; k < now.n_old[v]; k++)
			rank[now.old_at[v * WEAK_HIST + k]] = 1;
	}
	for (t = 0; t < NTHR; t++)
		rank[now.weak_floor[t]] = 1;
	for (k = 0; k < NTHR * NVAR; k++)
		rank[now.weak_seen[k]] = 1;
	rank[0] = 0;
	for (k = 1, r = 0; k <= now.weak_now; k++)
		rank[k] = rank[k] ? ++r : 0;
	for (v = 0; v < NVAR; v++) {
		now.mem_at[v] = rank[now.mem_at[v]];
		for (k = 0; k < now.n_old[v]; k++)
			now.old_at[v * WEAK_HIST + k] = rank[now.old_at[v * WEAK_HIST + k]];
	}
	for (t = 0; t < NTHR; t++)
		now.weak_floor[t] = rank[now.weak_floor[t]];
	for (k = 0; k < NTHR * NVAR; k++)
		now.weak_seen[k] = rank[now.weak_seen[k]];
	now.weak_now = r;
}
}

#define WEAK_CANON c_code { weak_canon(); }

/*
 * Memory's new value x for v, written now by thread t. Inside a d_step; WEAK_CANON after.
 * v's older values are dropped first while no thread may read them (weak_make_room(); a replay
 * with spin -t, which skips it, drops the oldest when there is no room: the same ones).
 */
#define WEAK_WRITE(t, v, x) \
	c_code { weak_make_room(v); }; \
	if \
	:: n_old[v] == WEAK_HIST -> \
		n_old[v]--; \
		old_val[(v) * WEAK_HIST + n_old[v]] = 0; \
		old_at[(v) * WEAK_HIST + n_old[v]] = 0 \
	:: else \
	fi; \
	weak_k = n_old[v]; \
	do \
	:: weak_k > 0 -> \
		old_val[(v) * WEAK_HIST + weak_k] = old_val[(v) * WEAK_HIST + weak_k - 1]; \
		old_at[(v) * WEAK_HIST + weak_k] = old_at[(v) * WEAK_HIST + weak_k - 1]; \
		weak_k-- \
	:: else -> break \
	od; \
	old_val[(v) * WEAK_HIST] = mem[v]; \
	old_at[(v) * WEAK_HIST] = mem_at[v]; \
	n_old[v]++; \
	weak_now++; \
	mem[v] = x; \
	mem_at[v] = weak_now; \
	weak_seen[(t) * NVAR + (v)] = weak_now; \
	weak_k = 0

/* The oldest entry of t's buffer to memory. Inside a d_step; WEAK_CANON after. */
#define WEAK_POP(t) \
	weak_v = sb_var[(t) * WEAK_SB]; \
	weak_r = sb_val[(t) * WEAK_SB]; \
	WEAK_WRITE(t, weak_v, weak_r); \
	weak_j = 1; \
	do \
	:: weak_j < sb_n[t] -> \
		sb_var[(t) * WEAK_SB + weak_j - 1] = sb_var[(t) * WEAK_SB + weak_j]; \
		sb_val[(t) * WEAK_SB + weak_j - 1] = sb_val[(t) * WEAK_SB + weak_j]; \
		weak_j++ \
	:: else -> break \
	od; \
	sb_n[t]--; \
	sb_var[(t) * WEAK_SB + sb_n[t]] = 0; \
	sb_val[(t) * WEAK_SB + sb_n[t]] = 0; \
	weak_j = 0; weak_v = 0; weak_r = 0

/* Every entry of t's buffer to memory, oldest first. Inside a d_step; WEAK_CANON after. */
#define WEAK_FLUSH(t) \
	do \
	:: sb_n[t] > 0 -> WEAK_POP(t) \
	:: else -> break \
	od

/* The floor of t rises to now. Inside a d_step; WEAK_CANON after. */
#define WEAK_ACQUIRE_NOW(t) weak_floor[t] = weak_now

inline weak_store(T_, V_, X_)
{
	atomic {
		sb_n[T_] < WEAK_SB ->
		sb_var[(T_) * WEAK_SB + sb_n[T_]] = V_;
		sb_val[(T_) * WEAK_SB + sb_n[T_]] = X_;
		sb_n[T_]++
	}
}

/* Whether entry i of t's buffer, or any, is a store to v; the newest such store's value. */
#define WEAK_FWD_AT(t, v, i) (sb_n[t] > (i) && sb_var[(t) * WEAK_SB + (i)] == (v))
#if WEAK_SB == 1
#define WEAK_FWD(t, v) WEAK_FWD_AT(t, v, 0)
#define WEAK_FWD_VAL(t, v) sb_val[(t) * WEAK_SB]
#elif WEAK_SB == 2
#define WEAK_FWD(t, v) (WEAK_FWD_AT(t, v, 0) || WEAK_FWD_AT(t, v, 1))
#define WEAK_FWD_VAL(t, v) \
	(WEAK_FWD_AT(t, v, 1) -> sb_val[(t) * WEAK_SB + 1] : sb_val[(t) * WEAK_SB])
#else
#error "weak.pml: WEAK_SB is 1 or 2"
#endif

/*
 * The load's value: weak_pick 0 memory's newest, 1 + k older value k. Sets the last-seen time;
 * with ACQ_, raises the floor to the time the value was written. Inside a d_step. (A load the
 * model's WEAK_READS leaves out would let older values go that it may read: asserted.)
 */
#define WEAK_TAKE(T_, V_, R_, ACQ_) \
	assert(WEAK_READS(T_, V_)); \
	if \
	:: weak_pick == 0 -> R_ = mem[V_]; weak_pick = mem_at[V_] \
	:: else -> \
		R_ = old_val[(V_) * WEAK_HIST + weak_pick - 1]; \
		weak_pick = old_at[(V_) * WEAK_HIST + weak_pick - 1] \
	fi; \
	weak_seen[(T_) * NVAR + (V_)] = weak_pick; \
	if \
	:: ACQ_ && weak_pick > weak_floor[T_] -> weak_floor[T_] = weak_pick \
	:: else \
	fi; \
	weak_pick = 0; \
	WEAK_CANON

/* One step, whichever value it returns. */
inline weak_load_(T_, V_, R_, ACQ_)
{
	if
	:: d_step { WEAK_FWD(T_, V_) -> R_ = WEAK_FWD_VAL(T_, V_) }
	:: d_step { !WEAK_FWD(T_, V_) -> weak_pick = 0; WEAK_TAKE(T_, V_, R_, ACQ_) }
	:: d_step {
		!WEAK_FWD(T_, V_) && n_old[V_] > 0 && WEAK_CAN_READ(T_, V_, 0) ->
		weak_pick = 1; WEAK_TAKE(T_, V_, R_, ACQ_)
	   }
#if WEAK_HIST > 1
	:: d_step {
		!WEAK_FWD(T_, V_) && n_old[V_] > 1 && WEAK_CAN_READ(T_, V_, 1) ->
		weak_pick = 2; WEAK_TAKE(T_, V_, R_, ACQ_)
	   }
#endif
#if WEAK_HIST > 2
	:: d_step {
		!WEAK_FWD(T_, V_) && n_old[V_] > 2 && WEAK_CAN_READ(T_, V_, 2) ->
		weak_pick = 3; WEAK_TAKE(T_, V_, R_, ACQ_)
	   }
#endif
#if WEAK_HIST > 3
	:: d_step {
		!WEAK_FWD(T_, V_) && n_old[V_] > 3 && WEAK_CAN_READ(T_, V_, 3) ->
		weak_pick = 4; WEAK_TAKE(T_, V_, R_, ACQ_)
	   }
#endif
#if WEAK_HIST > 4
	:: d_step {
		!WEAK_FWD(T_, V_) && n_old[V_] > 4 && WEAK_CAN_READ(T_, V_, 4) ->
		weak_pick = 5; WEAK_TAKE(T_, V_, R_, ACQ_)
	   }
#endif
#if WEAK_HIST > 5
#error "weak.pml: WEAK_HIST is at most 5"
#endif
	fi
}

inline weak_load(T_, V_, R_)
{
	weak_load_(T_, V_, R_, 0)
}

inline weak_load_acquire(T_, V_, R_)
{
	weak_load_(T_, V_, R_, 1)
}

inline weak_fence(T_)
{
	d_step { WEAK_FLUSH(T_); WEAK_ACQUIRE_NOW(T_); WEAK_CANON }
}

inline weak_membarrier()
{
	d_step {
		weak_t = 0;
		do
		:: weak_t < NTHR -> WEAK_FLUSH(weak_t); weak_t++
		:: else -> break
		od;
		weak_t = 0;
		do
		:: weak_t < NTHR -> WEAK_ACQUIRE_NOW(weak_t); weak_t++
		:: else -> break
		od;
		weak_t = 0;
		WEAK_CANON
	}
}

proctype drainer(byte t)
{
end:	do
	:: d_step { sb_n[t] > 0 -> WEAK_POP(t); WEAK_CANON }
	od
}

inline futex_wait_while(T_, V_, X_)
{
	atomic {
		d_step {
			WEAK_FLUSH(T_);
			WEAK_ACQUIRE_NOW(T_);
			WEAK_CANON;
			if
			:: mem[V_] == X_ -> futex_on[T_] = V_ + 1
			:: else
			fi
		}
		futex_on[T_] == 0	/* asleep until a futex_wake on this location */
	}
	weak_fence(T_)
}

inline futex_wake(T_, V_)
{
	d_step {
		WEAK_FLUSH(T_);
		WEAK_CANON;
		weak_i = 0;
		do
		:: weak_i < NTHR ->
			if
			:: futex_on[weak_i] == V_ + 1 -> futex_on[weak_i] = 0
			:: else
			fi;
			weak_i++
		:: else -> break
		od;
		weak_i = 0
	}
}
