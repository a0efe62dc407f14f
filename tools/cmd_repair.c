/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross repair: finalise .slp files cut off by a crash. */
#include "cli.h"

#include "slp_file.h"

#include <inttypes.h>
#include <string.h>

static const char help[] =
	"usage: andross repair FILE.slp...\n"
	"\n"
	"Finalises a replay whose writer was cut off (raw length 0 or no metadata): keeps every complete event,\n"
	"drops a trailing partial one, rebuilds the metadata from the events and patches the raw length, so the\n"
	"Slippi tools read it. The file is replaced atomically; a finished file is left alone.\n";

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
		char err[512];
		if (slp_file_repair(argv[i], &res, err, sizeof(err)) < 0) {
			cli_error("repair: %s", err);
			status = 1;
			continue;
		}
		if (res.already_complete) {
			printf("%s: already complete, left as it is\n", argv[i]);
			continue;
		}
		printf("%s: repaired: kept %" PRIu64 " events (%" PRIu64 " bytes), dropped %" PRIu64 " bytes\n",
		       argv[i], res.events_kept, res.bytes_kept, res.bytes_dropped);
		if (res.stream_error[0])
			printf("%s: the events stop being valid here: %s\n", argv[i], res.stream_error);
	}
	return status;
}
