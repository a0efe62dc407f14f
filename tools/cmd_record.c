/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross record: a source through the live pipeline (splitter -> game state -> .slp writer), game events out. */
#include "cli.h"

#include "slp_file.h"
#include "slp_reader.h"
#include "slp_recorder.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char help[] =
	"usage: andross record --source SOURCE --out DIR [--events -|FILE] [--speed max|1|N] [--nick NAME]\n"
	"\n"
	"Plays a source through the same pipeline a live source uses and writes each game to\n"
	"DIR/Game_YYYYMMDDTHHMMSS.slp (never replacing a file: a taken name gets _2, _3, ...).\n"
	"  --source FILE.slp   a replay file played as a source\n"
	"  --out DIR           where the .slp files go (created if missing)\n"
	"  --events -|FILE     game events as JSON Lines (docs/events.md), - for stdout\n"
	"  --speed max|1|N     max: as fast as possible (default); 1: real time (60 frames/s); N: N times faster\n"
	"  --nick NAME         console nickname written into the replay metadata (default: unknown)\n"
	"Progress (`writing PATH`, `wrote PATH`) and warnings go to stderr.\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct record_ctx {
	FILE *events;
	struct bytes line;
	int warnings;
};

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct record_ctx *ctx = ud;
	if (!ctx->events)
		return;
	bytes_clear(&ctx->line);
	if (!slp_game_event_to_json(ev, &ctx->line) || !bytes_append_byte(&ctx->line, '\n'))
		return;
	fwrite(ctx->line.data, 1, ctx->line.len, ctx->events);
	fflush(ctx->events);
}

static void on_file(void *ud, const char *path, bool finished)
{
	(void)ud;
	fprintf(stderr, "%s %s\n", finished ? "wrote" : "writing", path);
}

static void on_warning(void *ud, const char *message)
{
	struct record_ctx *ctx = ud;
	ctx->warnings++;
	fprintf(stderr, "andross: warning: %s\n", message);
}

static int make_dirs(const char *path)
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

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps until `frames` frames have played at 60 x speed since `t0`. */
static void pace(double t0, int64_t frames, double speed)
{
	double due = t0 + (double)frames / (60.0 * speed);
	double wait = due - now_s();
	if (wait <= 0)
		return;
	struct timespec ts = {.tv_sec = (time_t)wait, .tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9)};
	nanosleep(&ts, NULL);
}

static int play_file(struct slp_recorder *rec, const char *path, double speed)
{
	struct bytes file;
	char err[512];
	if (slp_read_whole_file(path, (size_t)1 << 30, &file, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return 1;
	}
	struct slp_container c;
	if (slp_container_parse(file.data, file.len, &c, err, sizeof(err)) < 0 && c.events_offset == 0) {
		cli_error("%s: %s", path, err);
		bytes_free(&file);
		return 1;
	}
	const uint8_t *events = file.data + c.events_offset;
	size_t chunk = speed > 0 ? 256 : 64 * 1024;
	double t0 = now_s();
	bool have_first = false;
	int32_t first_frame = 0;
	int status = 0;
	for (size_t off = 0; off < c.events_size && !stop_requested;) {
		size_t n = c.events_size - off < chunk ? c.events_size - off : chunk;
		if (slp_recorder_feed(rec, events + off, n) < 0) {
			status = 1;
			break;
		}
		off += n;
		const struct slp_game *g = slp_recorder_game(rec);
		if (speed > 0 && g->has_frames) {
			if (!have_first) {
				have_first = true;
				first_frame = g->latest_frame;
				t0 = now_s();
			}
			pace(t0, (int64_t)g->latest_frame - first_frame, speed);
		}
	}
	bytes_free(&file);
	return status;
}

int cmd_record(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	const char *source = NULL, *out = NULL, *events = NULL, *nick = NULL;
	double speed = 0; /* 0 = max */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--source") && v) {
			source = v;
			i++;
		} else if (!strcmp(a, "--out") && v) {
			out = v;
			i++;
		} else if (!strcmp(a, "--events") && v) {
			events = v;
			i++;
		} else if (!strcmp(a, "--nick") && v) {
			nick = v;
			i++;
		} else if (!strcmp(a, "--speed") && v) {
			if (!strcmp(v, "max")) {
				speed = 0;
			} else {
				char *end = NULL;
				speed = strtod(v, &end);
				if (!end || *end || !(speed > 0) || speed > 1e6) {
					cli_error("record: --speed takes max, 1 or a number above 0, not '%s'", v);
					return 2;
				}
			}
			i++;
		} else {
			cli_error("record: unknown or incomplete option %s", a);
			fputs(help, stderr);
			return 2;
		}
	}
	if (!source || !out) {
		cli_error("record: --source and --out are required");
		fputs(help, stderr);
		return 2;
	}
	if (make_dirs(out) < 0) {
		cli_error("record: cannot create %s: %s", out, strerror(errno));
		return 1;
	}
	struct record_ctx ctx = {0};
	bytes_init(&ctx.line, 0);
	if (events && !(ctx.events = cli_open_output(events)))
		return 1;
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct slp_recorder_options opts = {.out_dir = out, .console_nick = nick};
	struct slp_recorder_callbacks cb = {
		.game_event = on_game_event, .file = on_file, .warning = on_warning, .ud = &ctx};
	struct slp_recorder *rec = slp_recorder_create(&opts, &cb);
	if (!rec) {
		cli_error("record: out of memory");
		return 1;
	}
	int status = play_file(rec, source, speed);
	slp_recorder_end(rec);
	slp_recorder_destroy(rec);
	if (ctx.events && ctx.events != stdout)
		fclose(ctx.events);
	bytes_free(&ctx.line);
	return status;
}
