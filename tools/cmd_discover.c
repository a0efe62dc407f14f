/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross discover: the Wii consoles announcing themselves with SLIP_READY broadcasts (protocols.md §1.2). */
#include "cli.h"

#include "bytes.h"
#include "discovery.h"
#include "json_writer.h"
#include "net/loop.h"
#include "net/sock.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: andross discover [--listen HOST:PORT] [--seconds N] [--json] [--expiry S]\n"
	"\n"
	"Listens for the SLIP_READY datagrams a Wii running Slippi Nintendont broadcasts while no client is\n"
	"connected, keeps the list of consoles and prints each one when it appears, changes (nickname or MAC) or\n"
	"expires (no datagram for 35 s, as Slippi Launcher does). A console that a client is connected to stops\n"
	"broadcasting, so it expires too.\n"
	"  --listen HOST:PORT   where to listen (default 0.0.0.0:20582)\n"
	"  --seconds N          exit after N seconds (default: run until Ctrl-C)\n"
	"  --json               JSON Lines: {\"type\":\"console\",\"state\":\"found\"|\"expired\",\"ip\":..,\"mac\":..,\"nick\":..}\n"
	"                       (otherwise `found NICK at IP (MAC)` and `expired NICK at IP (MAC)`)\n"
	"  --expiry S           drop a console after S seconds without a datagram (default 35)\n";

struct discover {
	bool json;
	struct bytes line;
};

static void report(void *ud, const struct discovery_console *c, enum discovery_change change)
{
	struct discover *d = ud;
	/* a changed console is reported as found again, with its new nickname or MAC */
	const char *state = change == DISCOVERY_LOST ? "expired" : "found";
	char mac[18];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", c->mac[0], c->mac[1], c->mac[2], c->mac[3],
		 c->mac[4], c->mac[5]);
	if (!d->json) {
		/* the nickname comes off the network: no control characters on the terminal */
		char nick[sizeof(c->nick)];
		size_t i = 0;
		for (; c->nick[i] && i + 1 < sizeof(nick); i++)
			nick[i] = (unsigned char)c->nick[i] < 0x20 || c->nick[i] == 0x7f ? '?' : c->nick[i];
		nick[i] = 0;
		printf("%s %s at %s (%s)\n", state, nick, c->ip, mac);
		fflush(stdout);
		return;
	}
	bytes_clear(&d->line);
	struct json_writer jw;
	jw_init(&jw, &d->line);
	jw_object_begin(&jw, NULL);
	jw_string(&jw, "type", "console");
	jw_string(&jw, "state", state);
	jw_string(&jw, "ip", c->ip);
	jw_string(&jw, "mac", mac);
	jw_string(&jw, "nick", c->nick);
	jw_object_end(&jw);
	if (!jw.ok || !bytes_append_byte(&d->line, '\n'))
		return;
	fwrite(d->line.data, 1, d->line.len, stdout);
	fflush(stdout);
}

static void on_stop_timer(void *ud)
{
	net_loop_stop(ud);
}

int cmd_discover(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	const char *listen = "0.0.0.0:20582";
	double seconds = 0, expiry_s = DISCOVERY_EXPIRY_MS / 1000.0;
	struct discover d = {0};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			d.json = true;
			continue;
		}
		if (strcmp(a, "--listen") && strcmp(a, "--seconds") && strcmp(a, "--expiry")) {
			cli_error("discover: unknown option %s", a);
			fputs(help, stderr);
			return 2;
		}
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			cli_error("discover: %s needs a value", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--listen")) {
			listen = v;
		} else if (!strcmp(a, "--seconds") || !strcmp(a, "--expiry")) {
			char *end = NULL;
			double x = strtod(v, &end);
			if (!end || *end || !(x > 0) || x > 1e7) {
				cli_error("discover: %s takes a number of seconds above 0, not '%s'", a, v);
				return 2;
			}
			if (!strcmp(a, "--seconds"))
				seconds = x;
			else
				expiry_s = x;
		}
	}
	char host[NET_ADDR_MAX], err[512] = "";
	uint16_t port;
	if (net_parse_host_port(listen, DISCOVERY_PORT, host, sizeof(host), &port) < 0 || port == 0) {
		cli_error("discover: --listen takes HOST:PORT, not '%s'", listen);
		return 2;
	}
	struct net_loop *loop = net_loop_create();
	if (!loop) {
		cli_error("discover: out of memory");
		return 1;
	}
	bytes_init(&d.line, 0);
	uint64_t expiry_ms = (uint64_t)(expiry_s * 1000.0);
	struct discovery_listener_options lo = {.host = host,
						.port = port,
						.expiry_ms = expiry_ms ? expiry_ms : 1,
						.fn = report,
						.ud = &d};
	struct discovery_listener *dl = discovery_listener_create(loop, &lo, err, sizeof(err));
	if (!dl) {
		cli_error("discover: %s", err);
		net_loop_destroy(loop);
		bytes_free(&d.line);
		return 1;
	}
	if (seconds > 0)
		net_loop_timer(loop, (uint64_t)(seconds * 1000.0), on_stop_timer, loop);
	cli_stop_loop_on_signals(loop);
	fprintf(stderr, strchr(host, ':') ? "discover: listening on [%s]:%u\n" : "discover: listening on %s:%u\n", host,
		port);
	int rc = net_loop_run(loop);

	cli_stop_loop_on_signals(NULL);
	discovery_listener_destroy(dl);
	net_loop_destroy(loop);
	bytes_free(&d.line);
	return rc < 0 ? 1 : 0;
}
