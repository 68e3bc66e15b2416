/* SPDX-License-Identifier: BSD-2-Clause */
/* API misuse: one clear message, then abort. Never silent corruption. */
#ifndef TEARDOWN_PATTERNS_COMMON_MISUSE_H
#define TEARDOWN_PATTERNS_COMMON_MISUSE_H

/*
 * Prints "teardown: <pattern>: misuse: <what>" on stderr and aborts. Every pattern calls this
 * when its API is used in a way its contract forbids (exit without enter, teardown twice, ...).
 */
__attribute__((noreturn, format(printf, 2, 3)))
void teardown_misuse(const char *pattern, const char *fmt, ...);

#endif /* TEARDOWN_PATTERNS_COMMON_MISUSE_H */
