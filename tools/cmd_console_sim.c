/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross console-sim: a Slippi Nintendont console on TCP, playing replay files as live games. */
#include "cli.h"

#include "discovery.h"
#include "net/loop.h"
#include "net/sock.h"
#include "sim_console.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: andross console-sim --replay FILE [--replay FILE...] --listen HOST:PORT [--speed 1|N|max] [--loop]\n"
	"                           [--nick NAME] [--broadcast HOST:PORT|off] [--write-log FILE]\n"
	"\n"
	"Behaves like a Wii running Slippi Nintendont: serves one client at a time (listen backlog 1) with the\n"
	"console protocol (handshake, tokens and cursors, 3 MiB history with forcePos on overflow, keepalives every\n"
	"500 ms when idle, REPLAY messages of whole events up to 25,000 bytes), and plays the replays as games one\n"
	"after another, with menu time between them. Games start when the first client connects.\n"
	"  --replay FILE        a .slp replay to play (repeat for more games)\n"
	"  --listen HOST:PORT   where to listen; port 0 picks a free one. Prints `listening on HOST:PORT` when ready\n"
	"  --speed 1|N|max      1 = real time (60 frames a second, the default), N = N times faster, max = as fast as\n"
	"                       the client drains (a stalled client still sees the game advance and the history\n"
	"                       overflow; the next game waits for the client). Menu time: 1 s / N, 0.3 s at max\n"
	"  --loop               play the replays again and again (otherwise exit once the client has everything)\n"
	"  --nick NAME          the console's nickname (default: andross-sim)\n"
	"  --broadcast ADDR     where the SLIP_READY discovery datagrams go while no client is connected\n"
	"                       (default 127.0.0.1:20582; off: none)\n"
	"  --write-log FILE     one line per frame as the client is first written its last byte:\n"
	"                       `GAME FRAME STREAM_END WRITE_NS`: the game (1, 2, ... in the order played), the\n"
	"                       replay's frame number (`start` for the game's Event Payloads and Game Start), the\n"
	"                       stream position after it, and CLOCK_MONOTONIC nanoseconds just before the write\n"
	"                       (for timing a client; see bench/obs)\n"
	"Stops on SIGINT/SIGTERM.\n";

#define MENU_MS 1000.0
#define MENU_MS_AT_MAX 300

struct run {
	struct net_loop *loop;
	int status;
	FILE *write_log;
};

static void on_log(void *ud, const char *line)
{
	(void)ud;
	fprintf(stderr, "%s\n", line);
}

static void on_frame_written(void *ud, const struct sim_console_frame *f)
{
	struct run *run = ud;
	if (f->has_frame)
		fprintf(run->write_log, "%" PRIu64 " %" PRId32 " %" PRIu64 " %" PRIu64 "\n", f->game, f->frame,
			f->stream_end, f->write_ns);
	else
		fprintf(run->write_log, "%" PRIu64 " start %" PRIu64 " %" PRIu64 "\n", f->game, f->stream_end,
			f->write_ns);
}

static void on_finished(void *ud, int status)
{
	struct run *run = ud;
	run->status = status;
	net_loop_stop(run->loop);
}

int cmd_console_sim(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	struct sim_console_options o;
	sim_console_options_init(&o);
	struct run run = {0};
	struct sim_replay *replays = calloc((size_t)argc, sizeof(*replays));
	if (!replays) {
		cli_error("console-sim: out of memory");
		return 1;
	}
	const char *listen = NULL, *bcast = "127.0.0.1:20582", *write_log = NULL;
	int rc = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--loop")) {
			o.loop = true;
			continue;
		}
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			cli_error("console-sim: %s needs a value", a);
			goto out;
		}
		i++;
		if (!strcmp(a, "--replay")) {
			replays[o.n_replays++].path = v;
		} else if (!strcmp(a, "--listen")) {
			listen = v;
		} else if (!strcmp(a, "--nick")) {
			o.nick = v;
		} else if (!strcmp(a, "--broadcast")) {
			bcast = v;
		} else if (!strcmp(a, "--write-log")) {
			write_log = v;
		} else if (!strcmp(a, "--speed")) {
			if (!cli_parse_speed(v, &o.speed)) {
				cli_error("console-sim: --speed takes max, 1 or a number above 0, not '%s'", v);
				goto out;
			}
		} else {
			cli_error("console-sim: unknown option %s", a);
			fputs(help, stderr);
			goto out;
		}
	}
	if (!o.n_replays || !listen) {
		cli_error("console-sim: --replay and --listen are required");
		fputs(help, stderr);
		goto out;
	}
	o.replays = replays;
	char host[NET_ADDR_MAX], bcast_host[NET_ADDR_MAX], err[512] = "";
	if (net_parse_host_port(listen, 0, host, sizeof(host), &o.port) < 0) {
		cli_error("console-sim: --listen takes HOST:PORT, not '%s'", listen);
		goto out;
	}
	o.host = host;
	o.broadcast_host = NULL;
	if (strcmp(bcast, "off")) {
		if (net_parse_host_port(bcast, DISCOVERY_PORT, bcast_host, sizeof(bcast_host), &o.broadcast_port) < 0) {
			cli_error("console-sim: --broadcast takes HOST:PORT or off, not '%s'", bcast);
			goto out;
		}
		o.broadcast_host = bcast_host;
	}
	o.menu_ms = o.speed > 0 ? (uint64_t)(MENU_MS / o.speed) : MENU_MS_AT_MAX;

	rc = 1;
	if (write_log) {
		run.write_log = fopen(write_log, "w");
		if (!run.write_log) {
			cli_error("console-sim: --write-log %s: %s", write_log, strerror(errno));
			goto out;
		}
		/* a line per frame as it happens, so that a reader sees the frames while the games go on */
		setvbuf(run.write_log, NULL, _IOLBF, 0);
	}
	run.loop = net_loop_create();
	if (!run.loop) {
		cli_error("console-sim: out of memory");
		goto out;
	}
	struct sim_console_callbacks cb = {.log = on_log, .finished = on_finished, .ud = &run};
	if (run.write_log)
		cb.frame_written = on_frame_written;
	struct sim_console *sim = sim_console_create(run.loop, &o, &cb, err, sizeof(err));
	if (!sim) {
		cli_error("console-sim: %s", err);
		net_loop_destroy(run.loop);
		goto out;
	}
	cli_stop_loop_on_signals(run.loop);
	printf(strchr(host, ':') ? "listening on [%s]:%u\n" : "listening on %s:%u\n", host, sim_console_port(sim));
	fflush(stdout);
	net_loop_run(run.loop);
	cli_stop_loop_on_signals(NULL);
	sim_console_destroy(sim);
	net_loop_destroy(run.loop);
	rc = run.status;
	if (run.write_log && fclose(run.write_log) != 0) {
		cli_error("console-sim: --write-log %s: %s", write_log, strerror(errno));
		rc = 1;
	}
	run.write_log = NULL;
out:
	if (run.write_log)
		fclose(run.write_log);
	free(replays);
	return rc;
}
