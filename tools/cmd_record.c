/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross record: a source through the live pipeline (splitter -> game state -> .slp writer), events out. */
#include "cli.h"

#include "net/loop.h"
#include "slp_recorder_thread.h"
#include "source.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char help[] =
	"usage: andross record --source SOURCE --out DIR [--events -|FILE] [--games N] [--speed max|1|N]\n"
	"                      [--nick NAME]\n"
	"\n"
	"Plays a source through the live pipeline and writes each game to DIR/Game_YYYYMMDDTHHMMSS.slp (never\n"
	"replacing a file: a taken name gets _2, _3, ...).\n"
	"  --source SOURCE     a replay file (FILE.slp); more kinds are listed in docs/cli.md\n"
	"  --out DIR           where the .slp files go (created if missing)\n"
	"  --events -|FILE     game and connection events as JSON Lines (docs/events.md); - for stdout\n"
	"  --games N           exit after N complete games\n"
	"  --frames all|none|N frame events: every frame (default), none, or every Nth completed frame\n"
	"  --speed max|1|N     file sources: max = as fast as possible (default), 1 = real time, N = N times faster\n"
	"  --nick NAME         console nickname for the replay metadata (default: the source's, else unknown)\n"
	"Progress (`writing PATH`, `wrote PATH`) and warnings go to stderr. Ctrl-C finishes the current file.\n";

static struct net_loop *signal_loop;

static void on_signal(int sig)
{
	(void)sig;
	if (signal_loop)
		net_loop_stop(signal_loop);
}

struct record_ctx {
	const char *url;
	FILE *events;
	struct bytes line;          /* for lines written on the loop thread */
	struct bytes recorder_line; /* for lines written on the recorder thread */
	struct net_loop *loop;
	struct slp_recorder_thread *rec;
	uint64_t games_written; /* recorder thread only */
	long frame_every;       /* 0: no frame events; 1: all; N: every Nth */
	uint64_t frames_seen;   /* recorder thread only */
	long games_wanted;
	bool source_failed;
};

/* One fwrite per line: stdio locks the stream, so lines from the two threads never interleave. */
static void emit(struct record_ctx *ctx, struct bytes *line)
{
	if (!ctx->events || !bytes_append_byte(line, '\n'))
		return;
	fwrite(line->data, 1, line->len, ctx->events);
	fflush(ctx->events);
}

static void emit_line(struct record_ctx *ctx)
{
	emit(ctx, &ctx->line);
}

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct record_ctx *ctx = ud;
	if (!ctx->events)
		return;
	/* every frame event carries the whole state, so a consumer may drop any of them */
	if (ev->type == SLP_GAME_EVENT_FRAME && (ctx->frame_every == 0 || ctx->frames_seen++ % ctx->frame_every))
		return;
	bytes_clear(&ctx->recorder_line);
	if (slp_game_event_to_json(ev, &ctx->recorder_line))
		emit(ctx, &ctx->recorder_line);
}

static void on_file(void *ud, const char *path, bool finished)
{
	struct record_ctx *ctx = ud;
	fprintf(stderr, "%s %s\n", finished ? "wrote" : "writing", path);
	if (finished && ctx->games_wanted > 0 && (long)++ctx->games_written >= ctx->games_wanted)
		net_loop_stop(ctx->loop); /* safe from any thread */
}

static void on_warning(void *ud, const char *message)
{
	(void)ud;
	fprintf(stderr, "andross: warning: %s\n", message);
}

static void on_source_data(void *ud, const uint8_t *bytes, size_t len)
{
	struct record_ctx *ctx = ud;
	slp_recorder_thread_feed(ctx->rec, bytes, len);
}

static void on_source_state(void *ud, enum source_state state, const char *reason)
{
	struct record_ctx *ctx = ud;
	if (!ctx->events)
		return;
	bytes_clear(&ctx->line);
	if (source_state_event_json(&ctx->line, ctx->url, state, reason))
		emit_line(ctx);
}

