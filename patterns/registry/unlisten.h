/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The naive twin: a registration point shaped like kauth's today. A scope holds one listener,
 * fn and its cookie; a call loads them and calls; unlisten clears them and returns at once, as
 * kauth_unlisten_scope() does. Nothing waits for a call that has already loaded fn: it runs on
 * while its caller frees the cookie, or unloads fn's code. The race demo (variants.c), the
 * unload demo and the benchmark run this same code.
 */
#ifndef TEARDOWN_PATTERNS_REGISTRY_UNLISTEN_H
#define TEARDOWN_PATTERNS_REGISTRY_UNLISTEN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "patterns/registry/registry.h"
#include "scenario/hooks.h"

struct unlisten_scope {
	_Atomic(registry_fn *) fn;
	_Atomic(void *) cookie;
};

/* kauth_listen_scope(). Release: pairs with the call's acquire load of fn. */
static inline void unlisten_scope_listen(struct unlisten_scope *sc, registry_fn *fn, void *cookie)
{
	atomic_store_explicit(&sc->cookie, cookie, memory_order_relaxed);
	atomic_store_explicit(&sc->fn, fn, memory_order_release);
}

/* quote: naive_call */
static inline bool unlisten_scope_call(struct unlisten_scope *sc, long arg, long *result)
{
	/* Acquire: pairs with listen's release store; the cookie is read after fn. */
	registry_fn *fn = atomic_load_explicit(&sc->fn, memory_order_acquire);

	if (!fn)
		return false;
	*result = fn(atomic_load_explicit(&sc->cookie, memory_order_relaxed), arg);
	return true;
}

/* kauth_unlisten_scope(): no further calls will load fn; those that did run on. */
static inline void unlisten_scope_unlisten(struct unlisten_scope *sc)
{
	SCENARIO_NOTE("unregisters the listener (kauth_unlisten_scope): returns at once");
	atomic_store_explicit(&sc->fn, NULL, memory_order_relaxed);
}
/* end quote: naive_call */

#endif /* TEARDOWN_PATTERNS_REGISTRY_UNLISTEN_H */
