/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"

#include "net/loop.h"
#include "slp_file.h"

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
	return slp_file_make_dirs(path);
}

/* what a signal stops: set before the handler is installed, read only by it */
static void (*signal_stop)(void *ud);
static void *signal_stop_ud;
static volatile sig_atomic_t signalled;

bool cli_signalled(void)
{
	return signalled != 0;
}

static void on_signal(int sig)
{
	(void)sig;
	signalled = 1;
	if (signal_stop)
		signal_stop(signal_stop_ud); /* async-signal-safe: a flag and a write to a pipe */
}

static void install(void (*handler)(int))
{
	struct sigaction sa = {0};
	sa.sa_handler = handler;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void stop_loop(void *ud)
{
	net_loop_stop(ud);
}

void cli_stop_loop_on_signals(struct net_loop *loop)
{
	if (loop)
		cli_stop_on_signals(stop_loop, loop);
	else
		cli_stop_on_signals(NULL, NULL);
}

void cli_stop_on_signals(void (*stop)(void *ud), void *ud)
{
	install(SIG_DFL); /* no handler runs while the target changes */
	signal_stop = stop;
	signal_stop_ud = ud;
	if (stop)
		install(on_signal);
}

void cli_catch_signals(void)
{
	cli_stop_on_signals(NULL, NULL);
	install(on_signal);
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