static void on_source_gap(void *ud, uint64_t from_byte, uint64_t to_byte, const char *reason)
{
	struct record_ctx *ctx = ud;
	slp_recorder_thread_restart_at_boundary(ctx->rec);
	if (to_byte > from_byte)
		fprintf(stderr, "andross: warning: lost bytes %llu..%llu of the source: %s\n",
			(unsigned long long)from_byte, (unsigned long long)to_byte, reason);
	else
		fprintf(stderr, "andross: warning: the source's stream restarted (bytes may be lost): %s\n", reason);
	if (!ctx->events)
		return;
	bytes_clear(&ctx->line);
	if (source_gap_event_json(&ctx->line, ctx->url, from_byte, to_byte, reason))
		emit_line(ctx);
}

static void on_source_ended(void *ud, const char *reason)
{
	struct record_ctx *ctx = ud;
	(void)reason;
	net_loop_stop(ctx->loop);
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

int cmd_record(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	const char *source = NULL, *out = NULL, *events = NULL, *nick = NULL;
	struct source_options sopts = {0};
	long games = 0;
	long frame_every = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			cli_error("record: %s needs a value", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--source")) {
			source = v;
		} else if (!strcmp(a, "--out")) {
			out = v;
		} else if (!strcmp(a, "--events")) {
			events = v;
		} else if (!strcmp(a, "--nick")) {
			nick = v;
		} else if (!strcmp(a, "--games")) {
			char *end = NULL;
			games = strtol(v, &end, 10);
			if (!end || *end || games < 1) {
				cli_error("record: --games takes a whole number above 0, not '%s'", v);
				return 2;
			}
		} else if (!strcmp(a, "--frames")) {
			char *end = NULL;
			frame_every = !strcmp(v, "all") ? 1 : !strcmp(v, "none") ? 0 : strtol(v, &end, 10);
			if ((end && *end) || frame_every < 0 || (end && frame_every < 1)) {
				cli_error("record: --frames takes all, none or a whole number above 0, not '%s'", v);
				return 2;
			}
		} else if (!strcmp(a, "--speed")) {
			if (!strcmp(v, "max")) {
				sopts.speed = 0;
			} else {
				char *end = NULL;
				sopts.speed = strtod(v, &end);
				if (!end || *end || !(sopts.speed > 0) || sopts.speed > 1e6) {
					cli_error("record: --speed takes max, 1 or a number above 0, not '%s'", v);
					return 2;
				}
			}
		} else {
			cli_error("record: unknown option %s", a);
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
	struct record_ctx ctx = {.url = source, .games_wanted = games, .frame_every = frame_every};
	bytes_init(&ctx.line, 0);
	bytes_init(&ctx.recorder_line, 0);
	if (events && !(ctx.events = cli_open_output(events)))
		return 1;
	ctx.loop = net_loop_create();
	struct slp_recorder_options ropts = {.out_dir = out, .console_nick = nick};
	struct slp_recorder_callbacks rcb = {.game_event = on_game_event,
					     .file = on_file,
					     .warning = on_warning,
					     .ud = &ctx};
	ctx.rec = slp_recorder_thread_create(&ropts, &rcb, 0);
	if (!ctx.loop || !ctx.rec) {
		cli_error("record: out of memory");
		return 1;
	}
	signal_loop = ctx.loop;
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	sopts.nick = nick;
	struct source_callbacks scb = {.data = on_source_data,
				       .state = on_source_state,
				       .gap = on_source_gap,
				       .ended = on_source_ended,
				       .ud = &ctx};
	char err[512] = "";
	struct source *src = source_create(ctx.loop, source, &sopts, &scb, err, sizeof(err));
	int status = 0;
	if (!src) {
		cli_error("record: %s", err);
		status = 1;
	} else {
		net_loop_run(ctx.loop);
		source_destroy(src);
	}
	slp_recorder_thread_destroy(ctx.rec); /* writes out everything queued and finishes the current file */
	signal_loop = NULL;
	net_loop_destroy(ctx.loop);
	if (ctx.events && ctx.events != stdout)
		fclose(ctx.events);
	bytes_free(&ctx.line);
	bytes_free(&ctx.recorder_line);
	return status;
}
