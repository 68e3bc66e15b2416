/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Preloaded into every AArch64 test that runs under qemu-aarch64 (qemu.sh): an execve() of an
 * AArch64 program runs it under the emulator again.
 *
 * qemu-user passes a guest's execve() straight to the host kernel, which cannot run an AArch64
 * program unless binfmt_misc is set up to hand it to qemu (machine-wide, and not available in
 * a container). Criterion re-executes the test binary for every test (its BoxFort sandbox), so
 * without this every Criterion test fails to start ("Could not spawn test instance"). execv() is
 * covered too (tests/subprocess.c uses it): glibc's execv() does not go through execve().
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
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

/*
 * qemu-aarch64 -0 ARGV0 -E LD_PRELOAD=<this library> PATH ARGV[1..]; the host's environment
 * loses LD_PRELOAD (the host loader cannot load an AArch64 library into the emulator).
 */
int execve(const char *path, char *const argv[], char *const envp[])
{
	const char *qemu = getenv("TEARDOWN_QEMU"), *preload = getenv("LD_PRELOAD");
	size_t na = count(argv), ne = count(envp), i, j = 0;
	char **nargv, **nenv, *preload_arg;

	if (!is_aarch64_elf(path))
		return (int)syscall(SYS_execve, path, argv, envp);
	if (!qemu)
		qemu = QEMU_DEFAULT;
	nargv = calloc(na + 8, sizeof(*nargv));
	nenv = calloc(ne + 1, sizeof(*nenv));
	preload_arg = malloc(strlen(PRELOAD) + strlen(preload ? preload : "") + 1);
	if (!nargv || !nenv || !preload_arg) {
		errno = ENOMEM;
		return -1;
	}
	strcpy(preload_arg, PRELOAD);
	strcat(preload_arg, preload ? preload : "");
	nargv[j++] = (char *)qemu;
	if (na) {
		nargv[j++] = "-0";
		nargv[j++] = argv[0];
	}
	nargv[j++] = "-E";
	nargv[j++] = preload_arg;
	nargv[j++] = (char *)path;
	for (i = 1; i < na; i++)
		nargv[j++] = argv[i];
	for (i = 0, j = 0; i < ne; i++)
		if (strncmp(envp[i], PRELOAD, strlen(PRELOAD)))
			nenv[j++] = envp[i];
	return (int)syscall(SYS_execve, qemu, nargv, nenv);
}

int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}
