/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Preloaded into every AArch64 program that runs under qemu-aarch64 (qemu.sh): a program it
 * executes that is an AArch64 program runs under the emulator again.
 *
 * qemu-user passes a guest's execve() straight to the host kernel, which cannot run an AArch64
 * program unless binfmt_misc is set up to hand it to qemu (machine-wide, and not available in
 * a container). Criterion re-executes the test binary for every test (its BoxFort sandbox),
 * some tests re-execute themselves in another mode, and the torture spawns itself once per
 * mode; without this none of them starts. execve(), execv() and posix_spawn() are covered:
 * glibc's execv() and posix_spawn() do not go through execve().
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define QEMU_DEFAULT "/usr/bin/qemu-aarch64"
#define PRELOAD "LD_PRELOAD="

static bool is_aarch64_elf(const char *path)
{
	Elf64_Ehdr eh;
	long fd, n;

	fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = syscall(SYS_read, fd, &eh, sizeof(eh));
	syscall(SYS_close, fd);
	return n == (long)sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	       eh.e_machine == EM_AARCH64;
}

static size_t count(char *const v[])
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

struct emulated {
	const char *qemu;
	char **argv;
	char **envp;
	char *preload;
	char exe[PATH_MAX];
};

/*
 * For an AArch64 PATH: qemu-aarch64 -0 ARGV0 -E LD_PRELOAD=<this library> PATH ARGV[1..], in an
 * environment without LD_PRELOAD (the host's loader cannot load an AArch64 library into the
 * emulator). /proc/self/exe is the emulator for the host: it becomes the guest's program.
 * Returns false (errno set on failure) when PATH is to be executed as it is.
 */
static bool emulate(const char *path, char *const argv[], char *const envp[], struct emulated *e)
{
	const char *preload = getenv("LD_PRELOAD");
	size_t na = count(argv), ne = count(envp), i, j = 0;
	ssize_t n;

	errno = 0;
	if (!is_aarch64_elf(path))
		return false;
	if (!strcmp(path, "/proc/self/exe")) {
		n = readlink(path, e->exe, sizeof(e->exe) - 1);
		if (n < 0)
			return false;
		e->exe[n] = '\0';
		path = e->exe;
	}
	e->qemu = getenv("TEARDOWN_QEMU") ? getenv("TEARDOWN_QEMU") : QEMU_DEFAULT;
	e->argv = calloc(na + 8, sizeof(*e->argv));
	e->envp = calloc(ne + 1, sizeof(*e->envp));
	e->preload = malloc(strlen(PRELOAD) + strlen(preload ? preload : "") + 1);
	if (!e->argv || !e->envp || !e->preload) {
		errno = ENOMEM;
		return false;
	}
	strcpy(e->preload, PRELOAD);
	strcat(e->preload, preload ? preload : "");
	e->argv[j++] = (char *)e->qemu;
	if (na) {
		e->argv[j++] = "-0";
		e->argv[j++] = argv[0];
	}
	e->argv[j++] = "-E";
	e->argv[j++] = e->preload;
	e->argv[j++] = (char *)path;
	for (i = 1; i < na; i++)
		e->argv[j++] = argv[i];
	for (i = 0, j = 0; i < ne; i++)
		if (strncmp(envp[i], PRELOAD, strlen(PRELOAD)))
			e->envp[j++] = envp[i];
	return true;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	struct emulated e;

	if (emulate(path, argv, envp, &e))
		return (int)syscall(SYS_execve, e.qemu, e.argv, e.envp);
	if (errno)
		return -1;
	return (int)syscall(SYS_execve, path, argv, envp);
}

int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
		const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	int (*real)(pid_t *, const char *, const posix_spawn_file_actions_t *,
		    const posix_spawnattr_t *, char *const[], char *const[]);
	struct emulated e;
	int err;

	*(void **)&real = dlsym(RTLD_NEXT, "posix_spawn");
	if (!real)
		return ENOSYS;
	if (emulate(path, argv, envp, &e)) {
		err = real(pid, e.qemu, actions, attr, e.argv, e.envp);
		free(e.argv);
		free(e.envp);
		free(e.preload);
		return err;
	}
	return errno ? errno : real(pid, path, actions, attr, argv, envp);
}
