/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "discovery.h"
#include "net/sock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char signature[10] = {'S', 'L', 'I', 'P', '_', 'R', 'E', 'A', 'D', 'Y'};

int discovery_parse(const uint8_t *dgram, size_t len, struct discovery_announce *out)
{
	memset(out, 0, sizeof(*out));
	if (len != DISCOVERY_DATAGRAM_BYTES || memcmp(dgram, signature, sizeof(signature)))
		return -1;
	memcpy(out->mac, dgram + 10, 6);
	size_t n = 0;
	while (n < 32 && dgram[16 + n])
		n++;
	memcpy(out->nick, dgram + 16, n);
	out->nick[n] = 0;
	return 0;
}

void discovery_encode(uint8_t out[DISCOVERY_DATAGRAM_BYTES], const uint8_t mac[6], const char *nick)
{
	memset(out, 0, DISCOVERY_DATAGRAM_BYTES);
	memcpy(out, signature, sizeof(signature));
	memcpy(out + 10, mac, 6);
	size_t n = nick ? strnlen(nick, 32) : 0;
	memcpy(out + 16, nick, n);
}

void discovery_list_init(struct discovery_list *l)
{
	memset(l, 0, sizeof(*l));
	l->expiry_ms = DISCOVERY_EXPIRY_MS;
}

size_t discovery_list_expire(struct discovery_list *l, uint64_t now_ms)
{
	uint64_t expiry = l->expiry_ms ? l->expiry_ms : DISCOVERY_EXPIRY_MS;
	size_t kept = 0, dropped = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (now_ms - l->consoles[i].last_seen_ms >= expiry) {
			dropped++;
			continue;
		}
		l->consoles[kept++] = l->consoles[i];
	}
	l->n = kept;
	return dropped;
}

int discovery_list_feed(struct discovery_list *l, const char *ip, const uint8_t *dgram, size_t len, uint64_t now_ms)
{
	discovery_list_expire(l, now_ms);
	struct discovery_announce a;
	if (!ip || !strcmp(ip, "0.0.0.0") || discovery_parse(dgram, len, &a) < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		struct discovery_console *c = &l->consoles[i];
		if (!strcmp(c->ip, ip)) {
			memcpy(c->mac, a.mac, 6);
			memcpy(c->nick, a.nick, sizeof(c->nick));
			c->last_seen_ms = now_ms;
			return 0;
		}
	}
	if (l->n == DISCOVERY_MAX_CONSOLES) {
		/* full: the one heard from least recently makes room */
		size_t oldest = 0;
		for (size_t i = 1; i < l->n; i++) {
			if (l->consoles[i].last_seen_ms < l->consoles[oldest].last_seen_ms)
				oldest = i;
		}
		l->consoles[oldest] = l->consoles[--l->n];
	}
	struct discovery_console *c = &l->consoles[l->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->ip, sizeof(c->ip), "%s", ip);
	memcpy(c->mac, a.mac, 6);
	memcpy(c->nick, a.nick, sizeof(c->nick));
	c->first_seen_ms = c->last_seen_ms = now_ms;
	return 1;
}

#define RECV_PER_WAKEUP 64

struct discovery_listener {
	struct net_loop *loop;
	int fd;
	uint16_t port;
	struct discovery_list list;
	discovery_fn fn;
	void *ud;
	uint64_t check_ms;
	uint64_t timer;
};

static const struct discovery_console *find_console(const struct discovery_list *l, const char *ip)
{
	for (size_t i = 0; i < l->n; i++) {
		if (!strcmp(l->consoles[i].ip, ip))
			return &l->consoles[i];
	}
	return NULL;
}

/* Expires the list and reports each console that went. */
static void expire_and_report(struct discovery_listener *dl, uint64_t now_ms)
{
	struct discovery_console lost[DISCOVERY_MAX_CONSOLES];
	size_t n_lost = 0;
	uint64_t expiry = dl->list.expiry_ms ? dl->list.expiry_ms : DISCOVERY_EXPIRY_MS;
	for (size_t i = 0; i < dl->list.n; i++) {
		if (now_ms - dl->list.consoles[i].last_seen_ms >= expiry)
			lost[n_lost++] = dl->list.consoles[i];
	}
	if (!n_lost)
		return;
	discovery_list_expire(&dl->list, now_ms);
	for (size_t i = 0; dl->fn && i < n_lost; i++)
		dl->fn(dl->ud, &lost[i], DISCOVERY_LOST);
}

