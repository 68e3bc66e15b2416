/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A callback registration point that drains for its caller: registry_unregister() returns only
 * when no call of that listener is running and none can still start. The API kauth's
 * kauth_unlisten_scope() did not give: with it, a driver may free itself, or be unloaded, the
 * moment unregister returns.
 *
 * Built on the one-word rundown (patterns/rundown/rundown.h), one per slot. The slots belong to
 * the registry, not to the listener, and live as long as the registry: so the rundown word, on
 * which both the last caller's release and its wake-up land, outlives every listener, and the
 * caller's last instructions after its count drop are the registry's, not the listener's.
 *   call:        acquire the slot's rundown; if granted, call fn(cookie, arg); release
 *   register:    write fn and cookie into a free (run-down) slot, then re-arm its rundown
 *   unregister:  run the slot's rundown down: from the fetch_or on, every acquire fails (no
 *                further calls), and it waits for every call admitted before (the drain)
 * Why it is enough: the rundown's own argument (rundown.h). Every call is a successful acquire,
 * which lies before the wait's fetch_or in the word's order, or a failed one, which calls
 * nothing; the wait returns after an acquire load that reads "no holders", later in that order
 * than each admitted call's release, so every instruction the listener ran happens before the
 * return of registry_unregister(). fn and cookie are plain fields: written before the re-arm
 * (a release), read after a successful acquire.
 *
 * Why not trcu: its readers must be registered threads and may not sleep in a callback without
 * holding up every writer of the process; a registration point's callers are any thread, and a
 * listener may block. A rundown per slot costs one compare-exchange and one fetch_sub per call.
 *
 * Misuse aborts with "teardown: registry: misuse: ...": a NULL callback; register after
 * registry_shutdown(); unregister of a handle that is not registered (twice, or never); a
 * listener that unregisters itself from inside its own callback (it would wait for itself
 * forever); registry_shutdown() with listeners still registered, or twice.
 * Not detected: two listeners that each unregister the other from inside their callbacks, on
 * two threads at once (each waits for the other); a listener that leaves its callback by
 * longjmp() or pthread_exit() (its call is never released, so unregister waits forever); a
 * handle 2^32 registrations of its slot stale (the generation wraps and names the live one).
 */
#ifndef TEARDOWN_PATTERNS_REGISTRY_REGISTRY_H
#define TEARDOWN_PATTERNS_REGISTRY_REGISTRY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "patterns/common/compiler.h"
#include "patterns/rundown/rundown.h"

#define REGISTRY_SLOTS 8	/* listeners at once (kauth has a fixed table too) */

/* A listener: gets the cookie it registered with and the caller's argument. */
typedef long registry_fn(void *cookie, long arg);

enum registry_slot_state { REGISTRY_FREE, REGISTRY_LIVE, REGISTRY_DRAINING };

struct registry_slot {
	struct rundown_ref ref;	/* run down while the slot is free or draining */
	registry_fn *fn;	/* plain: written before the re-arm, read by admitted calls */
	void *cookie;
	/* Under the registry's lock, for register and unregister alone: */
	enum registry_slot_state state;
	uint32_t gen;		/* bumped by each register, so a stale handle is told apart */
};

struct registry {
	TEARDOWN_CACHE_ALIGNED _Atomic uint32_t n_used;	/* slots ever used: calls scan these */
	struct registry_slot slots[REGISTRY_SLOTS];
	pthread_mutex_t lock;	/* register, unregister, shutdown */
	bool shut_down;
};

/* What registry_register() gives back: the slot, and which registration of it. */
struct registry_handle {
	uint32_t slot;
	uint32_t gen;
};

/*
 * One call in progress on this thread: a chain on the stack, so that registry_unregister()
 * can tell that it was called from inside the listener it would wait for.
 */
struct registry_frame {
	const struct registry_slot *slot;
	struct registry_frame *prev;
};

/* private: for the inline functions below; not API */
extern _Thread_local struct registry_frame *registry_frames;

void registry_init(struct registry *r);

/*
 * Calls the listener of one slot, if it is registered and not being unregistered. True if it
 * was called (its result in *result).
 */
/* quote: call_slot */
static inline bool registry_call_slot(struct registry_slot *s, long arg, long *result)
{
	struct registry_frame frame = { .slot = s, .prev = registry_frames };

	/* The rundown's acquire: a compare-exchange that fails once unregister has begun. */
	if (!rundown_acquire(&s->ref))
		return false;
	registry_frames = &frame;
	*result = s->fn(s->cookie, arg);
	registry_frames = frame.prev;
	/*
	 * The release: from here unregister may return and the listener's code be unloaded; what
	 * runs after it is the registry's own code, and it touches only the slot.
	 */
	rundown_release(&s->ref);
	return true;
}
/* end quote: call_slot */

/*
 * The hot path: calls every registered listener with arg, in slot order. Returns how many
 * were called; *result is the last one's result (untouched if none was called).
 */
/* quote: call */
static inline unsigned registry_call(struct registry *r, long arg, long *result)
{
	/*
	 * Relaxed: the count only bounds the scan. A slot first used after this load belongs to a
	 * registration that did not complete before this call began; the slot itself is published
	 * by its rundown's re-arm, not by this count.
	 */
	uint32_t n = atomic_load_explicit(&r->n_used, memory_order_relaxed);
	unsigned called = 0;

	for (uint32_t i = 0; i < n; i++)
		called += registry_call_slot(&r->slots[i], arg, result);
	return called;
}
/* end quote: call */

/*
 * Registers fn with its cookie. Returns false if every slot is taken. A NULL fn, or a call
 * after registry_shutdown(), aborts.
 */
bool registry_register(struct registry *r, registry_fn *fn, void *cookie,
		       struct registry_handle *handle);

/*
 * Unregisters, and returns only when no call of this listener is running or can still start:
 * afterwards the caller may free the cookie and unload fn's code. Blocks while calls are in
 * flight; must not be called from inside the listener's own callback (aborts).
 */
void registry_unregister(struct registry *r, struct registry_handle handle);

/*
 * The registry closes: afterwards registering aborts. Every listener must have been
 * unregistered (aborts otherwise). The caller frees the registry only once no call is in
 * progress and none can begin (its callers have quiesced): a call that began earlier still
 * scans the later slots, and its last release still touches its slot's word.
 */
void registry_shutdown(struct registry *r);

/*
 * For tests and demos: unregister of this handle has closed the door (every call that begins
 * after this returns true is turned away) and has not yet returned.
 */
bool registry_is_draining(struct registry *r, struct registry_handle handle);

#endif /* TEARDOWN_PATTERNS_REGISTRY_REGISTRY_H */
