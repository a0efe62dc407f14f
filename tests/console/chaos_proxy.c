/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A TCP proxy on the loop that breaks connections on purpose: for each connection it draws (from a seeded RNG) a
 * byte at which it cuts the console->client direction, a byte of the client's handshake at which it cuts, or a
 * stall (stops forwarding for a while). Used between the console source and the simulator.
 */
#include "chaos_proxy.h"

#include "net/sock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_LIMIT (32u * 1024u)

struct conn {
	struct chaos_proxy *p;
	int down_fd, up_fd; /* client side, console side */
	bool up_connected;
	struct bytes to_down, to_up;
	uint64_t down_bytes, up_bytes;
	uint64_t cut_down_at, cut_up_at, stall_at; /* UINT64_MAX: never */
	uint64_t stall_ms;
	uint64_t stall_until_ms;
	bool stalled_once;
	uint64_t timer;
	bool dead;
};

static uint64_t rnd(struct chaos_proxy *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return p->rng * 0x2545F4914F6CDD1Dull;
}

static void conn_close(struct conn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	(void)why;
	net_loop_unwatch(c->p->loop, c->down_fd);
	net_loop_unwatch(c->p->loop, c->up_fd);
	net_close(c->down_fd);
	net_close(c->up_fd);
	if (c->timer)
		net_loop_cancel(c->p->loop, c->timer);
	c->p->active = NULL;
	bytes_free(&c->to_down);
	bytes_free(&c->to_up);
	free(c);
}

static void update_watches(struct conn *c);

static void on_unstall(void *ud)
{
	struct conn *c = ud;
	c->timer = 0;
	update_watches(c);
}

static bool stalled(struct conn *c)
{
	return net_now_ms() < c->stall_until_ms;
}

/* Moves bytes from src's socket into buf, honouring the cut point. Returns false when the connection ended. */
static bool pull(int fd, struct bytes *buf, uint64_t *count, uint64_t cut_at)
{
	uint8_t tmp[16384];
	while (buf->len < BUF_LIMIT) {
		size_t room = BUF_LIMIT - buf->len < sizeof(tmp) ? BUF_LIMIT - buf->len : sizeof(tmp);
		if (cut_at != UINT64_MAX && cut_at - *count < room)
			room = (size_t)(cut_at - *count);
		if (cut_at != UINT64_MAX && *count >= cut_at)
			return false;
		if (room == 0)
			return false;
		bool closed = false;
		ssize_t n = net_read(fd, tmp, room, &closed);
		if (n == 0)
			return true;
		if (n < 0)
			return false;
		bytes_append(buf, tmp, (size_t)n);
		*count += (uint64_t)n;
	}
	return true;
}

static bool push(int fd, struct bytes *buf)
{
	while (buf->len) {
		ssize_t n = net_write(fd, buf->data, buf->len);
		if (n < 0)
			return false;
		if (n == 0)
			break;
		bytes_consume(buf, (size_t)n);
	}
	return true;
}

static void on_io(void *ud, int fd, unsigned events);

static void update_watches(struct conn *c)
{
	bool st = stalled(c);
	unsigned down = 0, up = 0;
	if (!st && c->to_up.len < BUF_LIMIT)
		down |= NET_READ;
	if (!st && c->to_down.len)
		down |= NET_WRITE;
	if (c->up_connected) {
		if (!st && c->to_down.len < BUF_LIMIT)
			up |= NET_READ;
		if (c->to_up.len)
			up |= NET_WRITE;
	} else {
		up = NET_WRITE;
	}
	net_loop_watch(c->p->loop, c->down_fd, down, on_io, c);
	net_loop_watch(c->p->loop, c->up_fd, up, on_io, c);
	if (st && !c->timer)
		c->timer = net_loop_timer(c->p->loop, c->stall_until_ms - net_now_ms() + 1, on_unstall, c);
}