static void on_check_timer(void *ud)
{
	struct discovery_listener *dl = ud;
	dl->timer = net_loop_timer(dl->loop, dl->check_ms, on_check_timer, dl);
	expire_and_report(dl, net_now_ms());
}

static void on_readable(void *ud, int fd, unsigned events)
{
	struct discovery_listener *dl = ud;
	(void)events;
	for (int i = 0; i < RECV_PER_WAKEUP; i++) {
		uint8_t buf[512];
		char ip[64];
		ssize_t n = net_udp_recv(fd, buf, sizeof(buf), ip, sizeof(ip));
		if (n <= 0)
			return;
		uint64_t now = net_now_ms();
		/* losses are reported before the feed, which would expire silently */
		expire_and_report(dl, now);
		struct discovery_console old = {0};
		const struct discovery_console *known = find_console(&dl->list, ip);
		if (known)
			old = *known;
		int rc = discovery_list_feed(&dl->list, ip, buf, (size_t)n, now);
		const struct discovery_console *c = rc < 0 ? NULL : find_console(&dl->list, ip);
		if (!c || !dl->fn)
			continue;
		if (rc == 1 || !known)
			dl->fn(dl->ud, c, DISCOVERY_FOUND);
		else if (strcmp(old.nick, c->nick) || memcmp(old.mac, c->mac, 6))
			dl->fn(dl->ud, c, DISCOVERY_CHANGED);
	}
}

struct discovery_listener *discovery_listener_create(struct net_loop *loop, const struct discovery_listener_options *o,
						     char *err, size_t err_size)
{
	struct discovery_listener *dl = calloc(1, sizeof(*dl));
	if (!dl) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	dl->loop = loop;
	dl->fn = o->fn;
	dl->ud = o->ud;
	discovery_list_init(&dl->list);
	dl->list.expiry_ms = o->expiry_ms ? o->expiry_ms : DISCOVERY_EXPIRY_MS;
	/* a loss is reported within a tenth of the expiry (at most 1 s late) */
	dl->check_ms = dl->list.expiry_ms / 10;
	if (dl->check_ms < 10)
		dl->check_ms = 10;
	if (dl->check_ms > 1000)
		dl->check_ms = 1000;
	dl->port = o->port ? o->port : DISCOVERY_PORT;
	dl->fd = net_udp_bind(o->host ? o->host : "0.0.0.0", dl->port, false, err, err_size);
	if (dl->fd < 0 || net_loop_watch(loop, dl->fd, NET_READ, on_readable, dl) < 0 ||
	    !(dl->timer = net_loop_timer(loop, dl->check_ms, on_check_timer, dl))) {
		if (dl->fd >= 0) {
			snprintf(err, err_size, "cannot watch the discovery socket");
			net_loop_unwatch(loop, dl->fd);
		}
		net_close(dl->fd);
		free(dl);
		return NULL;
	}
	return dl;
}

void discovery_listener_destroy(struct discovery_listener *dl)
{
	if (!dl)
		return;
	net_loop_cancel(dl->loop, dl->timer);
	net_loop_unwatch(dl->loop, dl->fd);
	net_close(dl->fd);
	free(dl);
}

const struct discovery_list *discovery_listener_list(const struct discovery_listener *dl)
{
	return &dl->list;
}

uint16_t discovery_listener_port(const struct discovery_listener *dl)
{
	return dl->port;
}

const char *discovery_change_name(enum discovery_change change)
{
	switch (change) {
	case DISCOVERY_FOUND:
		return "found";
	case DISCOVERY_CHANGED:
		return "changed";
	case DISCOVERY_LOST:
		return "lost";
	}
	return "?";
}
