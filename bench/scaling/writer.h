/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The writer side against the number of registered readers. Each operation under test is a
 * struct scaling_op: how a reader registers and runs its read side, and what one writer-side
 * call is. writer.c runs it with N readers that are either idle (registered, then parked on a
 * futex: no CPU) or active (running the read side on the CPUs other than the writer's).
 */
#ifndef TEARDOWN_BENCH_SCALING_WRITER_H
#define TEARDOWN_BENCH_SCALING_WRITER_H

#include <stdatomic.h>
#include <stdbool.h>

#define SCALING_MAX_READERS 256

struct scaling_op {
	const char *name;
	/* The lab's own asymmetric-fence mode, and the variable that turns it off; NULL if none. */
	bool (*uses_membarrier)(void);
	const char *no_membarrier_env;
	int max_readers;	/* 0: SCALING_MAX_READERS */
	/* Active readers per CPU beyond which a row is skipped, and why; 0: no limit. */
	int max_active_per_cpu;
	const char *why_not_more_active;
	/* On the benchmark thread, before the readers start / after they have all exited. */
	void (*setup)(void);
	void (*teardown)(void);
	/* On reader thread i: register; the read side until *stop; unregister. */
	void (*reader_register)(int i);
	void (*read_loop)(int i, const atomic_bool *stop);
	void (*reader_unregister)(int i);
	/* Idle readers only, around the park: a QSBR reader goes offline. Either may be NULL. */
	void (*reader_park)(int i);
	void (*reader_unpark)(int i);
	/* One timed writer-side call, on the benchmark thread. */
	void (*writer)(void);
};

/* What every read side reads in its section: one field, as the hot-path benchmarks do. */
struct scaling_object {
	int field;
};
extern struct scaling_object scaling_object;

/* The read-side's use of the object: one load the compiler must keep. */
#define scaling_use(obj) __asm__ volatile("" : : "r"((obj)->field))

extern const struct scaling_op scaling_urcu_memb;
extern const struct scaling_op scaling_ck_epoch;

#endif /* TEARDOWN_BENCH_SCALING_WRITER_H */
