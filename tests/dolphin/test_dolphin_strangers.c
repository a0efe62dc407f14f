/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Strangers on the dolphin:// source's own UDP port (issue 8, item 1). The source is an ENet client only: nothing
 * that reaches its port from anyone but the Dolphin it dials may take its peer slot. Two strangers:
 *
 * - a flood of bare ENet CONNECT datagrams built by hand from enet/protocol.h, whose sender never answers (it could
 *   be forged);
 * - a real ENet host that dials the source again and again and would complete the handshake and keep the link
 *   alive with pings.
 *
 * Each attacks while no Dolphin listens yet, so that the source fails and retries under attack; then the honest
 * simulator (`andross dolphin-sim`, another process) comes up on the port the source dials, and the source must
 * reach it and deliver the replay's events byte for byte. The attacker learns the source's current port the way a
 * local user could (here: the test asks the kernel about its own sockets, as the source runs in this process).
 */
#include "../console/live_util.h"
#include "net/loop.h"
#include "source.h"

#include <arpa/inet.h>
#include <enet/enet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_PORTS 8
#define SCAN_EVERY_MS 50
#define FLOOD_EVERY_US 1000 /* a forged CONNECT per millisecond and port: ~6,000 in the first phase */
#define STRANGER_REDIAL_MS 100
/* how long the honest Dolphin may take to be reached and recorded once it is up (the source backs off 5 s at most) */
#define RECORD_BOUND_MS 15000

struct client {
	struct bytes got; /* every byte the source delivered */
	size_t connected;
	size_t waiting;
	uint64_t ignored; /* connection requests the source says it ignored */
	char last_reason[512];
};

/* The forged flooder: one UDP socket, CONNECT datagrams to every port the source has, replies counted. */
struct flooder {
	int fd;
	uint32_t connect_id;
	uint64_t next_us;
	uint64_t sent;
	uint64_t replies; /* datagrams the source sent back (a VERIFY_CONNECT means it took a stranger as peer) */
};

/* The ENet stranger: one peer per source port, dialled anew every STRANGER_REDIAL_MS until it connects. */
struct stranger {
	ENetHost *host;
	uint16_t ports[MAX_PORTS];
	ENetPeer *peers[MAX_PORTS];
	uint64_t dialled_ms[MAX_PORTS];
	size_t n;
	uint64_t dials;
	uint64_t connects; /* ENET_EVENT_TYPE_CONNECT: the source took the stranger as its peer */
};

static void on_data(void *ud, const uint8_t *bytes, size_t len)
{
	struct client *c = ud;
	assert_true(bytes_append(&c->got, bytes, len));
}

static void on_state(void *ud, enum source_state state, const char *reason)
{
	struct client *c = ud;
	if (state == SOURCE_CONNECTED)
		c->connected++;
	if (state == SOURCE_WAITING)
		c->waiting++;
	const char *ign = reason ? strstr(reason, "ignored ") : NULL;
	unsigned long long n = 0;
	if (ign && sscanf(ign, "ignored %llu ENet connection request", &n) == 1)
		c->ignored += n;
	snprintf(c->last_reason, sizeof(c->last_reason), "%s: %s", source_state_name(state), reason ? reason : "");
	fprintf(stderr, "  state %s\n", c->last_reason);
}

/* A bound IPv4 UDP socket on 127.0.0.1:0, non-blocking. */
static int udp_socket(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	if (port)
		*port = ntohs(a.sin_port);
	return fd;
}

/* The ports of every bound IPv4 UDP socket of this process but the test's own: the source's ENet socket. */
static size_t source_ports(const int *mine, size_t n_mine, uint16_t *ports, size_t max)
{
	size_t n = 0;
	for (int fd = 0; fd < 256 && n < max; fd++) {
		bool skip = false;
		for (size_t i = 0; i < n_mine; i++)
			skip = skip || mine[i] == fd;
		int type = 0;
		socklen_t tl = sizeof(type);
		if (skip || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_DGRAM)
			continue;
		struct sockaddr_in a;
		socklen_t al = sizeof(a);
		if (getsockname(fd, (struct sockaddr *)&a, &al) < 0 || a.sin_family != AF_INET || !a.sin_port)
			continue;
		ports[n++] = ntohs(a.sin_port);
	}
	return n;
}

/* A connection request as enet_host_connect sends it (protocol.h): header with the unassigned peer id 0xFFF and a
 * sent time, then one CONNECT command asking for 2 channels. connect_id differs each time, so ENet never takes it
 * for a duplicate of an earlier request. */
