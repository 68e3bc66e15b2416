/* SPDX-License-Identifier: BSD-2-Clause */
/* The registration point that drains: register, unregister, shutdown (see registry.h). */
#include "patterns/registry/registry.h"

#include "patterns/common/die.h"
#include "patterns/common/misuse.h"

_Thread_local struct registry_frame *registry_frames;

static void registry_lock(struct registry *r)
{
	int err = pthread_mutex_lock(&r->lock);

	if (err)
		teardown_die("registry", err, "pthread_mutex_lock");
}

static void registry_unlock(struct registry *r)
{
	int err = pthread_mutex_unlock(&r->lock);

	if (err)
		teardown_die("registry", err, "pthread_mutex_unlock");
}

void registry_init(struct registry *r)
{
	int err;

	atomic_init(&r->n_used, 0);
	for (unsigned i = 0; i < REGISTRY_SLOTS; i++) {
		/* A free slot is a ref already run down: every acquire fails until registered. */
		atomic_init(&r->slots[i].ref.word, RUNDOWN_ACTIVE);
		r->slots[i].fn = NULL;
		r->slots[i].cookie = NULL;
		r->slots[i].state = REGISTRY_FREE;
		r->slots[i].gen = 0;
	}
	r->shut_down = false;
	err = pthread_mutex_init(&r->lock, NULL);
	if (err)
		teardown_die("registry", err, "pthread_mutex_init");
}

/* quote: register */
bool registry_register(struct registry *r, registry_fn *fn, void *cookie,
		       struct registry_handle *handle)
{
	struct registry_slot *s = NULL;
	uint32_t i, n;

	if (!fn)
		teardown_misuse("registry", "registry_register with a NULL callback");
	registry_lock(r);
	if (r->shut_down)
		teardown_misuse("registry", "registry_register after registry_shutdown");
	for (i = 0; i < REGISTRY_SLOTS && !s; i++)
		if (r->slots[i].state == REGISTRY_FREE)
			s = &r->slots[i];
	if (!s) {
		registry_unlock(r);
		return false;
	}
	s->state = REGISTRY_LIVE;
	s->gen++;
	*handle = (struct registry_handle){ .slot = (uint32_t)(s - r->slots), .gen = s->gen };
	s->fn = fn;
	s->cookie = cookie;
	/* Release (inside): a call admitted by the re-armed ref sees fn and cookie above. */
	rundown_reinit(&s->ref);
	/* Relaxed, under the lock: only bounds the calls' scan (see registry_call()). */
	n = atomic_load_explicit(&r->n_used, memory_order_relaxed);
	if (handle->slot >= n)
		atomic_store_explicit(&r->n_used, handle->slot + 1, memory_order_relaxed);
	registry_unlock(r);
	return true;
}
/* end quote: register */

/* Is this thread inside a call of slot s (its own callback, however deeply nested)? */
static bool registry_calling(const struct registry_slot *s)
{
	for (const struct registry_frame *f = registry_frames; f; f = f->prev)
		if (f->slot == s)
			return true;
	return false;
}

/* The slot a handle names, marked draining; aborts on a handle that is not registered. */
static struct registry_slot *registry_begin_unregister(struct registry *r,
						       struct registry_handle h)
{
	struct registry_slot *s;

	if (h.slot >= REGISTRY_SLOTS)
		teardown_misuse("registry", "registry_unregister of an invalid handle");
	s = &r->slots[h.slot];
	registry_lock(r);
	if (s->gen == h.gen && s->state == REGISTRY_DRAINING)
		teardown_misuse("registry", "registry_unregister called twice");
	if (s->gen != h.gen || s->state != REGISTRY_LIVE)
		teardown_misuse("registry", "registry_unregister of a listener that is not "
			       "registered (unregistered already)");
	if (registry_calling(s))
		teardown_misuse("registry", "registry_unregister from inside its own callback "
			       "(it would wait for itself forever)");
	s->state = REGISTRY_DRAINING;
	registry_unlock(r);
	return s;
}

/* quote: unregister */
void registry_unregister(struct registry *r, struct registry_handle h)
{
	struct registry_slot *s = registry_begin_unregister(r, h);

	/*
	 * No further calls, and the drain: the fetch_or turns every later acquire away, then the
	 * wait sleeps until every admitted call has released (rundown.c). The lock is not held
	 * while waiting: a listener may register or unregister others from its callback.
	 */
	rundown_wait_for_release(&s->ref);
	rundown_completed(&s->ref);
	registry_lock(r);
	s->fn = NULL;
	s->cookie = NULL;
	s->state = REGISTRY_FREE;
	registry_unlock(r);
}
/* end quote: unregister */

void registry_shutdown(struct registry *r)
{
	registry_lock(r);
	if (r->shut_down)
		teardown_misuse("registry", "registry_shutdown called twice");
	for (unsigned i = 0; i < REGISTRY_SLOTS; i++)
		if (r->slots[i].state != REGISTRY_FREE)
			teardown_misuse("registry", "registry_shutdown with a listener still "
				       "registered (slot %u)", i);
	r->shut_down = true;
	registry_unlock(r);
}

bool registry_is_draining(struct registry *r, struct registry_handle h)
{
	struct registry_slot *s;
	bool draining;

	if (h.slot >= REGISTRY_SLOTS)
		return false;
	s = &r->slots[h.slot];
	registry_lock(r);
	/*
	 * DRAINING is set under the lock, before the wait's fetch_or (which runs outside it): until
	 * that fetch_or a call is still admitted. Active (relaxed, on the word itself): a later
	 * acquire by a thread that saw it reads the word later in its order, and is turned away.
	 */
	draining = s->gen == h.gen && s->state == REGISTRY_DRAINING && rundown_is_active(&s->ref);
	registry_unlock(r);
	return draining;
}
