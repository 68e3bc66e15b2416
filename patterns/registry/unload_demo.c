/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Code lifetime, run for real. A driver lives in a module (a dlopen'ed object) and registers a
 * listener. A caller thread is inside the listener, at its very last step; another thread runs
 * the driver's stop routine; as soon as stop has returned, the module is unloaded. Then:
 *   --naive     the framework is kauth-shaped (unlisten returns at once) and the driver keeps
 *               chapter 1's flag and activation count: the count has already dropped, so stop
 *               returns, the module is unmapped, and the caller returns into unmapped code
 *               (SIGSEGV; a sanitizer's SEGV report in a sanitizer build).
 *   --draining  the framework is the registry: stop's unregister waits for the call, which then
 *               returns into the registry's code; only then is the module unloaded: exit 0.
 * `bazel run //patterns/registry:unload_demo -- --naive` builds both and passes the module.
 * No sleeps: semaphores order the steps, and the outcome does not depend on timing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "patterns/common/die.h"
#include "patterns/registry/registry.h"
#include "patterns/registry/unload_plugin.h"
#include "patterns/registry/unlisten.h"

static struct registry demo_registry;
static struct registry_handle demo_handle;
static struct unlisten_scope demo_scope;
static sem_t in_last_step, may_return;
static atomic_bool stop_returned;
static registry_plugin_stop_fn *plugin_stop;

static bool naive_listen(registry_fn *fn, void *cookie)
{
	unlisten_scope_listen(&demo_scope, fn, cookie);
	return true;
}

static void naive_unlisten(void)
{
	unlisten_scope_unlisten(&demo_scope);
	printf("stop: kauth_unlisten_scope() returned\n");
}

static bool registry_listen(registry_fn *fn, void *cookie)
{
	return registry_register(&demo_registry, fn, cookie, &demo_handle);
}

static void registry_unlisten(void)
{
	registry_unregister(&demo_registry, demo_handle);
	printf("stop: registry_unregister() returned\n");
}

static bool naive;

static void last_step(void)
{
	printf("caller: in the listener's last step%s\n",
	       naive ? ", after its count dropped" : "");
	sem_post(&in_last_step);
	sem_wait(&may_return);
	printf("caller: returns from the listener\n");
}

static const struct registry_plugin_host naive_host = {
	.listen = naive_listen, .unlisten = naive_unlisten, .last_step = last_step,
};
static const struct registry_plugin_host draining_host = {
	.listen = registry_listen, .unlisten = registry_unlisten, .last_step = last_step,
};

static void *caller(void *unused)
{
	long result = 0;
	bool called;

	(void)unused;
	if (naive)
		called = unlisten_scope_call(&demo_scope, 0, &result);
	else
		called = registry_call(&demo_registry, 0, &result) != 0;
	printf("caller: back in the framework (called %d, result %ld)\n", called, result);
	return NULL;
}

static void *stopper(void *unused)
{
	(void)unused;
	plugin_stop();
	printf("stop: the driver's stop routine returned\n");
	atomic_store(&stop_returned, true);
	return NULL;
}

static void *must_dlsym(void *module, const char *name)
{
	void *sym = dlsym(module, name);

	if (!sym) {
		fprintf(stderr, "unload_demo: %s\n", dlerror());
		exit(2);
	}
	return sym;
}

static void unload(void *module, void *listener)
{
	const char *mapped = "no longer mapped";
	Dl_info info;

	if (dlclose(module))
		teardown_die("registry", 0, "dlclose: %s", dlerror());
	if (dladdr(listener, &info))
		mapped = "still mapped";
	printf("main: dlclose(): module unloaded; its listener at %p is %s\n", listener, mapped);
}

static void start_thread(pthread_t *t, void *(*fn)(void *))
{
	int err = pthread_create(t, NULL, fn, NULL);

	if (err)
		teardown_die("registry", err, "pthread_create");
}

static void join_thread(pthread_t t)
{
	int err = pthread_join(t, NULL);

	if (err)
		teardown_die("registry", err, "pthread_join");
}

int main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };
	registry_plugin_start_fn *plugin_start;
	pthread_t caller_thread, stop_thread;
	void *module, *listener;

	/* The mode and the module, in either order (`bazel run` puts the module first). */
	if (argc == 3 && argv[2][0] == '-') {
		char *module_path = argv[1];

		argv[1] = argv[2];
		argv[2] = module_path;
	}
	if (argc != 3 || (strcmp(argv[1], "--naive") && strcmp(argv[1], "--draining"))) {
		fprintf(stderr, "usage: %s --naive|--draining MODULE.so\n", argv[0]);
		return 2;
	}
	naive = !strcmp(argv[1], "--naive");
	if (setrlimit(RLIMIT_CORE, &no_core))	/* the crash is the expected outcome */
		teardown_die("registry", errno, "setrlimit(RLIMIT_CORE)");
	setvbuf(stdout, NULL, _IONBF, 0);
	if (sem_init(&in_last_step, 0, 0) || sem_init(&may_return, 0, 0))
		teardown_die("registry", errno, "sem_init");
	registry_init(&demo_registry);

	module = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
	if (!module) {
		fprintf(stderr, "unload_demo: %s\n", dlerror());
		return 2;
	}
	plugin_start = must_dlsym(module, "registry_plugin_start");
	plugin_stop = must_dlsym(module, "registry_plugin_stop");
	listener = plugin_start(naive ? &naive_host : &draining_host, naive);
	printf("main: dlopen(): module loaded, listener registered (%s)\n",
	       naive ? "kauth_listen_scope, with the driver's own flag and count" :
	       "registry_register");

	start_thread(&caller_thread, caller);
	sem_wait(&in_last_step);
	start_thread(&stop_thread, stopper);
	/* quote: unload_order */
	/* Unload as soon as stop returns; let the caller go once stop returned or waits for it. */
	while (!atomic_load(&stop_returned) && !registry_is_draining(&demo_registry, demo_handle))
		sched_yield();
	if (atomic_load(&stop_returned)) {
		join_thread(stop_thread);
		unload(module, listener);		/* the caller is still in the module */
		sem_post(&may_return);
		join_thread(caller_thread);
	} else {
		printf("main: registry_unregister() waits for the caller\n");
		sem_post(&may_return);
		join_thread(stop_thread);
		unload(module, listener);
		join_thread(caller_thread);
	}
	/* end quote: unload_order */
	registry_shutdown(&demo_registry);
	printf("main: every thread joined; exit 0\n");
	return 0;
}