static size_t build_connect(uint8_t *buf, uint32_t connect_id)
{
	ENetProtocolHeader h = {
		.peerID = htons(ENET_PROTOCOL_MAXIMUM_PEER_ID | ENET_PROTOCOL_HEADER_FLAG_SENT_TIME),
		.sentTime = htons((uint16_t)connect_id),
	};
	ENetProtocolConnect c;
	memset(&c, 0, sizeof(c));
	c.header.command = ENET_PROTOCOL_COMMAND_CONNECT | ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE;
	c.header.channelID = 0xFF;
	c.header.reliableSequenceNumber = htons(1);
	c.outgoingPeerID = htons(0);
	c.incomingSessionID = 0xFF;
	c.outgoingSessionID = 0xFF;
	c.mtu = htonl(ENET_HOST_DEFAULT_MTU);
	c.windowSize = htonl(ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE);
	c.channelCount = htonl(2);
	c.packetThrottleInterval = htonl(ENET_PEER_PACKET_THROTTLE_INTERVAL);
	c.packetThrottleAcceleration = htonl(ENET_PEER_PACKET_THROTTLE_ACCELERATION);
	c.packetThrottleDeceleration = htonl(ENET_PEER_PACKET_THROTTLE_DECELERATION);
	c.connectID = htonl(connect_id);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &c, sizeof(c));
	return sizeof(h) + sizeof(c);
}

static void flood(struct flooder *f, const uint16_t *ports, size_t n_ports)
{
	uint8_t buf[ENET_PROTOCOL_MAXIMUM_MTU];
	while (recv(f->fd, buf, sizeof(buf), 0) > 0)
		f->replies++;
	if (net_now_us() < f->next_us)
		return;
	f->next_us = net_now_us() + FLOOD_EVERY_US;
	for (size_t i = 0; i < n_ports; i++) {
		size_t len = build_connect(buf, ++f->connect_id);
		struct sockaddr_in to = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
					 .sin_port = htons(ports[i])};
		if (sendto(f->fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len)
			f->sent++;
	}
}

static void stranger_service(struct stranger *s, const uint16_t *ports, size_t n_ports)
{
	ENetEvent ev;
	while (enet_host_service(s->host, &ev, 0) > 0) {
		if (ev.type == ENET_EVENT_TYPE_CONNECT)
			s->connects++;
		else if (ev.type == ENET_EVENT_TYPE_RECEIVE)
			enet_packet_destroy(ev.packet);
	}
	uint64_t now = net_now_ms();
	for (size_t i = 0; i < n_ports; i++) {
		size_t k = 0;
		while (k < s->n && s->ports[k] != ports[i])
			k++;
		if (k == s->n) {
			if (s->n == MAX_PORTS)
				continue;
			s->ports[s->n++] = ports[i];
			s->peers[k] = NULL;
		}
		ENetPeer *p = s->peers[k];
		if (p && (p->state == ENET_PEER_STATE_CONNECTED || now - s->dialled_ms[k] < STRANGER_REDIAL_MS))
			continue;
		if (p)
			enet_peer_reset(p);
		ENetAddress a = {.port = ports[i]};
		enet_address_set_host_ip(&a, "127.0.0.1");
		s->peers[k] = enet_host_connect(s->host, &a, 2, 0);
		s->dialled_ms[k] = now;
		s->dials += s->peers[k] != NULL;
	}
	enet_host_flush(s->host);
}

enum attack {
	FLOOD_UNTIL_DOLPHIN, /* the case: forged CONNECTs while nothing listens, stopped when Dolphin is up */
	EVERYONE_ALL_ALONG,  /* forged CONNECTs and an ENet stranger, from start to end */
};