static void on_io(void *ud, int fd, unsigned events)
{
	struct conn *c = ud;
	struct chaos_proxy *p = c->p;
	if (fd == c->up_fd && !c->up_connected) {
		char err[128];
		if (net_tcp_connect_result(fd, err, sizeof(err)) < 0) {
			conn_close(c, "upstream connect failed");
			return;
		}
		c->up_connected = true;
	}
	if (stalled(c)) {
		update_watches(c);
		return;
	}
	(void)events;
	/* client -> console (the handshake) */
	if (!pull(c->down_fd, &c->to_up, &c->up_bytes, c->cut_up_at)) {
		if (c->cut_up_at != UINT64_MAX && c->up_bytes >= c->cut_up_at) {
			push(c->up_fd, &c->to_up);
			p->cuts++;
		}
		conn_close(c, "client side ended");
		return;
	}
	if (c->up_connected && !push(c->up_fd, &c->to_up)) {
		conn_close(c, "console side failed");
		return;
	}
	if (c->up_connected) {
		uint64_t limit = c->cut_down_at;
		if (!c->stalled_once && c->stall_at < limit)
			limit = c->stall_at;
		bool alive = pull(c->up_fd, &c->to_down, &c->down_bytes, limit);
		if (!push(c->down_fd, &c->to_down)) {
			conn_close(c, "client side failed");
			return;
		}
		if (!alive) {
			if (!c->stalled_once && c->stall_at != UINT64_MAX && c->down_bytes >= c->stall_at) {
				c->stalled_once = true;
				c->stall_until_ms = net_now_ms() + c->stall_ms;
				p->stalls++;
			} else {
				if (c->cut_down_at != UINT64_MAX && c->down_bytes >= c->cut_down_at)
					p->cuts++;
				conn_close(c, "cut or console side ended");
				return;
			}
		}
	}
	update_watches(c);
}

static void plan(struct chaos_proxy *p, struct conn *c)
{
	c->cut_down_at = c->cut_up_at = c->stall_at = UINT64_MAX;
	if (p->plan_fn) {
		p->plan_fn(p->plan_ud, p->connections, &c->cut_down_at, &c->cut_up_at, &c->stall_at, &c->stall_ms);
		return;
	}
	uint64_t r = rnd(p) % 100;
	if (r < 45) {
		c->cut_down_at = rnd(p) % p->max_cut_bytes;
	} else if (r < 60) {
		c->cut_down_at = rnd(p) % 150; /* inside the handshake reply or the first message */
	} else if (r < 75) {
		c->cut_up_at = rnd(p) % 83; /* inside the client's handshake */
	} else {
		c->stall_at = rnd(p) % p->max_cut_bytes;
		c->stall_ms = 20 + rnd(p) % p->max_stall_ms;
		c->cut_down_at = c->stall_at + rnd(p) % p->max_cut_bytes;
	}
}

static void on_accept(void *ud, int fd, unsigned events)
{
	struct chaos_proxy *p = ud;
	(void)events;
	if (p->active) {
		net_loop_unwatch(p->loop, fd); /* one at a time, like the console; on_check watches again */
		return;
	}
	char peer[64], err[256];
	int down = net_tcp_accept(fd, peer, sizeof(peer));
	if (down < 0)
		return;
	int up = net_tcp_connect_start("127.0.0.1", p->upstream_port, err, sizeof(err));
	if (up < 0) {
		net_close(down);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	c->p = p;
	c->down_fd = down;
	c->up_fd = up;
	bytes_init(&c->to_down, BUF_LIMIT);
	bytes_init(&c->to_up, BUF_LIMIT);
	plan(p, c);
	p->connections++;
	p->active = c;
	update_watches(c);
}

static void on_check(void *ud)
{
	struct chaos_proxy *p = ud;
	/* accept again once the previous connection is gone */
	if (!p->active)
		net_loop_watch(p->loop, p->listen_fd, NET_READ, on_accept, p);
	net_loop_timer(p->loop, 2, on_check, p);
}

int chaos_proxy_start(struct chaos_proxy *p, uint16_t upstream_port, uint64_t seed)
{
	char err[256];
	p->upstream_port = upstream_port;
	p->rng = seed ? seed : 1;
	if (!p->max_cut_bytes)
		p->max_cut_bytes = 60000;
	if (!p->max_stall_ms)
		p->max_stall_ms = 150;
	p->loop = net_loop_create();
	p->listen_fd = net_tcp_listen("127.0.0.1", 0, 8, &p->port, err, sizeof(err));
	if (!p->loop || p->listen_fd < 0) {
		fprintf(stderr, "chaos proxy: %s\n", err);
		return -1;
	}
	net_loop_watch(p->loop, p->listen_fd, NET_READ, on_accept, p);
	net_loop_timer(p->loop, 2, on_check, p);
	return 0;
}

static void *run(void *arg)
{
	struct chaos_proxy *p = arg;
	net_loop_run(p->loop);
	return NULL;
}

int chaos_proxy_run_thread(struct chaos_proxy *p)
{
	return pthread_create(&p->thread, NULL, run, p);
}

void chaos_proxy_stop(struct chaos_proxy *p)
{
	net_loop_stop(p->loop);
	pthread_join(p->thread, NULL);
	if (p->active)
		conn_close(p->active, "stop");
	net_close(p->listen_fd);
	net_loop_destroy(p->loop);
}
