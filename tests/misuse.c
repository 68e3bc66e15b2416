/* SPDX-License-Identifier: BSD-2-Clause */
#include "tests/misuse.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool misuse_aborts_with(void (*misuse)(void *), void *arg, const char *expected, char *stderr_out,
			size_t size)
{
	int pipefd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (size == 0)
		return false;
	/* A failed pipe or fork fails the caller's assertion, with the reason as "stderr". */
	if (pipe(pipefd) != 0) {
		snprintf(stderr_out, size, "misuse_aborts_with: pipe: %s", strerror(errno));
		return false;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(stderr_out, size, "misuse_aborts_with: fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return false;
	}
	if (pid == 0) {
		if (dup2(pipefd[1], STDERR_FILENO) < 0)
			_exit(127);	/* no SIGABRT: the caller's assertion fails */
		close(pipefd[0]);
		misuse(arg);
		_exit(0);	/* the misuse went unnoticed */
	}
	close(pipefd[1]);
	while (got + 1 < size && (n = read(pipefd[0], stderr_out + got, size - 1 - got)) > 0)
		got += (size_t)n;
	stderr_out[got] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) != pid) {
		if (errno != EINTR) {
			snprintf(stderr_out, size, "misuse_aborts_with: waitpid: %s",
				 strerror(errno));
			return false;
		}
	}
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(stderr_out, expected);
}
