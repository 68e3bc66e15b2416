/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE
#include "tests/subprocess.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "patterns/common/die.h"

struct buf {
	char *data;
	size_t len, cap;
};

static void buf_append(struct buf *b, const char *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->data = realloc(b->data, b->cap);
		if (!b->data)
			teardown_die("subprocess", ENOMEM, "out of memory: %zu bytes", b->cap);
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* In the child: stdout and stderr into the pipes, then argv[0]. */
__attribute__((noreturn))
static void exec_child(char *const argv[], char *const extra_env[], int out[2], int err[2])
{
	if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0)
		teardown_die("subprocess", errno, "dup2");
	close(out[0]);
	close(err[0]);
	close(out[1]);
	close(err[1]);
	for (char *const *e = extra_env; e && *e; e++)
		if (putenv(*e) != 0)
			teardown_die("subprocess", errno, "putenv");
	execv(argv[0], argv);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

void subprocess_run(char *const argv[], char *const extra_env[], bool echo_out,
		    struct subprocess_result *res)
{
	int out[2], err[2], status;
	struct buf bufs[2] = { { 0 }, { 0 } };
	pid_t pid;

	if (pipe(out) != 0 || pipe(err) != 0)
		teardown_die("subprocess", errno, "pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		teardown_die("subprocess", errno, "fork");
	if (pid == 0)
		exec_child(argv, extra_env, out, err);
	close(out[1]);
	close(err[1]);
	struct pollfd fds[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
	int open_fds = 2;
	while (open_fds > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			teardown_die("subprocess", errno, "poll");
		}
		for (int i = 0; i < 2; i++) {
			char chunk[4096];
			ssize_t n;

			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				teardown_die("subprocess", errno, "read");
			if (n == 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			buf_append(&bufs[i], chunk, (size_t)n);
			if (i == 0 && echo_out) {
				fwrite(chunk, 1, (size_t)n, stdout);
				fflush(stdout);
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			teardown_die("subprocess", errno, "waitpid");
	}
	buf_append(&bufs[0], "", 0);
	buf_append(&bufs[1], "", 0);
	res->out = bufs[0].data;
	res->err = bufs[1].data;
	res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

void subprocess_result_free(struct subprocess_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

bool subprocess_check(bool ok, const char *what, const struct subprocess_result *res)
{
	printf("%s  %s\n", ok ? "ok  " : "FAIL", what);
	if (!ok)
		printf("----- exit %d, signal %d; stdout:\n%s----- stderr:\n%s-----\n",
		       res->exit_code, res->signal, res->out, res->err);
	return ok;
}

bool subprocess_crashed(const struct subprocess_result *res)
{
	return res->signal == SIGSEGV || res->signal == SIGBUS ||
	       (res->exit_code != 0 && strstr(res->err, "SEGV"));
}
