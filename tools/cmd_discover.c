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

#define EXPIRY_CHECK_MS 100
#define RECV_PER_WAKEUP 64

struct discover {
	struct net_loop *loop;
	int fd;
	bool json;
	struct discovery_list list;
	struct bytes line;
	uint64_t expiry_timer;
};

static void report(struct discover *d, const struct discovery_console *c, const char *state)
{
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

static const struct discovery_console *find(const struct discovery_list *l, const char *ip)
{
	for (size_t i = 0; i < l->n; i++) {
		if (!strcmp(l->consoles[i].ip, ip))
			return &l->consoles[i];
	}
	return NULL;
}

/* Expires the list and reports each console that went. */
static void expire(struct discover *d, uint64_t now_ms)
{
	static struct discovery_list before; /* one discover per process; too large for the stack */
	before = d->list;
	if (!discovery_list_expire(&d->list, now_ms))
		return;
	for (size_t i = 0; i < before.n; i++) {
		if (!find(&d->list, before.consoles[i].ip))
			report(d, &before.consoles[i], "expired");
	}
}

static void on_expiry_timer(void *ud)
{
	struct discover *d = ud;
	d->expiry_timer = net_loop_timer(d->loop, EXPIRY_CHECK_MS, on_expiry_timer, d);
	expire(d, net_now_ms());
}

static void on_readable(void *ud, int fd, unsigned events)
{
	struct discover *d = ud;
	(void)events;
	for (int i = 0; i < RECV_PER_WAKEUP; i++) {
		uint8_t buf[512];
		char ip[NET_ADDR_MAX];
		ssize_t n = net_udp_recv(fd, buf, sizeof(buf), ip, sizeof(ip));
		if (n <= 0)
			return;
		uint64_t now = net_now_ms();
		/* expiries are reported before the feed, which would expire silently */
		expire(d, now);
		struct discovery_console old;
		const struct discovery_console *known = find(&d->list, ip);
		memset(&old, 0, sizeof(old));
		if (known)
			old = *known;
		int rc = discovery_list_feed(&d->list, ip, buf, (size_t)n, now);
		if (rc < 0)
			continue;
		const struct discovery_console *c = find(&d->list, ip);
		if (!c)
			continue;
		bool changed = rc == 1 || !known || strcmp(old.nick, c->nick) || memcmp(old.mac, c->mac, 6);
		if (changed)
			report(d, c, "found");
	}
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
	struct discover d = {.fd = -1};
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
	if (net_parse_host_port(listen, 20582, host, sizeof(host), &port) < 0 || port == 0) {
		cli_error("discover: --listen takes HOST:PORT, not '%s'", listen);
		return 2;
	}
	d.fd = net_udp_bind(host, port, false, err, sizeof(err));
	if (d.fd < 0) {
		cli_error("discover: %s", err);
		return 1;
	}
	d.loop = net_loop_create();
	if (!d.loop) {
		cli_error("discover: out of memory");
		net_close(d.fd);
		return 1;
	}
	discovery_list_init(&d.list);
	d.list.expiry_ms = (uint64_t)(expiry_s * 1000.0);
	if (!d.list.expiry_ms)
		d.list.expiry_ms = 1;
	bytes_init(&d.line, 0);
	net_loop_watch(d.loop, d.fd, NET_READ, on_readable, &d);
	d.expiry_timer = net_loop_timer(d.loop, EXPIRY_CHECK_MS, on_expiry_timer, &d);
	if (seconds > 0)
		net_loop_timer(d.loop, (uint64_t)(seconds * 1000.0), on_stop_timer, d.loop);
	cli_stop_loop_on_signals(d.loop);
	fprintf(stderr, strchr(host, ':') ? "discover: listening on [%s]:%u\n" : "discover: listening on %s:%u\n", host,
		port);
	int rc = net_loop_run(d.loop);

	cli_stop_loop_on_signals(NULL);
	net_loop_unwatch(d.loop, d.fd);
	net_close(d.fd);
	net_loop_destroy(d.loop);
	bytes_free(&d.line);
	return rc < 0 ? 1 : 0;
}
