/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A callback's dispatch: a raw indirect call, kauth's scope (load and call), and the registry
 * (acquire the slot's rundown, call, release). Each listener reads one field of the device.
 * Hot-path rows without the "/work" twin: the work would belong inside the listener, where the
 * dispatch loop cannot put it.
 */
#include <stdatomic.h>

#include "bench/scenario_bench.h"
#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/registry/registry.h"
#include "patterns/registry/unlisten.h"
#include "scenario/device.h"

static struct registry bench_registry;
static struct registry_handle bench_handle;
static struct unlisten_scope bench_scope;
static _Atomic(registry_fn *) bench_raw_fn;	/* loaded each time: no devirtualised call */
static struct device *bench_dev;

static long bench_listener(void *cookie, long arg)
{
	return ((struct device *)cookie)->state + arg;
}

static void dispatch_setup(const bench_state *s)
{
	(void)s;
	bench_dev = device_new(1);
	registry_init(&bench_registry);
	if (!registry_register(&bench_registry, bench_listener, bench_dev, &bench_handle))
		teardown_die("registry", 0, "a fresh registry has no free slot");
	unlisten_scope_listen(&bench_scope, bench_listener, bench_dev);
	atomic_store(&bench_raw_fn, bench_listener);
}

static void dispatch_teardown(const bench_state *s)
{
	(void)s;
	unlisten_scope_unlisten(&bench_scope);
	registry_unregister(&bench_registry, bench_handle);
	registry_shutdown(&bench_registry);
	device_free(bench_dev);
}

static void bm_raw_call(bench_state *s)
{
	BENCH_LOOP(s)
		bench_sink(atomic_load_explicit(&bench_raw_fn, memory_order_relaxed)(bench_dev, 0));
}

static void bm_unlisten_scope(bench_state *s)
{
	long result = 0;

	BENCH_LOOP(s)
		if (teardown_likely(unlisten_scope_call(&bench_scope, 0, &result)))
			bench_sink(result);
}

static void bm_registry_call(bench_state *s)
{
	long result = 0;

	BENCH_LOOP(s)
		if (teardown_likely(registry_call(&bench_registry, 0, &result)))
			bench_sink(result);
}

static void dispatch_register(const char *name, bench_fn *fn)
{
	bench_teardown(bench_setup(scenario_bench_register_no_work(name, fn), dispatch_setup),
		       dispatch_teardown);
}

BENCH_REGISTRATION(registry_register_benchmarks)
{
	dispatch_register("registry/raw_call (unsafe)", bm_raw_call);
	dispatch_register("registry/kauth_scope_call (unsafe)", bm_unlisten_scope);
	dispatch_register("registry/registry_call", bm_registry_call);
}
