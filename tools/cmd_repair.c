/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross repair: finalise .slp files cut off by a crash, or whose raw length is wrong. */
#include "cli.h"

#include "slp_file.h"

#include <inttypes.h>
#include <string.h>

static const char help[] =
	"usage: andross repair FILE.slp...\n"
	"\n"
	"Finalises a replay whose writer was cut off (raw length 0 or no metadata), or whose raw length is wrong.\n"
	"The events decide, not the length: it keeps the longest run of valid events (those `andross inspect`\n"
	"accepts), drops what follows them (a partial event, damage), and rebuilds the metadata from the events;\n"
	"when the file's own metadata follows the events, only the raw length is patched. It never writes a file\n"
	"with fewer valid events than the input holds. A file that needs nothing is left alone. It refuses (exit 1,\n"
	"saying why) a file another process is still writing, one without a complete Game Start, and a finished\n"
	"replay whose events are damaged inside. The file (a symlink's target) is replaced atomically.\n";

int cmd_repair(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	if (argc < 2) {
		fputs(help, stderr);
		return 2;
	}
	int status = 0;
	for (int i = 1; i < argc; i++) {
		struct slp_repair_result res;
		char err[768];
		if (slp_file_repair(argv[i], &res, err, sizeof(err)) < 0) {
			cli_error("repair: %s", err);
			status = 1;
			continue;
		}
		if (res.already_complete) {
			printf("%s: already complete, left as it is", argv[i]);
			if (res.trailing_bytes)
				printf(" (%" PRIu64 " bytes after its end are not part of the replay)",
				       res.trailing_bytes);
			printf("\n");
			continue;
		}
		if (res.metadata_kept) {
			printf("%s: repaired: the raw length said %" PRIu32 ", the events end after %" PRIu64
			       " bytes, where the file's metadata begins: kept all %" PRIu64
			       " events and the metadata\n",
			       argv[i], res.raw_length_before, res.bytes_kept, res.events_kept);
			continue;
		}
		printf("%s: repaired: kept %" PRIu64 " events (%" PRIu64 " bytes), dropped %" PRIu64
		       " bytes, rebuilt the metadata from the events\n",
		       argv[i], res.events_kept, res.bytes_kept, res.bytes_dropped);
		if (res.stream_error[0])
			printf("%s: the events stop being valid here: %s (events start at file byte 15)\n", argv[i],
			       res.stream_error);
	}
	return status;
}
