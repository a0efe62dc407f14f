/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross relay: one source relayed to many clients (docs/relay.md), recorded at the same time. */
#include "cli.h"

#include "net/loop.h"
#include "net/sock.h"
#include "relay.h"
#include "slp_recorder_thread.h"
#include "source.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char help[] =
	"usage: andross relay --source SOURCE [--listen HOST:PORT] [--out DIR] [--events -|FILE] [--games N]\n"
	"                     [--max-clients N] [--nick NAME] [--speed max|1|N] [--history BYTES] [--lag-cap BYTES]\n"
	"\n"
	"Relays a source to many clients at once and records it. Clients that send the console handshake (slippi-js\n"
	"ConsoleConnection, andross relay://) get the console protocol with resumable cursors; clients that send\n"
	"nothing for 250 ms get the raw stream of Slippi Launcher's relay. See docs/relay.md.\n"
	"  --source SOURCE     a replay file, console://HOST[:PORT], dolphin://HOST[:PORT] or relay://HOST:PORT\n"
	"  --listen HOST:PORT  where clients connect (default 127.0.0.1:53742; 0.0.0.0:53742 opens it to the LAN;\n"
	"                      port 0 picks a free one). Prints `relay listening on HOST:PORT` when ready\n"
	"  --out DIR           also write each game to DIR/Game_YYYYMMDDTHHMMSS.slp\n"
	"  --events -|FILE     game, connection and relay_client events as JSON Lines (docs/events.md)\n"
	"  --games N           exit after N complete games (once every client has them)\n"
	"  --max-clients N     at most N clients (default 32); more are accepted and closed at once\n"
	"  --nick NAME         console nickname served to clients and written to the replays (default: the source's)\n"
	"  --speed max|1|N     file sources: max = as fast as possible (default), 1 = real time, N = N times faster\n"
	"  --history BYTES     history held in memory (default 64M); older games drop out\n"
	"  --lag-cap BYTES     how far a client may fall behind (default 4M): then a raw client is dropped and a\n"
	"                      console client is moved forward (forcePos)\n"
	"Sizes take a K or M suffix. Client events are logged to stderr. A file source ends the relay once every\n"
	"client has its games; SIGINT/SIGTERM stop at once.\n";

#define DRAIN_TIMEOUT_MS 5000 /* at the end, how long clients get to take what they have not yet received */

static struct net_loop *signal_loop;

static void on_signal(int sig)
{
	(void)sig;
	if (signal_loop)
		net_loop_stop(signal_loop);
}

struct relay_ctx {
	const char *url;
	FILE *events;
	struct bytes line;          /* lines written on the loop thread */
	struct bytes recorder_line; /* lines written on the recorder thread */
	struct net_loop *loop;
	struct relay *relay;
	struct slp_recorder_thread *rec;
	bool nick_given;
	long games_wanted;
	uint64_t games_ended;  /* recorder thread only */
	atomic_bool finishing; /* enough games, or the source ended: drain the clients and exit */
};

/* One fwrite per line: stdio locks the stream, so lines from the two threads never interleave. */
static void emit(struct relay_ctx *ctx, struct bytes *line)
{
	if (!ctx->events || !bytes_append_byte(line, '\n'))
		return;
	fwrite(line->data, 1, line->len, ctx->events);
	fflush(ctx->events);
}

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct relay_ctx *ctx = ud;
	if (ev->type == SLP_GAME_EVENT_GAME_END && ctx->games_wanted > 0 &&
	    (long)++ctx->games_ended >= ctx->games_wanted)
		atomic_store(&ctx->finishing, true);
	if (!ctx->events)
		return;
	bytes_clear(&ctx->recorder_line);
	if (slp_game_event_to_json(ev, &ctx->recorder_line))
		emit(ctx, &ctx->recorder_line);
}

static void on_file(void *ud, const char *path, bool finished)
{
	(void)ud;
	fprintf(stderr, "%s %s\n", finished ? "wrote" : "writing", path);
}

static void on_warning(void *ud, const char *message)
{
	(void)ud;
	fprintf(stderr, "andross: warning: %s\n", message);
}

