/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross: Slippi replays, live sources and relays from the command line. */
#include "cli.h"

#include <signal.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
};

/* One line a command; `andross COMMAND --help` gives each command's options. */
static const struct command commands[] = {
	{"inspect", cmd_inspect, "FILE.slp... [--json]  what a replay holds: players, frames, game end, winners"},
	{"record", cmd_record, "--source SOURCE --out DIR [--events -] [--games N]  write each game of a source"},
	{"relay", cmd_relay, "--source SOURCE [--listen HOST:PORT] [--out DIR]  serve a source to many clients"},
	{"repair", cmd_repair, "FILE.slp...  finalise a .slp cut off by a crash so the Slippi tools read it"},
	{"console-sim", cmd_console_sim, "--replay FILE... --listen HOST:PORT  a simulated Wii serving replays"},
	{"discover", cmd_discover, "[--listen HOST:PORT] [--seconds N] [--json]  list the Wii consoles on the network"},
	{"dolphin-sim", cmd_dolphin_sim, "--replay FILE... --listen HOST:PORT  a simulated Slippi Dolphin"},
};

static void usage(FILE *out)
{
	fputs("usage: andross COMMAND [OPTIONS]\n\nCommands:\n", out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].synopsis);
	fputs("\nSources: FILE.slp, console://HOST[:PORT], dolphin://HOST[:PORT], relay://HOST[:PORT].\n"
	      "Run `andross COMMAND --help` for a command's options. andross " ANDROSS_VERSION "\n",
	      out);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("andross " ANDROSS_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	cli_error("unknown command '%s'", argv[1]);
	usage(stderr);
	return 2;
}
