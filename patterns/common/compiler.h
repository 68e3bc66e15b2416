/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The compiler and CPU details the catalog relies on, written once (in the manner of Concurrency
 * Kit's ck_cc.h and liburcu's urcu/compiler.h). Every name carries the teardown_ (or TEARDOWN_)
 * prefix: these headers are meant to be included beside a reader's own code, where a bare
 * likely() or container_of() may already mean something else.
 */
#ifndef TEARDOWN_PATTERNS_COMMON_COMPILER_H
#define TEARDOWN_PATTERNS_COMMON_COMPILER_H

#include <stddef.h>

/* Branch hints for the hot paths: the common case is the one written inside the hint. */
#define teardown_likely(x) __builtin_expect(!!(x), 1)
#define teardown_unlikely(x) __builtin_expect(!!(x), 0)

/*
 * The unit of false sharing. 64 bytes on x86-64 and on most Arm64 cores; some Arm64 parts
 * (Apple's among them) have 128-byte lines, where two of our 64-byte slots can share a line:
 * still correct, only slower.
 */
#define TEARDOWN_CACHE_LINE 64
#define TEARDOWN_CACHE_ALIGNED _Alignas(TEARDOWN_CACHE_LINE)

/* The structure of type `type` whose member `member` is at `ptr` (the kernel's container_of). */
#define teardown_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* The number of elements of an array (not of a pointer). */
#define TEARDOWN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * TEARDOWN_TSAN and TEARDOWN_ASAN: 1 in a ThreadSanitizer (AddressSanitizer) build, else 0.
 * gcc defines __SANITIZE_THREAD__; clang answers __has_feature(thread_sanitizer) instead.
 */
#if defined(__SANITIZE_THREAD__)
#define TEARDOWN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEARDOWN_TSAN 1
#endif
#endif
#ifndef TEARDOWN_TSAN
#define TEARDOWN_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define TEARDOWN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEARDOWN_ASAN 1
#endif
#endif
#ifndef TEARDOWN_ASAN
#define TEARDOWN_ASAN 0
#endif

/*
 * A spinning waiter's pause between two looks: it tells the core that this is a spin loop, so
 * that a hyperthread sibling gets the pipeline (x86 pause) or the core may yield it (Arm yield).
 * Elsewhere a compiler barrier, so that the loop still re-reads memory.
 */
static inline void teardown_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif /* TEARDOWN_PATTERNS_COMMON_COMPILER_H */
