/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * x86-TSO memory and futexes, for the models that include it. The model defines NVAR (memory
 * locations, each one byte) and NTHR (threads, numbered 0 .. NTHR - 1) before including it, and
 * runs one drainer(t) per thread.
 *
 *   tso_store(t, v, x)   a store: x goes to the tail of t's store buffer (blocks while full).
 *   tso_load(t, v, r)    a load: the newest value for v in t's own buffer, else memory.
 *   drainer(t)           moves the oldest entry of t's buffer to memory, whenever it likes.
 *   tso_fence(t)         a full fence (mfence, a seq_cst fence): drains t's buffer.
 *   tso_membarrier()     membarrier(2): a full fence in every thread; drains every buffer.
 *   TSO_FLUSH(t)         drains t's buffer; the first step of every read-modify-write (a
 *                        locked instruction): d_step { TSO_FLUSH(t); r = mem[v]; mem[v] = ... }.
 * A compiler barrier (atomic_signal_fence) is nothing. Every C11 load is a plain load and every
 * store other than seq_cst a plain store: x86 gives acquire and release for free; a seq_cst store
 * is a store and a fence.
 *
 *   futex_wait_while(t, v, x)  FUTEX_WAIT: the kernel takes the bucket lock (a locked
 *                        instruction: t's buffer drains), then sleeps if mem[v] == x, until a
 *                        futex_wake on v. No spurious wake-ups: a sleep no one ends is a lost
 *                        wake-up, and the search reports it as an invalid end state.
 *   futex_wake(t, v)     FUTEX_WAKE: drains t's buffer (the kernel's barrier before it looks for
 *                        waiters), then wakes every thread asleep on v.
 */
#ifndef TSO_SB
#define TSO_SB 2	/* store-buffer entries per thread */
#endif

byte mem[NVAR];
/* Thread t's buffer: entries t * TSO_SB .. t * TSO_SB + sb_n[t] - 1, oldest first. */
byte sb_var[NTHR * TSO_SB];
byte sb_val[NTHR * TSO_SB];
byte sb_n[NTHR];
byte futex_on[NTHR];		/* 0, or 1 + the location thread t sleeps on */
hidden byte tso_i, tso_j, tso_k;	/* scratch, inside d_steps only */

/* The oldest entry of t's buffer to memory. Inside a d_step. */
#define TSO_POP(t) \
	mem[sb_var[(t) * TSO_SB]] = sb_val[(t) * TSO_SB]; \
	tso_j = 1; \
	do \
	:: tso_j < sb_n[t] -> \
		sb_var[(t) * TSO_SB + tso_j - 1] = sb_var[(t) * TSO_SB + tso_j]; \
		sb_val[(t) * TSO_SB + tso_j - 1] = sb_val[(t) * TSO_SB + tso_j]; \
		tso_j++ \
	:: else -> break \
	od; \
	sb_n[t]--; \
	sb_var[(t) * TSO_SB + sb_n[t]] = 0; \
	sb_val[(t) * TSO_SB + sb_n[t]] = 0; \
	tso_j = 0

/* Every entry of t's buffer to memory, oldest first. Inside a d_step. */
#define TSO_FLUSH(t) \
	do \
	:: sb_n[t] > 0 -> TSO_POP(t) \
	:: else -> break \
	od

inline tso_store(T_, V_, X_)
{
	atomic {
		sb_n[T_] < TSO_SB ->
		sb_var[(T_) * TSO_SB + sb_n[T_]] = V_;
		sb_val[(T_) * TSO_SB + sb_n[T_]] = X_;
		sb_n[T_]++
	}
}

inline tso_load(T_, V_, R_)
{
	d_step {
		R_ = mem[V_];
		tso_i = 0;
		do
		:: tso_i < sb_n[T_] ->
			if
			:: sb_var[(T_) * TSO_SB + tso_i] == V_ -> R_ = sb_val[(T_) * TSO_SB + tso_i]
			:: else
			fi;
			tso_i++
		:: else -> break
		od;
		tso_i = 0
	}
}

inline tso_fence(T_)
{
	d_step { TSO_FLUSH(T_) }
}

inline tso_membarrier()
{
	d_step {
		tso_k = 0;
		do
		:: tso_k < NTHR -> TSO_FLUSH(tso_k); tso_k++
		:: else -> break
		od;
		tso_k = 0
	}
}

proctype drainer(byte t)
{
end:	do
	:: d_step { sb_n[t] > 0 -> TSO_POP(t) }
	od
}

inline futex_wait_while(T_, V_, X_)
{
	atomic {
		TSO_FLUSH(T_);
		if
		:: mem[V_] == X_ -> futex_on[T_] = V_ + 1
		:: else
		fi;
		futex_on[T_] == 0	/* asleep until a futex_wake on this location */
	}
}

inline futex_wake(T_, V_)
{
	d_step {
		TSO_FLUSH(T_);
		tso_i = 0;
		do
		:: tso_i < NTHR ->
			if
			:: futex_on[tso_i] == V_ + 1 -> futex_on[tso_i] = 0
			:: else
			fi;
			tso_i++
		:: else -> break
		od;
		tso_i = 0
	}
}