static void on_client(void *ud, enum relay_client_event ev, const struct relay_client_info *info, const char *reason)
{
	struct relay_ctx *ctx = ud;
	static const char *const names[] = {"connected", "disconnected", "skipped"};
	fprintf(stderr, "relay: client %llu %s %s (%s): %s\n", (unsigned long long)info->id, info->address, names[ev],
		relay_client_mode_name(info->mode), reason);
	if (!ctx->events || !ctx->relay)
		return;
	bytes_clear(&ctx->line);
	if (relay_client_event_json(&ctx->line, relay_address(ctx->relay), ev, info, reason))
		emit(ctx, &ctx->line);
}

/* The relay first, then the recorder's queue: clients never wait on the disk. */
static void on_source_data(void *ud, const uint8_t *bytes, size_t len)
{
	struct relay_ctx *ctx = ud;
	relay_feed(ctx->relay, bytes, len);
	slp_recorder_thread_feed(ctx->rec, bytes, len);
}

static void on_source_state(void *ud, enum source_state state, const char *reason)
{
	struct relay_ctx *ctx = ud;
	/* a console source names the Wii in its connected reason: `Wii "NICK" ...` */
	if (state == SOURCE_CONNECTED && !ctx->nick_given && reason && !strncmp(reason, "Wii \"", 5)) {
		const char *end = strchr(reason + 5, '"');
		char nick[64];
		if (end && end - (reason + 5) < (long)sizeof(nick)) {
			snprintf(nick, sizeof(nick), "%.*s", (int)(end - (reason + 5)), reason + 5);
			relay_set_nick(ctx->relay, nick);
		}
	}
	if (!ctx->events)
		return;
	bytes_clear(&ctx->line);
	if (source_state_event_json(&ctx->line, ctx->url, state, reason))
		emit(ctx, &ctx->line);
}

static void on_source_gap(void *ud, uint64_t from_byte, uint64_t to_byte, const char *reason)
{
	struct relay_ctx *ctx = ud;
	relay_source_restart(ctx->relay);
	slp_recorder_thread_restart_at_boundary(ctx->rec);
	if (to_byte > from_byte)
		fprintf(stderr, "andross: warning: lost bytes %llu..%llu of the source: %s\n",
			(unsigned long long)from_byte, (unsigned long long)to_byte, reason);
	if (!ctx->events)
		return;
	bytes_clear(&ctx->line);
	if (source_gap_event_json(&ctx->line, ctx->url, from_byte, to_byte, reason))
		emit(ctx, &ctx->line);
}

static void on_source_ended(void *ud, const char *reason)
{
	struct relay_ctx *ctx = ud;
	(void)reason;
	atomic_store(&ctx->finishing, true);
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

/* "123", "64K", "4M". Returns false on anything else. */
static bool parse_size(const char *v, size_t *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v || *v == '-')
		return false;
	unsigned long long mul = 1;
	if (*end == 'K' || *end == 'k')
		mul = 1024, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1024 * 1024, end++;
	if (*end || n == 0 || n > (1ull << 40) / mul)
		return false;
	*out = (size_t)(n * mul);
	return true;
}

static bool parse_count(const char *v, long *out)
{
	char *end = NULL;
	long n = strtol(v, &end, 10);
	if (!end || *end || n < 1 || n > 100000)
		return false;
	*out = n;
	return true;
}

