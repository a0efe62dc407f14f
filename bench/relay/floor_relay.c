/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The floor for bench_relay: the least a relay can do on this machine. It reads the feeder's console stream and
 * makes exactly one send of each REPLAY message's event bytes to every client, on the same two threads the andross
 * relay uses for a large fan-out (net/fanout.h), and nothing else: no history, no late joiners, no console mode,
 * no lag policy, no recording, no game state. A client whose send fails or falls short is dropped.
 *
 * Its latency is what any relay built on one TCP send per client per frame pays in the kernel here; the gap
 * between it and `andross relay` is what the andross relay itself costs.
 *
 *   floor_relay HOST:PORT   (the feeder) -- prints "floor relay listening on 127.0.0.1:PORT"
 */
#include "console_proto.h"
#include "net/fanout.h"
#include "net/sock.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_CLIENTS 1024

struct floor {
	int clients[MAX_CLIENTS];
	size_t n_clients;
	struct net_fanout *fanout;
	struct net_fanout_job jobs[MAX_CLIENTS];
};

static int on_frame(void *ud, const uint8_t *body, size_t len)
{
	struct floor *fl = ud;
	struct console_msg m;
	char err[128];
	if (console_msg_decode(body, len, &m, err, sizeof(err)) < 0) {
		fprintf(stderr, "floor_relay: %s\n", err);
		return -1;
	}
	if (m.type != CONSOLE_MSG_REPLAY || !m.data_len || !fl->n_clients)
		return 0;
	for (size_t i = 0; i < fl->n_clients; i++)
		fl->jobs[i] = (struct net_fanout_job){.fd = fl->clients[i], .data = m.data, .len = m.data_len};
	net_fanout_send(fl->fanout, fl->jobs, fl->n_clients);
	size_t kept = 0;
	for (size_t i = 0; i < fl->n_clients; i++) {
		if (fl->jobs[i].result == (ssize_t)m.data_len)
			fl->clients[kept++] = fl->clients[i];
		else
			close(fl->clients[i]);
	}
	fl->n_clients = kept;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || !strchr(argv[1], ':')) {
		fprintf(stderr, "usage: floor_relay FEEDER_HOST:PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	char host[64];
	snprintf(host, sizeof(host), "%.*s", (int)(strrchr(argv[1], ':') - argv[1]), argv[1]);
	uint16_t feed_port = (uint16_t)atoi(strrchr(argv[1], ':') + 1);
	char err[256];
	uint16_t port = 0;
	int lfd = net_tcp_listen("127.0.0.1", 0, 128, &port, err, sizeof(err));
	int ffd = lfd < 0 ? -1 : net_tcp_connect_start(host, feed_port, err, sizeof(err));
	if (ffd < 0) {
		fprintf(stderr, "floor_relay: %s\n", err);
		return 1;
	}
	/* wait for the connect, then send the handshake (realtime, from the start) */
	for (int i = 0; i < 500 && net_tcp_connect_result(ffd, err, sizeof(err)) < 0; i++)
		usleep(10000);
	uint8_t hs[CONSOLE_HANDSHAKE_BYTES];
	console_handshake_encode(hs, 0, 0, true);
	if (net_write(ffd, hs, sizeof(hs)) != (ssize_t)sizeof(hs)) {
		fprintf(stderr, "floor_relay: cannot send the handshake to %s\n", argv[1]);
		return 1;
	}
	net_set_nodelay(ffd, true);
	struct floor *fl = calloc(1, sizeof(*fl));
	fl->fanout = net_fanout_create();
	struct console_framer framer;
	console_framer_init(&framer, CONSOLE_FRAME_MAX_BYTES);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.fd = ffd;
	epoll_ctl(ep, EPOLL_CTL_ADD, ffd, &ev);
	printf("floor relay listening on 127.0.0.1:%u\n", port);
	fflush(stdout);
	static uint8_t buf[65536];
	for (;;) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (int k = 0; k < n; k++) {
			if (evs[k].data.fd == lfd) {
				int cfd;
				while ((cfd = net_tcp_accept(lfd, NULL, 0)) >= 0) {
					if (fl->n_clients == MAX_CLIENTS) {
						close(cfd);
						continue;
					}
					net_set_nodelay(cfd, true);
					fl->clients[fl->n_clients++] = cfd;
				}
				continue;
			}
			bool closed = false;
			ssize_t r = net_read(ffd, buf, sizeof(buf), &closed);
			if (r < 0)
				return 0; /* the feeder is gone: the run is over */
			if (r > 0 && console_framer_feed(&framer, buf, (size_t)r, on_frame, fl) < 0) {
				fprintf(stderr, "floor_relay: bad stream from the feeder\n");
				return 1;
			}
		}
	}
	return 0;
}
