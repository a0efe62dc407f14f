/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross: Slippi replays, live sources and relays from the command line. */
#include "cli.h"

#include <signal.h>
#include <string.h>

static const char usage[] =
	"usage: andross COMMAND [OPTIONS]\n"
	"\n"
	"Commands:\n"
	"  inspect FILE.slp... [--json]     what a replay holds: version, stage, players, frames, game end, winners\n"
	"  record --source SOURCE --out DIR  play a source through the live pipeline and write each game's .slp\n"
	"         [--events -|FILE] [--speed max|1|N]\n"
	"  repair FILE.slp...                finalise a .slp cut off by a crash so the Slippi tools read it\n"
	"\n"
	"Run `andross COMMAND --help` for a command's options. andross " ANDROSS_VERSION "\n";

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("andross " ANDROSS_VERSION);
		return 0;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "inspect"))
		return cmd_inspect(argc - 1, argv + 1);
	if (!strcmp(cmd, "record"))
		return cmd_record(argc - 1, argv + 1);
	if (!strcmp(cmd, "repair"))
		return cmd_repair(argc - 1, argv + 1);
	cli_error("unknown command '%s'", cmd);
	fputs(usage, stderr);
	return 2;
}
