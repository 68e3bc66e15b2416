/* SPDX-License-Identifier: BSD-2-Clause */
#include "tests/sanitizer_report.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "patterns/common/compiler.h"

/* A frame line: "#0 func file:line ..." (TSan) or "#0 0xADDR in func file:line ..." (ASan). */
static bool parse_frame(const char *line, char *func, size_t fsize, char *loc, size_t lsize)
{
	char a[256], b[256], c[256], d[256];
	int n;

	while (isspace((unsigned char)*line))
		line++;
	if (line[0] != '#' || !isdigit((unsigned char)line[1]))
		return false;
	a[0] = b[0] = c[0] = d[0] = '\0';
	n = sscanf(line, "#%*d %255s %255s %255s %255s", a, b, c, d);
	if (n >= 3 && !strncmp(a, "0x", 2) && !strcmp(b, "in")) {
		snprintf(func, fsize, "%s", c);
		snprintf(loc, lsize, "%s", n >= 4 ? d : "");
	} else {
		snprintf(func, fsize, "%s", a);
		snprintf(loc, lsize, "%s", n >= 2 ? b : "");
	}
	/* "/.../execroot/teardown/./scenario/x.h" -> "scenario/x.h" */
	const char *exec = strstr(loc, "/execroot/");
	if (exec && (exec = strchr(exec + strlen("/execroot/"), '/')))
		memmove(loc, exec + 1, strlen(exec + 1) + 1);
	while (!strncmp(loc, "./", 2))
		memmove(loc, loc + 2, strlen(loc + 2) + 1);
	/* "file:line:col" -> "file:line" */
	char *last = strrchr(loc, ':');
	if (last && last != loc) {
		char *prev = last - 1;
		while (prev > loc && isdigit((unsigned char)*prev))
			prev--;
		if (*prev == ':' && isdigit((unsigned char)last[1]))
			*last = '\0';
	}
	return true;
}

static bool is_sanitizer_frame(const char *func, const char *loc)
{
	static const char *const allocator[] = { "free", "__interceptor_free", "malloc",
						 "operator", "__tsan_", "__asan_", "__sanitizer" };

	for (size_t i = 0; i < TEARDOWN_ARRAY_SIZE(allocator); i++)
		if (!strncmp(func, allocator[i], strlen(allocator[i])))
			return true;
	return strstr(loc, "sanitizer") || strstr(loc, "libtsan") || strstr(loc, "libasan");
}

static bool is_free_frame(const char *func)
{
	return !strcmp(func, "free") || !strcmp(func, "__interceptor_free") ||
	       !strncmp(func, "operator delete", 15) || !strcmp(func, "munmap") ||
	       !strcmp(func, "__interceptor_munmap");
}

/* One stack: the two topmost frames of our code, and whether it is the free's stack. */
struct stack {
	char top[SANITIZER_FRAME_MAX], caller[SANITIZER_FRAME_MAX];
	char header[192];
	bool frees;
	int frames;
};

static void stack_add(struct stack *s, const char *func, const char *loc)
{
	char frame[SANITIZER_FRAME_MAX];

	if (s->frames++ == 0 && is_free_frame(func))
		s->frees = true;
	if (is_sanitizer_frame(func, loc))
		return;
	/* device_free() poisons the canary before free(): that write is the free's side too. */
	if (!s->top[0] && !strcmp(func, "device_free"))
		s->frees = true;
	snprintf(frame, sizeof(frame), "%s %s", func, loc);
	if (!s->top[0])
		snprintf(s->top, sizeof(s->top), "%s", frame);
	else if (!s->caller[0])
		snprintf(s->caller, sizeof(s->caller), "%s", frame);
}

bool sanitizer_report_parse(const char *text, struct sanitizer_report *r)
{
	struct stack stacks[2];
	int nstacks = 0;
	bool in_stack = false;
	const char *p;

	memset(r, 0, sizeof(*r));
	memset(stacks, 0, sizeof(stacks));
	if ((p = strstr(text, "WARNING: ThreadSanitizer: "))) {
		snprintf(r->sanitizer, sizeof(r->sanitizer), "ThreadSanitizer");
		p += strlen("WARNING: ThreadSanitizer: ");
		size_t n = strcspn(p, "(\n");
		while (n > 0 && p[n - 1] == ' ')
			n--;
		snprintf(r->kind, sizeof(r->kind), "%.*s", (int)n, p);
	} else if ((p = strstr(text, "ERROR: AddressSanitizer: "))) {
		snprintf(r->sanitizer, sizeof(r->sanitizer), "AddressSanitizer");
		p += strlen("ERROR: AddressSanitizer: ");
		snprintf(r->kind, sizeof(r->kind), "%.*s", (int)strcspn(p, " \n"), p);
	} else {
		return false;
	}
	r->found = true;
	/* The first two stacks after the headline: the two conflicting accesses. */
	for (p = strchr(p, '\n'); p && *p && nstacks <= 2; p = strchr(p, '\n')) {
		char line[512], func[256], loc[256];
		const char *start = ++p;
		size_t n = strcspn(start, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)n, start);
		if (parse_frame(line, func, sizeof(func), loc, sizeof(loc))) {
			if (in_stack)
				stack_add(&stacks[nstacks - 1], func, loc);
			continue;
		}
		in_stack = false;
		if (strstr(line, "previously allocated") || strstr(line, "Thread T") ||
		    strstr(line, "Location is") || strstr(line, "Mutex ") ||
		    strstr(line, "SUMMARY"))
			break;
		if (nstacks < 2 && (strstr(line, " of size ") || strstr(line, "freed by"))) {
			const char *h = line;
			size_t len;

			while (isspace((unsigned char)*h))
				h++;
			/* Only the line's final colon ends the header: "(mutexes: read M11):". */
			len = strlen(h);
			while (len > 0 && (h[len - 1] == ':' || isspace((unsigned char)h[len - 1])))
				len--;
			snprintf(stacks[nstacks].header, sizeof(stacks[nstacks].header), "%.*s",
				 (int)len, h);
			nstacks++;
			in_stack = true;
		}
	}
	for (int i = 0; i < nstacks; i++) {
		bool frees = stacks[i].frees || strstr(stacks[i].header, "freed by");
		if (frees && !r->free_top[0]) {
			snprintf(r->free_top, sizeof(r->free_top), "%s", stacks[i].top);
			snprintf(r->free_caller, sizeof(r->free_caller), "%s", stacks[i].caller);
		} else if (!frees && !r->use_top[0]) {
			snprintf(r->use_access, sizeof(r->use_access), "%s", stacks[i].header);
			snprintf(r->use_top, sizeof(r->use_top), "%s", stacks[i].top);
			snprintf(r->use_caller, sizeof(r->use_caller), "%s", stacks[i].caller);
		}
	}
	return true;
}