static void run(enum attack attack)
{
	assert_int_equal(enet_initialize(), 0);
	struct bytes file;
	const uint8_t *events;
	size_t events_len;
	assert_true(lu_replay_events("v3.13.slp", &file, &events, &events_len));

	/* The port Dolphin will listen on: held by a plain UDP socket that never answers until Dolphin comes up, so
	 * the source's first attempts go unanswered and it retries. */
	uint16_t dolphin_port;
	int placeholder = udp_socket(&dolphin_port);
	struct flooder f = {.fd = udp_socket(NULL)};
	struct stranger s = {0};
	if (attack == EVERYONE_ALL_ALONG) {
		s.host = enet_host_create(NULL, MAX_PORTS, 2, 0, 0);
		assert_non_null(s.host);
	}
	int mine[3] = {placeholder, f.fd, s.host ? (int)s.host->socket : -1};

	struct client c = {0};
	bytes_init(&c.got, 0);
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	char url[64], err[256];
	snprintf(url, sizeof(url), "dolphin://127.0.0.1:%u", dolphin_port);
	struct source_callbacks cb = {.data = on_data, .state = on_state, .ud = &c};
	struct source *src = source_create(loop, url, NULL, &cb, err, sizeof(err));
	assert_non_null(src);

	uint16_t ports[MAX_PORTS];
	size_t n_ports = 0;
	uint64_t next_scan = 0;
	/* Phase 1: no Dolphin, the attack runs until the source has failed and retried under it (6 s at least, as in
	 * the report). */
	uint64_t t0 = net_now_ms();
	uint64_t ports_seen = 0;
	while (net_now_ms() < t0 + 6000 || (c.waiting < 2 && net_now_ms() < t0 + 12000)) {
		net_loop_run_once(loop, 1);
		if (net_now_ms() >= next_scan) {
			n_ports = source_ports(mine, 3, ports, MAX_PORTS);
			ports_seen += n_ports;
			next_scan = net_now_ms() + SCAN_EVERY_MS;
		}
		flood(&f, ports, n_ports);
		if (s.host)
			stranger_service(&s, ports, n_ports);
		char junk[64];
		while (recv(placeholder, junk, sizeof(junk), 0) > 0)
			;
	}
	fprintf(stderr, "  attack: %llu forged CONNECTs sent, %llu replies; stranger: %llu dials, %llu connects\n",
		(unsigned long long)f.sent, (unsigned long long)f.replies, (unsigned long long)s.dials,
		(unsigned long long)s.connects);
	uint64_t sent_before = f.sent;
	size_t waiting_before = c.waiting;

	/* Phase 2: the honest Dolphin comes up on the port the source dials. */
	close(placeholder);
	mine[0] = -1;
	char port_arg[32], replay[1024];
	snprintf(port_arg, sizeof(port_arg), "127.0.0.1:%u", dolphin_port);
	snprintf(replay, sizeof(replay), "%s/v3.13.slp", ANDROSS_REPLAY_DIR);
	/* against the stronger attacker, real time (148 frames, 2.5 s): the attack goes on while the game streams */
	char speed[8];
	snprintf(speed, sizeof(speed), "%s", attack == EVERYONE_ALL_ALONG ? "1" : "max");
	char *argv[] = {ANDROSS_TOOL, "dolphin-sim", "--replay", replay, "--listen", port_arg,
			"--speed",    speed,         "--wait",   "1",    NULL};
	struct child sim;
	assert_true(lu_spawn(&sim, argv, true, NULL));
	uint16_t listening = lu_read_listen_port(&sim, 10000);
	if (listening != dolphin_port) {
		lu_signal(&sim, SIGKILL);
		lu_wait(&sim, 10000);
	}
	assert_int_equal(listening, dolphin_port);
	uint64_t deadline = net_now_ms() + RECORD_BOUND_MS;
	while (c.got.len < events_len && net_now_ms() < deadline) {
		net_loop_run_once(loop, 1);
		if (attack == FLOOD_UNTIL_DOLPHIN)
			continue;
		if (net_now_ms() >= next_scan) {
			n_ports = source_ports(mine, 3, ports, MAX_PORTS);
			next_scan = net_now_ms() + SCAN_EVERY_MS;
		}
		flood(&f, ports, n_ports);
		stranger_service(&s, ports, n_ports);
	}
	fprintf(stderr, "  after Dolphin came up: %zu of %zu event bytes; %llu forged CONNECTs sent, %llu replies\n",
		c.got.len, events_len, (unsigned long long)f.sent, (unsigned long long)f.replies);
	source_destroy(src);
	net_loop_destroy(loop);
	lu_signal(&sim, SIGTERM);
	lu_wait(&sim, 10000);
	if (s.host)
		enet_host_destroy(s.host);
	close(f.fd);
	enet_deinitialize();
	size_t got_len = c.got.len;
	bool same = got_len == events_len && !memcmp(c.got.data, events, events_len);
	bytes_free(&c.got);
	bytes_free(&file);

	/* the attack ran: the source had a port to aim at, and failed and retried under it */
	assert_true(ports_seen > 0);
	assert_true(sent_before > 100);
	assert_true(waiting_before >= 2);
	/* the source reached Dolphin and recorded the whole game, nothing lost, nothing doubled */
	assert_true(c.connected >= 1);
	assert_int_equal(got_len, events_len);
	assert_true(same);
	/* it never took a stranger as its peer: no VERIFY_CONNECT ever went back, no handshake completed */
	assert_int_equal(f.replies, 0);
	assert_int_equal(s.connects, 0);
	/* and it saw the requests it refused (so the flood did reach its live socket) */
	assert_true(c.ignored > 0);
}

static void test_forged_connect_flood_before_dolphin_comes_up(void **state)
{
	(void)state;
	run(FLOOD_UNTIL_DOLPHIN);
}

static void test_flood_and_enet_stranger_all_along(void **state)
{
	(void)state;
	run(EVERYONE_ALL_ALONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_connect_flood_before_dolphin_comes_up),
		cmocka_unit_test(test_flood_and_enet_stranger_all_along),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
