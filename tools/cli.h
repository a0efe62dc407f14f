/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The andross command-line tool: one function per command, shared helpers. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

int cmd_inspect(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_repair(int argc, char **argv);
int cmd_console_sim(int argc, char **argv);
int cmd_dolphin_sim(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_relay(int argc, char **argv);

/* True when argv holds -h or --help. */
bool cli_wants_help(int argc, char **argv);
/* Prints `andross: <message>` to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* mkdir -p. Returns 0, or -1 with errno. */
int cli_make_dirs(const char *path);
/* SIGINT and SIGTERM stop this loop (NULL: they stop nothing). */
struct net_loop;
void cli_stop_loop_on_signals(struct net_loop *loop);
/* SIGINT and SIGTERM call stop(ud), which must be async-signal-safe (net_loop_stop, engine_stop); NULL restores
 * the defaults. */
void cli_stop_on_signals(void (*stop)(void *ud), void *ud);
/* SIGINT and SIGTERM only set the flag cli_signalled reads (for a command that ends gracefully on the loop);
 * cli_stop_loop_on_signals(NULL) restores the defaults. */
void cli_catch_signals(void);
/* True once SIGINT or SIGTERM arrived while cli_stop_loop_on_signals or cli_catch_signals was in force. */
bool cli_signalled(void);
/* `max` (0), `1` or any number above 0 for --speed. Returns false on anything else. */
bool cli_parse_speed(const char *text, double *speed);
/* A whole number from min up. Returns false on anything else. */
bool cli_parse_count(const char *text, long min, long *out);
/* Opens `-` as stdout, anything else as a file for writing. NULL with an error printed on failure. */
FILE *cli_open_output(const char *path);
