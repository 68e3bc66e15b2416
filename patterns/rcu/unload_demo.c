/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rcu_barrier lesson, run for real. A module (a dlopen'ed object) retires an object with
 * trcu_call(); the callback is the module's code. A reader holds the grace period open, so the
 * callback cannot run yet. Then, depending on the argument:
 *   --unload-before-barrier   dlclose() first: the callback runs in unmapped code (SIGSEGV)
 *   --barrier-before-unload   trcu_barrier() first: the callback runs, then dlclose(): clean
 * `bazel run //patterns/rcu:unload_demo -- --unload-before-barrier` builds both and passes the
 * module's path.
 * No sleeps: semaphores order the steps, and the crash is deterministic.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "patterns/common/die.h"
#include "patterns/rcu/trcu.h"

struct trcu_plugin_object;
typedef void trcu_call_fn(struct trcu_head *head, void (*func)(struct trcu_head *head));

static sem_t reader_inside, reader_may_leave;

static void *reader(void *unused)
{
	(void)unused;
	trcu_register_thread();
	trcu_read_lock();
	printf("reader: trcu_read_lock(): inside a read-side critical section\n");
	sem_post(&reader_inside);
	sem_wait(&reader_may_leave);
	trcu_read_unlock();
	printf("reader: trcu_read_unlock(): the grace period can end\n");
	trcu_unregister_thread();
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

static void join_reader(pthread_t thread)
{
	int err = pthread_join(thread, NULL);

	if (err)
		teardown_die("rcu", err, "pthread_join (the reader)");
}

static void unload(void *module, void *callback)
{
	const char *mapped = "no longer mapped";
	Dl_info info;

	if (dlclose(module))
		teardown_die("rcu", 0, "dlclose: %s", dlerror());
	if (dladdr(callback, &info))
		mapped = "still mapped";
	printf("main: dlclose(): module unloaded; its callback at %p is %s\n", callback, mapped);
}

int main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };
	struct trcu_plugin_object *(*init)(void);
	void *(*module_exit)(struct trcu_plugin_object *obj, trcu_call_fn *call);
	void *module, *callback;
	bool unload_first;
	pthread_t thread;
	int err;

	/* The mode and the module, in either order (`bazel run` puts the module first). */
	if (argc == 3 && argv[2][0] == '-') {
		char *module_path = argv[1];

		argv[1] = argv[2];
		argv[2] = module_path;
	}
	if (argc != 3 || (strcmp(argv[1], "--unload-before-barrier") &&
			  strcmp(argv[1], "--barrier-before-unload"))) {
		fprintf(stderr, "usage: %s --unload-before-barrier|--barrier-before-unload "
			"MODULE.so\n", argv[0]);
		return 2;
	}
	unload_first = !strcmp(argv[1], "--unload-before-barrier");
	if (setrlimit(RLIMIT_CORE, &no_core))	/* the crash is the expected outcome */
		teardown_die("rcu", errno, "setrlimit(RLIMIT_CORE)");
	setvbuf(stdout, NULL, _IONBF, 0);
	if (sem_init(&reader_inside, 0, 0) || sem_init(&reader_may_leave, 0, 0))
		teardown_die("rcu", errno, "sem_init");

	module = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
	if (!module) {
		fprintf(stderr, "unload_demo: %s\n", dlerror());
		return 2;
	}
	init = must_dlsym(module, "trcu_plugin_init");
	module_exit = must_dlsym(module, "trcu_plugin_exit");
	printf("main: dlopen(): module loaded\n");
	struct trcu_plugin_object *obj = init();

	err = pthread_create(&thread, NULL, reader, NULL);
	if (err)
		teardown_die("rcu", err, "pthread_create (the reader)");
	sem_wait(&reader_inside);
	/* quote: unload_order */
	callback = module_exit(obj, trcu_call);
	printf("main: module exit: trcu_call(obj, plugin_free_object at %p)\n", callback);
	if (unload_first) {
		unload(module, callback);		/* wrong: the callback is still queued */
		sem_post(&reader_may_leave);
		join_reader(thread);
		printf("main: trcu_barrier(): waits for the callback\n");
		trcu_barrier();
	} else {
		sem_post(&reader_may_leave);
		join_reader(thread);
		printf("main: trcu_barrier(): waits for the callback\n");
		trcu_barrier();			/* right: rcu_barrier() before unload */
		unload(module, callback);
	}
	/* end quote: unload_order */
	printf("main: trcu_barrier() returned; exit 0\n");
	return 0;
}
