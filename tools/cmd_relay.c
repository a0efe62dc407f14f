/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross relay: one source relayed to many clients (docs/relay.md), recorded at the same time. */
#include "cli.h"
#include "pipeline.h"

#include "net/sock.h"
#include "relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: andross relay --source SOURCE [--listen HOST:PORT] [--out DIR] [--events -|FILE] [--games N] [--frames F]\n"
	"                     [--max-clients N] [--max-clients-per-address N] [--nick NAME] [--speed max|1|N]\n"
	"                     [--history BYTES] [--lag-cap BYTES]\n"
	"\n"
	"Relays a source to many clients at once and records it. Clients that send the console handshake (slippi-js\n"
	"ConsoleConnection, andross relay://) get the console protocol with resumable cursors; clients that send\n"
	"nothing for 250 ms get the raw stream of Slippi Launcher's relay. See docs/relay.md.\n"
	"  --source SOURCE     a replay file, console://HOST[:PORT], dolphin://HOST[:PORT] or relay://HOST:PORT;\n"
	"                      again for more consoles: source N listens on PORT + N\n"
	"  --listen HOST:PORT  where clients connect (default 127.0.0.1:53742; 0.0.0.0:53742 opens it to the LAN;\n"
	"                      port 0 picks a free one). Prints `relay listening on HOST:PORT` when ready\n"
	"  --out DIR           also write each game to DIR/Game_YYYYMMDDTHHMMSS.slp\n"
	"  --events -|FILE     game, connection and relay_client events as JSON Lines (docs/events.md)\n"
	"  --games N           exit after N complete games (once every client has them)\n"
	"  --frames all|none|N frame events on --events: every frame (default), none, or every Nth\n"
	"  --max-clients N     at most N clients (default 32); more are accepted and closed at once\n"
	"  --max-clients-per-address N\n"
	"                      at most N clients from one IP address, loopback included (default: half of\n"
	"                      --max-clients, at most 8, for remote addresses only)\n"
	"  --nick NAME         console nickname served to clients and written to the replays (default: the source's)\n"
	"  --speed max|1|N     file sources: max = as fast as possible (default), 1 = real time, N = N times faster\n"
	"  --history BYTES     history held in memory (default 64M); older games drop out\n"
	"  --lag-cap BYTES     how far a client may fall behind (default 4M, at least 64K): then a raw client is\n"
	"                      dropped and a console client is moved forward once (forcePos), dropped the next time;\n"
	"                      a client above it for 60 s is dropped\n"
	"Sizes take a K or M suffix. Client events are logged to stderr. A file source ends the relay once every\n"
	"client has its games; SIGINT/SIGTERM stop at once.\n";

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

int cmd_relay(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	struct pipeline_options o = {.command = "relay", .frame_every = 1};
	struct relay_options ropts;
	relay_options_init(&ropts);
	const char *listen = NULL;
	long max_clients = 0, per_address = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			cli_error("relay: %s needs a value", a);
			return 2;
		}
		i++;
		int taken = pipeline_parse_option(&o, a, v);
		if (taken < 0)
			return 2;
		if (taken) {
			continue;
		} else if (!strcmp(a, "--listen")) {
			listen = v;
		} else if (!strcmp(a, "--max-clients")) {
			if (!cli_parse_count(v, 1, &max_clients) || max_clients > 100000) {
				cli_error("relay: --max-clients takes a whole number from 1 to 100000, not '%s'", v);
				return 2;
			}
			ropts.max_clients = (size_t)max_clients;
		} else if (!strcmp(a, "--max-clients-per-address")) {
			if (!cli_parse_count(v, 1, &per_address) || per_address > 100000) {
				cli_error(
					"relay: --max-clients-per-address takes a whole number from 1 to 100000, not '%s'",
					v);
				return 2;
			}
			ropts.max_clients_per_address = (size_t)per_address;
		} else if (!strcmp(a, "--history")) {
			if (!parse_size(v, &ropts.history_bytes) || ropts.history_bytes < 256u * 1024u) {
				cli_error("relay: --history takes a size of at least 256K, not '%s'", v);
				return 2;
			}
		} else if (!strcmp(a, "--lag-cap")) {
			if (!parse_size(v, &ropts.lag_cap_bytes) || ropts.lag_cap_bytes < RELAY_LAG_CAP_BYTES_MIN) {
				cli_error("relay: --lag-cap takes a size of at least 64K, such as 64K or 4M, not '%s'",
					  v);
				return 2;
			}
		} else {
			cli_error("relay: unknown option %s", a);
			fputs(help, stderr);
			return 2;
		}
	}
	if (!o.n_sources) {
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
	if (o.nick)
		ropts.nick = o.nick;
	o.relay = &ropts;
	return pipeline_run(&o);
}
