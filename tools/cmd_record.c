/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross record: a source through the live pipeline (splitter -> game state -> .slp writer), events out. */
#include "cli.h"
#include "pipeline.h"

#include <string.h>

static const char help[] =
	"usage: andross record --source SOURCE --out DIR [--events -|FILE] [--games N] [--frames F]\n"
	"                      [--speed max|1|N] [--nick NAME]\n"
	"\n"
	"Plays a source through the live pipeline and writes each game to DIR/Game_YYYYMMDDTHHMMSS.slp (never\n"
	"replacing a file: a taken name gets _2, _3, ...).\n"
	"  --source SOURCE     FILE.slp, console://HOST[:PORT], dolphin://HOST[:PORT] or relay://HOST[:PORT]; again\n"
	"                      for more consoles (each then writes to DIR/<its name>/)\n"
	"  --out DIR           where the .slp files go (created if missing)\n"
	"  --events -|FILE     game and connection events as JSON Lines (docs/events.md); - for stdout\n"
	"  --games N           exit after N complete games\n"
	"  --frames all|none|N frame events: every frame (default), none, or every Nth completed frame\n"
	"  --speed max|1|N     file sources: max = as fast as possible (default), 1 = real time, N = N times faster\n"
	"  --nick NAME         console nickname for the replay metadata (default: the source's, else unknown);\n"
	"                      at most 63 bytes are kept, cut between characters\n"
	"Progress (`writing PATH`, `wrote PATH`) and warnings go to stderr. Ctrl-C finishes the current file.\n"
	"Exits 1 when a game could not be written whole (a full disk, a folder it may not write); a warning per game\n"
	"names the file and the cause.\n";

int cmd_record(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	struct pipeline_options o = {.command = "record", .frame_every = 1};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			cli_error("record: %s needs a value", a);
			return 2;
		}
		i++;
		int taken = pipeline_parse_option(&o, a, v);
		if (taken < 0)
			return 2;
		if (!taken) {
			cli_error("record: unknown option %s", a);
			fputs(help, stderr);
			return 2;
		}
	}
	if (!o.n_sources || !o.out_dir) {
		cli_error("record: --source and --out are required");
		fputs(help, stderr);
		return 2;
	}
	return pipeline_run(&o);
}