int cmd_relay(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	const char *source = NULL, *out = NULL, *events = NULL, *nick = NULL, *listen = NULL;
	struct source_options sopts = {0};
	struct relay_options ropts;
	relay_options_init(&ropts);
	long games = 0, max_clients = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			cli_error("relay: %s needs a value", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--source")) {
			source = v;
		} else if (!strcmp(a, "--listen")) {
			listen = v;
		} else if (!strcmp(a, "--out")) {
			out = v;
		} else if (!strcmp(a, "--events")) {
			events = v;
		} else if (!strcmp(a, "--nick")) {
			nick = v;
		} else if (!strcmp(a, "--games")) {
			if (!parse_count(v, &games)) {
				cli_error("relay: --games takes a whole number above 0, not '%s'", v);
				return 2;
			}
		} else if (!strcmp(a, "--max-clients")) {
			if (!parse_count(v, &max_clients)) {
				cli_error("relay: --max-clients takes a whole number above 0, not '%s'", v);
				return 2;
			}
			ropts.max_clients = (size_t)max_clients;
		} else if (!strcmp(a, "--history")) {
			if (!parse_size(v, &ropts.history_bytes) || ropts.history_bytes < 256u * 1024u) {
				cli_error("relay: --history takes a size of at least 256K, not '%s'", v);
				return 2;
			}
		} else if (!strcmp(a, "--lag-cap")) {
			if (!parse_size(v, &ropts.lag_cap_bytes)) {
				cli_error("relay: --lag-cap takes a size such as 64K or 4M, not '%s'", v);
				return 2;
			}
		} else if (!strcmp(a, "--speed")) {
			if (!strcmp(v, "max")) {
				sopts.speed = 0;
			} else {
				char *end = NULL;
				sopts.speed = strtod(v, &end);
				if (!end || *end || !(sopts.speed > 0) || sopts.speed > 1e6) {
					cli_error("relay: --speed takes max, 1 or a number above 0, not '%s'", v);
					return 2;
				}
			}
		} else {
			cli_error("relay: unknown option %s", a);
			fputs(help, stderr);
			return 2;
		}
	}
	if (!source) {
		cli_error("relay: --source is required");
		fputs(help, stderr);
		return 2;
	}
	char host[NET_ADDR_MAX] = RELAY_HOST_DEFAULT;
	uint16_t port = RELAY_PORT_DEFAULT;
	if (listen && net_parse_host_port(listen, RELAY_PORT_DEFAULT, host, sizeof(host), &port) < 0) {
		cli_error("relay: --listen takes HOST:PORT, not '%s'", listen);
		return 2;
	}
	ropts.host = host;
	ropts.port = port;
	if (nick)
		ropts.nick = nick;
	if (out && make_dirs(out) < 0) {
		cli_error("relay: cannot create %s: %s", out, strerror(errno));
		return 1;
	}

	struct relay_ctx ctx = {.url = source, .games_wanted = games, .nick_given = nick != NULL};
	atomic_init(&ctx.finishing, false);
	bytes_init(&ctx.line, 0);
	bytes_init(&ctx.recorder_line, 0);
	if (events && !(ctx.events = cli_open_output(events)))
		return 1;
	int status = 0;
	char err[512] = "";
	struct source *src = NULL;
	ctx.loop = net_loop_create();
	struct slp_recorder_options rec_opts = {.out_dir = out, .console_nick = nick};
	struct slp_recorder_callbacks rcb = {.game_event = on_game_event,
					     .file = on_file,
					     .warning = on_warning,
					     .ud = &ctx};
	ctx.rec = slp_recorder_thread_create(&rec_opts, &rcb, 0);
	struct relay_callbacks relay_cb = {.client = on_client, .warning = on_warning, .ud = &ctx};
	if (!ctx.loop || !ctx.rec) {
		cli_error("relay: out of memory");
		status = 1;
		goto out;
	}
	ctx.relay = relay_create(ctx.loop, &ropts, &relay_cb, err, sizeof(err));
	if (!ctx.relay) {
		cli_error("relay: %s", err);
		status = 1;
		goto out;
	}
	printf("relay listening on %s\n", relay_address(ctx.relay));
	fflush(stdout);

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
	src = source_create(ctx.loop, source, &sopts, &scb, err, sizeof(err));
	if (!src) {
		cli_error("relay: %s", err);
		status = 1;
		goto out;
	}
	/* run until a signal, or until the games are done and every client has them (bounded) */
	uint64_t drain_deadline_ms = 0;
	while (!net_loop_stopping(ctx.loop)) {
		if (atomic_load(&ctx.finishing)) {
			uint64_t now = net_now_ms();
			if (!drain_deadline_ms)
				drain_deadline_ms = now + DRAIN_TIMEOUT_MS;
			if (relay_backlog_bytes(ctx.relay) == 0 || now >= drain_deadline_ms)
				break;
		}
		if (net_loop_run_once(ctx.loop, 100) < 0) {
			cli_error("relay: the event loop failed");
			status = 1;
			break;
		}
	}
out:
	if (src)
		source_destroy(src);
	if (ctx.relay)
		relay_destroy(ctx.relay);
	ctx.relay = NULL;
	if (ctx.rec)
		slp_recorder_thread_destroy(ctx.rec); /* writes out everything queued and finishes the current file */
	signal_loop = NULL;
	if (ctx.loop)
		net_loop_destroy(ctx.loop);
	if (ctx.events && ctx.events != stdout)
		fclose(ctx.events);
	bytes_free(&ctx.line);
	bytes_free(&ctx.recorder_line);
	return status;
}
