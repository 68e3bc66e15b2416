/* SPDX-License-Identifier: BSD-2-Clause */
#include "tests/misuse.h"

#include <signal.h>
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

	if (size == 0 || pipe(pipefd) != 0)
		return false;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		misuse(arg);
		_exit(0);	/* the misuse went unnoticed */
	}
	close(pipefd[1]);
	while (got + 1 < size && (n = read(pipefd[0], stderr_out + got, size - 1 - got)) > 0)
		got += (size_t)n;
	stderr_out[got] = '\0';
	close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(stderr_out, expected);
}
