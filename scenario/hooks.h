/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Forced-interleaving hooks and timeline notes.
 *
 * Compiled to nothing unless TEARDOWN_RACE_HOOKS is defined, which only the race binaries do
 * (tools/teardown.bzl). A pattern places the scheduling hooks at the places the forced and late
 * schedules need to know about:
 *
 *   SCENARIO_READER_WINDOW()    the hot path holds what it is about to use (a pointer, a reference,
 *                               an activation); in the forced schedule the reader stops here and
 *                               lets teardown run.
 *   SCENARIO_TEARDOWN_BLOCKS()  teardown is about to wait for readers; in the forced schedule the
 *                               reader is released here, since teardown can go no further.
 *   SCENARIO_RELEASER_TAIL()    a release or exit path has just given up what teardown waits for
 *                               (the last count drop, the slot cleared) and is about to make its
 *                               remaining touches. In the late schedule the releaser stops here
 *                               until teardown has returned (and so has freed what it frees), or
 *                               until teardown's thread sleeps in the kernel waiting for this
 *                               releaser, or a few seconds have passed; then it goes on. That wait
 *                               is no happens-before edge, so a touch of freed memory after this
 *                               point is reported. In the forced and stress schedules it does
 *                               nothing; a call from the teardown thread itself never acts.
 *
 * Only the first call of each in a forced or late run acts; later calls are no-ops.
 * SCENARIO_NOTE() adds one line to the timeline that the tour prints, tagged with the thread.
 * SCENARIO_THREAD_ROLE("T3 DPC") names a thread a pattern starts itself, for those tags.
 */
#ifndef TEARDOWN_SCENARIO_HOOKS_H
#define TEARDOWN_SCENARIO_HOOKS_H

#ifdef TEARDOWN_RACE_HOOKS
__attribute__((format(printf, 1, 2))) void scenario_note(const char *fmt, ...);
void scenario_reader_window(void);
void scenario_teardown_blocks(void);
void scenario_releaser_tail(void);
void scenario_grace_sleep(unsigned seconds);
void scenario_thread_role(const char *role);
#define SCENARIO_NOTE(...) scenario_note(__VA_ARGS__)
#define SCENARIO_THREAD_ROLE(role) scenario_thread_role(role)
#define SCENARIO_READER_WINDOW() scenario_reader_window()
#define SCENARIO_TEARDOWN_BLOCKS() scenario_teardown_blocks()
#define SCENARIO_RELEASER_TAIL() scenario_releaser_tail()
#else
#define SCENARIO_NOTE(...) ((void)0)
#define SCENARIO_THREAD_ROLE(role) ((void)0)
#define SCENARIO_READER_WINDOW() ((void)0)
#define SCENARIO_TEARDOWN_BLOCKS() ((void)0)
#define SCENARIO_RELEASER_TAIL() ((void)0)
#endif

#endif /* TEARDOWN_SCENARIO_HOOKS_H */
