/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lying console of hostile_console.h. Blocking per session (one client at a time, as a Wii serves), with
 * poll() so that a client that goes away or hc_stop ends a session at once.
 */
#include "hostile_console.h"

#include "bytes.h"
#include "console_proto.h"
#include "net/loop.h"
#include "net/sock.h"
#include "slp_splitter.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HC_TOKEN 0x5EED0001u
#define HC_KEEPALIVE_MS 250
#define HC_HANDSHAKE_WAIT_MS 2000
#define HC_SEND_WAIT_MS 5000
#define HC_BAD_WAIT_MS 2000 /* after a lie, how long to wait for the client to hang up */

static int collect_start(void *ud, const struct slp_event *ev)
{
	struct hostile_console *hc = ud;
	if (ev->reassembled)
		return 0;
	if (hc->n_starts % 4096 == 0) {
		size_t *more = realloc(hc->starts, (hc->n_starts + 4097) * sizeof(*more));
		if (!more)
			return 1;
		hc->starts = more;
	}
	hc->starts[hc->n_starts++] = (size_t)ev->offset;
	return 0;
}

bool hc_is_boundary(const struct hostile_console *hc, size_t offset)
{
	size_t lo = 0, hi = hc->n_starts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (hc->starts[mid] < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < hc->n_starts && hc->starts[lo] == offset;
}

/* The index of the first boundary above offset (n_starts when none). */
static size_t boundary_above(const struct hostile_console *hc, size_t offset)
{
	size_t lo = 0, hi = hc->n_starts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (hc->starts[mid] <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t hc_boundary_before(const struct hostile_console *hc, size_t offset)
{
	size_t i = boundary_above(hc, offset);
	return i ? hc->starts[i - 1] : 0;
}

unsigned hc_sessions_between(struct hostile_console *hc, uint64_t from_ms, uint64_t to_ms)
{
	unsigned n = atomic_load(&hc->sessions), count = 0;
	for (unsigned i = 0; i < n && i < HC_MAX_SESSIONS; i++)
		count += hc->accept_ms[i] >= from_ms && hc->accept_ms[i] < to_ms;
	return count;
}

/* True when the client closed (or reset) the connection; discards whatever it sent. */
static bool peer_gone(int fd, int wait_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	if (poll(&pfd, 1, wait_ms) <= 0)
		return false;
	uint8_t scratch[512];
	bool closed = false;
	return net_read(fd, scratch, sizeof(scratch), &closed) < 0;
}

static bool send_all(struct hostile_console *hc, int fd, const uint8_t *p, size_t len)
{
	uint64_t deadline = net_now_ms() + HC_SEND_WAIT_MS;
	while (len && !atomic_load(&hc->stopping) && net_now_ms() < deadline) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t n = net_write(fd, p, len);
		if (n < 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return len == 0;
}

/* The end of the REPLAY that starts at stream offset o (maybe inside an event), cut as Nintendont cuts: whole
 * events (the first from o), at most 25,000 bytes unless one event is larger, an Event Payloads only first, a
 * Game End last, never past limit (an event boundary above o). */
static size_t message_end(const struct hostile_console *hc, size_t o, size_t limit)
{
	size_t end = o;
	for (size_t i = boundary_above(hc, o); i < hc->n_starts; i++) {
		size_t ev = hc->starts[i - 1], next = hc->starts[i];
		bool starts_game = hc->stream[ev] == SLP_CMD_EVENT_PAYLOADS && ev >= o;
		if (end > o && (next > limit || next - o > CONSOLE_REPLAY_MAX_DATA_BYTES || starts_game))
			break;
		end = next;
		if (hc->stream[ev] == SLP_CMD_GAME_END)
			break;
	}
	return end;
}

/* Honest REPLAYs of bytes from..to. Returns false when the client went away. */
static bool send_honest(struct hostile_console *hc, int fd, size_t from, size_t to, struct bytes *b)
{
	while (from < to) {
		size_t end = message_end(hc, from, to);
		bytes_clear(b);
		console_replay_encode(b, hc->base + from, false, hc->stream + from, end - from);
		if (!send_all(hc, fd, b->data, b->len) || peer_gone(fd, 0))
			return false;
		from = end;
	}
	return true;
}

/* Keepalives every 250 ms for hold_ms (0: until the client goes or the console stops). */
static void hold(struct hostile_console *hc, int fd, unsigned hold_ms, struct bytes *b)
{
	uint64_t until = net_now_ms() + hold_ms;
	while (!atomic_load(&hc->stopping) && (!hold_ms || net_now_ms() < until)) {
		if (peer_gone(fd, HC_KEEPALIVE_MS))
			return;
		bytes_clear(b);
		console_keepalive_encode(b);
		if (!send_all(hc, fd, b->data, b->len))
			return;
	}
}

static bool read_hello(struct hostile_console *hc, int fd, struct console_hello *h)
{
	uint8_t hs[CONSOLE_HANDSHAKE_BYTES];
	size_t got = 0;
	uint64_t deadline = net_now_ms() + HC_HANDSHAKE_WAIT_MS;
	while (got < sizeof(hs) && !atomic_load(&hc->stopping) && net_now_ms() < deadline) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t n = net_read(fd, hs + got, sizeof(hs) - got, NULL);
		if (n < 0)
			return false;
		got += (size_t)n;
	}
	char err[128];
	return got == sizeof(hs) && console_hello_decode(hs + 4, sizeof(hs) - 4, h, err, sizeof(err)) == 0;
}

static void serve(struct hostile_console *hc, unsigned session, int fd)
{
	struct hc_plan pl = {0};
	hc->plan(hc->plan_ud, session, &pl);
	size_t to = pl.at ? pl.at : hc->stream_len;
	struct bytes b;
	bytes_init(&b, 0);
	static const char junk[] = "this is not a console: no handshake reply, no events, just bytes";
	if (hc->raw) {
		if (pl.act == HC_RAW)
			send_all(hc, fd, hc->stream, to);
		else
			send_all(hc, fd, (const uint8_t *)junk, sizeof(junk));
		peer_gone(fd, 50); /* read the client's handshake, so that closing sends a FIN rather than a reset */
		goto out;
	}
	struct console_hello h;
	if (!read_hello(hc, fd, &h))
		goto out;
	if (pl.act == HC_JUNK) {
		send_all(hc, fd, (const uint8_t *)junk, sizeof(junk));
		goto out;
	}
	/* Nintendont's start cursor for a returning client; a fresh one starts at the (first) game start */
	bool returning = h.token == HC_TOKEN && h.cursor >= hc->base && h.cursor - hc->base <= hc->stream_len;
	size_t pos = returning ? (size_t)(h.cursor - hc->base) : 0;
	if (pl.act == HC_REPLY_BEHIND)
		pos = pl.back_to;
	console_reply_encode(&b, "LyingWii", "1.9.0", HC_TOKEN, hc->base + pos);
	if (!send_all(hc, fd, b.data, b.len))
		goto out;
	switch (pl.act) {
	case HC_HONEST:
		if (pos < to && !send_honest(hc, fd, pos, to, &b))
			break;
		hold(hc, fd, pl.hold_ms, &b);
		break;
	case HC_UNALIGNED_THEN_BAD:
		for (unsigned k = 0; k < pl.count && pos < hc->stream_len; k++) {
			size_t n = pl.chunk < hc->stream_len - pos ? pl.chunk : hc->stream_len - pos;
			bytes_clear(&b);
			console_replay_encode(&b, hc->base + pos, false, hc->stream + pos, n);
			if (!send_all(hc, fd, b.data, b.len))
				goto out;
			pos += n;
		}
		bytes_clear(&b);
		if (pl.bad_pos) {
			console_replay_encode(&b, hc->base + pos + 1000, false, (const uint8_t *)"\x39\x02\x00", 3);
		} else {
			/* valid bytes that complete the event cut above, then an event the size table does not declare */
			size_t rest = hc_is_boundary(hc, pos) ? 0 : hc->starts[boundary_above(hc, pos)] - pos;
			struct bytes data;
			bytes_init(&data, 0);
			bytes_append(&data, hc->stream + pos, rest);
			bytes_append(&data, "\xee\x01\x02", 3);
			console_replay_encode(&b, hc->base + pos, false, data.data, data.len);
			bytes_free(&data);
		}
		send_all(hc, fd, b.data, b.len);
		peer_gone(fd, HC_BAD_WAIT_MS);
		break;
	case HC_BACKWARD_FORCEPOS:
		if (pos < pl.at && !send_honest(hc, fd, pos, pl.at, &b))
			break;
		bytes_clear(&b);
		console_replay_encode(&b, hc->base + pl.back_to, true, hc->stream + pl.back_to, pl.at - pl.back_to);
		if (!send_all(hc, fd, b.data, b.len))
			break;
		if (send_honest(hc, fd, pl.at, hc->stream_len, &b))
			hold(hc, fd, 0, &b);
		break;
	case HC_REPLY_BEHIND:
		if (send_honest(hc, fd, pos, hc->stream_len, &b))
			hold(hc, fd, 0, &b);
		break;
	default: /* HC_REPLY_HANGUP */
		break;
	}
out:
	bytes_free(&b);
}

static void *run(void *arg)
{
	struct hostile_console *hc = arg;
	while (!atomic_load(&hc->stopping)) {
		struct pollfd pfd = {.fd = hc->listen_fd, .events = POLLIN};
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		int fd = net_tcp_accept(hc->listen_fd, NULL, 0);
		if (fd < 0)
			continue;
		unsigned session = atomic_load(&hc->sessions);
		if (session < HC_MAX_SESSIONS)
			hc->accept_ms[session] = net_now_ms();
		atomic_store(&hc->sessions, session + 1);
		serve(hc, session, fd);
		net_close(fd);
	}
	return NULL;
}

int hc_index(struct hostile_console *hc)
{
	struct slp_splitter s;
	slp_splitter_init(&s);
	free(hc->starts);
	hc->starts = NULL;
	hc->n_starts = 0;
	int rc = slp_splitter_feed(&s, hc->stream, hc->stream_len, collect_start, hc);
	bool whole = rc == 0 && slp_splitter_pending_bytes(&s) == 0 && hc->n_starts;
	slp_splitter_free(&s);
	if (whole) /* the end of the stream closes the last event */
		whole = collect_start(hc, &(struct slp_event){.offset = hc->stream_len}) == 0;
	if (!whole) {
		fprintf(stderr, "hostile console: the stream is not whole events\n");
		free(hc->starts);
		hc->starts = NULL;
		return -1;
	}
	return 0;
}

int hc_start(struct hostile_console *hc)
{
	if (!hc->starts && hc_index(hc) < 0)
		return -1;
	atomic_store(&hc->sessions, 0);
	atomic_store(&hc->stopping, false);
	char err[256];
	hc->listen_fd = net_tcp_listen("127.0.0.1", 0, 1, &hc->port, err, sizeof(err));
	if (hc->listen_fd < 0) {
		fprintf(stderr, "hostile console: %s\n", err);
		return -1;
	}
	if (pthread_create(&hc->thread, NULL, run, hc) != 0) {
		net_close(hc->listen_fd);
		return -1;
	}
	return 0;
}

void hc_stop(struct hostile_console *hc)
{
	atomic_store(&hc->stopping, true);
	pthread_join(hc->thread, NULL);
	net_close(hc->listen_fd);
	free(hc->starts);
	hc->starts = NULL;
}
