/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross dolphin-sim: plays replays as Slippi Dolphin's spectator server does (the simulator is sim_dolphin.h). */
#include "cli.h"

#include "dolphin_proto.h"
#include "net/loop.h"
#include "net/sock.h"
#include "sim_dolphin.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: andross dolphin-sim --replay FILE [--replay FILE...] --listen HOST:PORT [--speed 1|N|max] [--loop]\n"
	"                           [--nick NAME] [--wait N] [--menu-ms MS] [--drop-after CURSOR]\n"
	"\n"
	"Serves replays the way Slippi Dolphin's spectator server does (ENet over UDP, JSON messages), for clients such\n"
	"as `andross record --source dolphin://HOST:PORT` or slippi-js DolphinConnection.\n"
	"  --replay FILE        a game to play; repeat for several games, played in order\n"
	"  --listen HOST:PORT   UDP address to serve on (port 0 picks a free one); prints `listening on HOST:PORT`\n"
	"  --speed 1|N|max      1 = real time (60 frames a second, the default), N = N times faster, max = as fast as\n"
	"                       the spectators take it\n"
	"  --loop               play the replays again and again (otherwise exit once the last game was delivered)\n"
	"  --nick NAME          the nick in connect_reply (default: Slippi Online)\n"
	"  --wait N             start the first game only once N spectators have connected\n"
	"  --menu-ms MS         menu time between games (default: 1000 / speed, 100 at max)\n"
	"  --drop-after CURSOR  (testing) drop every spectator once, right after sending message CURSOR\n"
	"Stops at SIGINT/SIGTERM, sending end_game with dolphin_closed: true.\n";

#define SIM_MAX_REPLAYS 64
#define SIGNAL_CHECK_MS 20

struct run {
	struct net_loop *loop;
	struct sim_dolphin *sim;
	bool closing;
	int status;
	uint64_t timer;
};

static void on_log(void *ud, const char *line)
{
	(void)ud;
	fprintf(stderr, "%s\n", line);
}

static void on_finished(void *ud, int status)
{
	struct run *run = ud;
	run->status = status;
	net_loop_stop(run->loop);
}

/* A signal only sets a flag: this ends the simulator as Dolphin ends when it shuts down (end_game with
 * dolphin_closed: true), and `finished` stops the loop. */
static void on_signal_check(void *ud)
{
	struct run *run = ud;
	if (cli_signalled() && !run->closing) {
		run->closing = true;
		sim_dolphin_close(run->sim);
	}
	run->timer = net_loop_timer(run->loop, SIGNAL_CHECK_MS, on_signal_check, run);
}

int cmd_dolphin_sim(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	struct sim_dolphin_options o;
	sim_dolphin_options_init(&o);
	o.nick = "Slippi Online";
	struct sim_replay replays[SIM_MAX_REPLAYS] = {0};
	const char *listen = NULL;
	int64_t menu_ms = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--loop")) {
			o.loop = true;
			continue;
		}
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			cli_error("dolphin-sim: %s needs a value", a);
			return 2;
		}
		i++;
		char *end = NULL;
		if (!strcmp(a, "--replay")) {
			if (o.n_replays == SIM_MAX_REPLAYS) {
				cli_error("dolphin-sim: at most %d replays", SIM_MAX_REPLAYS);
				return 2;
			}
			replays[o.n_replays++].path = v;
		} else if (!strcmp(a, "--listen")) {
			listen = v;
		} else if (!strcmp(a, "--nick")) {
			o.nick = v;
		} else if (!strcmp(a, "--speed")) {
			if (!cli_parse_speed(v, &o.speed)) {
				cli_error("dolphin-sim: --speed takes max, 1 or a number above 0, not '%s'", v);
				return 2;
			}
		} else if (!strcmp(a, "--menu-ms") || !strcmp(a, "--drop-after") || !strcmp(a, "--wait")) {
			long long x = strtoll(v, &end, 10);
			if (!end || *end || x < 0 || x > UINT32_MAX) {
				cli_error("dolphin-sim: %s takes a whole number, not '%s'", a, v);
				return 2;
			}
			if (a[2] == 'm')
				menu_ms = x;
			else if (a[2] == 'w')
				o.wait_spectators = (size_t)x;
			else
				o.drop_after = x;
		} else {
			cli_error("dolphin-sim: unknown option %s", a);
			fputs(help, stderr);
			return 2;
		}
	}
	if (!o.n_replays || !listen) {
		cli_error("dolphin-sim: --replay and --listen are required");
		fputs(help, stderr);
		return 2;
	}
	if (strlen(o.nick) >= DOLPHIN_TEXT_MAX) {
		cli_error("dolphin-sim: --nick is longer than %d bytes", DOLPHIN_TEXT_MAX - 1);
		return 2;
	}
	o.replays = replays;
	o.menu_ms = menu_ms >= 0 ? (uint64_t)menu_ms : o.speed > 0 ? (uint64_t)(1000 / o.speed) : 100;
	char host[NET_ADDR_MAX], err[512] = "";
	if (net_parse_host_port(listen, 0xFFFF, host, sizeof(host), &o.port) < 0 || !strchr(listen, ':')) {
		cli_error("dolphin-sim: --listen takes HOST:PORT, not '%s'", listen);
		return 2;
	}
	o.host = host;

	struct run run = {.loop = net_loop_create()};
	if (!run.loop) {
		cli_error("dolphin-sim: out of memory");
		return 1;
	}
	struct sim_dolphin_callbacks cb = {.log = on_log, .finished = on_finished, .ud = &run};
	run.sim = sim_dolphin_create(run.loop, &o, &cb, err, sizeof(err));
	run.timer = run.sim ? net_loop_timer(run.loop, SIGNAL_CHECK_MS, on_signal_check, &run) : 0;
	if (!run.timer) {
		cli_error("dolphin-sim: %s", run.sim ? "out of memory" : err);
		sim_dolphin_destroy(run.sim);
		net_loop_destroy(run.loop);
		return 1;
	}
	cli_catch_signals();
	printf("listening on %s:%u\n", host, sim_dolphin_port(run.sim));
	fflush(stdout);
	net_loop_run(run.loop);
	cli_stop_loop_on_signals(NULL);
	net_loop_cancel(run.loop, run.timer);
	sim_dolphin_destroy(run.sim);
	net_loop_destroy(run.loop);
	return run.status;
}
