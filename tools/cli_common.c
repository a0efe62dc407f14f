/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"

#include "net/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <string.h>

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("andross: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

FILE *cli_open_output(const char *path)
{
	if (!strcmp(path, "-"))
		return stdout;
	FILE *f = fopen(path, "w");
	if (!f)
		cli_error("cannot open %s: %s", path, strerror(errno));
	return f;
}

int cli_make_dirs(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static struct net_loop *signal_loop;
static volatile sig_atomic_t signalled;

bool cli_signalled(void)
{
	return signalled != 0;
}

static void on_signal(int sig)
{
	(void)sig;
	signalled = 1;
	if (signal_loop)
		net_loop_stop(signal_loop); /* async-signal-safe: a flag and a write to a pipe */
}

void cli_stop_loop_on_signals(struct net_loop *loop)
{
	signal_loop = loop;
	struct sigaction sa = {0};
	sa.sa_handler = loop ? on_signal : SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void cli_catch_signals(void)
{
	signal_loop = NULL;
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool cli_parse_speed(const char *text, double *speed)
{
	if (!strcmp(text, "max")) {
		*speed = 0;
		return true;
	}
	char *end = NULL;
	double v = strtod(text, &end);
	if (end == text || *end || !(v > 0) || v > 1e6)
		return false;
	*speed = v;
	return true;
}

bool cli_parse_count(const char *text, long min, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min)
		return false;
	*out = v;
	return true;
}
