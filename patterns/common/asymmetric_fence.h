/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The asymmetric fence that drwlock, the cache-aware rundown, trcu and tepoch share.
 *
 * Each of those patterns has a store-buffering pair: the reader stores (its slot, shard or
 * word) and then loads what the writer stored; the writer stores and then loads every reader's
 * word. Both sides need a full barrier between their store and their load. The reader runs a
 * billion times for each time the writer runs, so the writer pays for both:
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) makes every running thread of the process execute
 * a full barrier before it returns (a thread that is not running passed one when it was switched
 * out), and the reader's side shrinks to a compiler barrier. Linux percpu_ref, liburcu's
 * urcu-memb and Windows' cache-aware rundown make the same trade.
 *
 *	reader:  asym_fence_light(uses)            writer:  asym_fence_heavy(uses, "pattern")
 *
 * `uses` is the pattern's own flag, decided once before main() by asym_fence_setup(), before
 * any reader exists: a reader that skipped its fence while the writer relied on the reader's
 * fence (or the reverse) would be a real bug. Without membarrier (an old kernel, seccomp, or
 * the pattern's environment variable set to 1) both sides execute a full fence.
 *
 * ThreadSanitizer models neither fences nor membarrier; the patterns put their happens-before
 * edges on the variables themselves (release stores, acquire loads), so TSan needs no
 * annotation here. teardown_smp_mb() is the full barrier for the fallback and the slow paths.
 */
#ifndef TEARDOWN_PATTERNS_COMMON_ASYMMETRIC_FENCE_H
#define TEARDOWN_PATTERNS_COMMON_ASYMMETRIC_FENCE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "patterns/common/compiler.h"

/*
 * A full barrier (smp_mb), in every build, sanitized or not.
 *
 * Under -fsanitize=thread both gcc 12 and clang 14 compile atomic_thread_fence() to a call to
 * __tsan_atomic_thread_fence(), which executes a real hardware fence (mfence or a locked
 * instruction on x86, dmb on AArch64) and creates no happens-before edge: TSan does not model
 * standalone fences. gcc warns about that (-Wtsan) where the fence is written out in user code;
 * through <stdatomic.h>'s macro it does not, and the pragma keeps it that way. The happens-before
 * edges TSan needs sit on the variables themselves (see above); the fence is for the hardware.
 */
static inline void teardown_smp_mb(void)
{
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
	atomic_thread_fence(memory_order_seq_cst);
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic pop
#endif
}

/* The reader's half: the compiler's order only when the writer uses membarrier. */
static inline void asym_fence_light(bool uses_membarrier)
{
	if (teardown_likely(uses_membarrier))
		atomic_signal_fence(memory_order_seq_cst);
	else
		teardown_smp_mb();
}

/* Whether this kernel offers MEMBARRIER_CMD_PRIVATE_EXPEDITED (a query; registers nothing). */
bool asym_fence_kernel_offers_membarrier(void);

/*
 * Registers the process for MEMBARRIER_CMD_PRIVATE_EXPEDITED if the kernel offers it and the
 * environment variable `disable_env` is not set to something other than 0. Returns whether the
 * pattern may rely on membarrier. Call it from a constructor.
 */
bool asym_fence_setup(const char *disable_env);

/* The writer's half: membarrier if `uses_membarrier`, else a full fence. A failed membarrier,
 * after asym_fence_setup() said it could be used, is fatal (teardown_die, with errno). */
void asym_fence_heavy(bool uses_membarrier, const char *pattern);

#endif /* TEARDOWN_PATTERNS_COMMON_ASYMMETRIC_FENCE_H */
