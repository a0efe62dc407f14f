/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The relay (relay.h): a listener, one shared history, and clients that are positions in it. */
#include "relay.h"

#include "console_log.h"
#include "console_proto.h"
#include "json_writer.h"
#include "net/fanout.h"
#include "net/sock.h"
#include "slp_splitter.h"
#include "utf8.h"

#include <errno.h>
#include <inttypes.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LISTEN_BACKLOG_MIN 4096 /* a burst of connects waits in the kernel's queue, not in SYN retries */
#define LISTEN_BACKLOG_MAX 65535
#define ACCEPT_PAUSE_MS 250 /* after a failed accept: the socket stays readable, so stop watching it */
#define READS_PER_WAKEUP 16
#define TICK_MS 100                       /* keepalive, stall and lag checks */
#define RAW_SEND_MAX_BYTES (256u * 1024u) /* history bytes handed to one send() for a raw client */
#define TX_BATCH_BYTES (8u * 1024u) /* small console messages are sent together up to this; a large one goes alone */
#define TX_LIMIT_BYTES (TX_BATCH_BYTES + CONSOLE_REPLAY_MAX_DATA_BYTES + 1024u)
#define TX_KEEP_BYTES (4u * 1024u)       /* a drained console buffer larger than this is given back */
#define PUMP_BUDGET_BYTES (256u * 1024u) /* then the client waits for the next loop pass */
#define TOKEN_TABLE_SIZE 256             /* recently seen console tokens and their cursors */
#define REFUSAL_TABLE_SIZE 32            /* addresses whose refused connections are being counted */
#define REFUSAL_REPORT_MS 60000          /* a burst of refusals longer than this is summed up this often */
#define TRIM_AFTER_CLIENTS 32            /* memory is given back to the system once this many clients went */
#define RELAY_CONSOLE_SKIPS_MAX 1        /* a console client moved forward this often is dropped the next time */

struct relay_client {
	struct relay *relay;
	uint64_t id;
	int fd;
	char address[NET_ADDR_MAX + 8];
	char ip[NET_ADDR_MAX]; /* the address without its port, for the per-address limit */
	enum relay_client_mode mode;
	bool dead;
	bool watching_write;
	uint64_t raw_timer;
	uint64_t last_send_ms;     /* it was last sent a byte */
	uint64_t last_progress_ms; /* the socket last took bytes, or started waiting */
	/* what it sent: the handshake frame, then only a count */
	uint8_t hs[4 + CONSOLE_HANDSHAKE_MAX_BODY_BYTES];
	size_t hs_len;
	uint64_t rx_bytes;
	/* its stream */
	uint64_t cursor;            /* console: next history byte to load into tx; raw: next history byte to send */
	uint64_t allowance_bytes;   /* lag tolerated beyond the cap: the backlog it joined with */
	uint64_t over_cap_ms;       /* when its lag last rose above the cap (0: it is within the cap) */
	unsigned skips;             /* console: times it was moved forward */
	bool need_game_start;       /* skip to the next Event Payloads */
	bool held;                  /* its handshake reply waits for the console's name (hold_replies) */
	struct console_hello hello; /* the handshake of a held client */
	bool force_next;            /* console: the next REPLAY carries forcePos */
	uint32_t token;
	size_t filler_left; /* raw: bytes of a `HELO\0` filler still to send */
	struct bytes tx;    /* console: whole messages being sent */
	size_t tx_off;
	uint64_t sent_bytes;
};

/* Refused connections from one address: the first of a burst is reported, the others counted. */
struct relay_refusal {
	char ip[NET_ADDR_MAX];
	char why[96];
	uint64_t first_ms, last_ms, reported_ms;
	uint64_t unreported;
};

struct relay_token {
	uint32_t token;
	uint64_t cursor;
	uint64_t seen_ms;
};

struct relay {
	struct net_loop *loop;
	struct relay_options opts;
	struct relay_callbacks cb;
	char host[NET_ADDR_MAX];
	char address[NET_ADDR_MAX + 8];
	char nick[CONSOLE_NICK_MAX + 1];
	uint16_t port;
	int listen_fd;
	uint64_t tick_timer;
	uint64_t accept_timer; /* accepting is paused until it fires */
	uint64_t accept_failures;

	struct console_log log;
	bool stream_failed;
	bool hold_replies; /* console clients' handshake replies wait for relay_set_nick */

	struct relay_client **clients;
	size_t n_clients, cap_clients;
	size_t live;
	uint64_t next_id;
	int depth;
	bool need_reap;
	size_t gone_since_trim; /* clients freed since memory was last given back */
	size_t per_address_limit;
	bool limit_loopback;
	int backlog;
	struct relay_refusal refusals[REFUSAL_TABLE_SIZE];

	struct relay_token tokens[TOKEN_TABLE_SIZE];
	uint64_t rng; /* console_token_next's state */

	/* a fan-out's sends, made in parallel (NULL fanout: on this thread alone) */
	struct net_fanout *fanout;
	struct net_fanout_job *jobs;
	struct relay_client **job_clients;
	size_t cap_jobs;
};

static void pump(struct relay *r, struct relay_client *c);

void relay_options_init(struct relay_options *o)
{
	memset(o, 0, sizeof(*o));
	o->host = RELAY_HOST_DEFAULT;
	o->port = RELAY_PORT_DEFAULT;
	o->max_clients = RELAY_MAX_CLIENTS_DEFAULT;
	o->history_bytes = RELAY_HISTORY_BYTES_DEFAULT;
	o->lag_cap_bytes = RELAY_LAG_CAP_BYTES_DEFAULT;
	o->lag_timeout_ms = RELAY_LAG_TIMEOUT_MS_DEFAULT;
	o->stall_timeout_ms = RELAY_STALL_TIMEOUT_MS_DEFAULT;
	o->send_buffer_bytes = RELAY_SEND_BUFFER_BYTES_DEFAULT;
	o->nick = RELAY_NICK_DEFAULT;
}

const char *relay_client_mode_name(enum relay_client_mode mode)
{
	switch (mode) {
	case RELAY_MODE_CONSOLE:
		return "console";
	case RELAY_MODE_RAW:
		return "raw";
	default:
		return "none";
	}
}

/* --- bookkeeping --- */

static void enter(struct relay *r)
{
	r->depth++;
}

static void reap(struct relay *r)
{
	size_t j = 0;
	for (size_t i = 0; i < r->n_clients; i++) {
		struct relay_client *c = r->clients[i];
		if (!c->dead) {
			r->clients[j++] = c;
			continue;
		}
		bytes_free(&c->tx);
		free(c);
		r->gone_since_trim++;
	}
	r->n_clients = j;
	r->need_reap = false;
}

static void leave(struct relay *r)
{
	if (--r->depth == 0 && r->need_reap)
		reap(r);
}

static void client_info(const struct relay_client *c, struct relay_client_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = c->id;
	info->address = c->address;
	info->mode = c->mode;
	info->token = c->token;
	info->cursor = c->cursor;
	info->sent_bytes = c->sent_bytes;
}

static void emit(struct relay *r, const struct relay_client *c, enum relay_client_event ev, uint64_t from, uint64_t to,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void emit(struct relay *r, const struct relay_client *c, enum relay_client_event ev, uint64_t from, uint64_t to,
		 const char *fmt, ...)
{
	if (!r->cb.client)
		return;
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	struct relay_client_info info;
	client_info(c, &info);
	info.from_byte = from;
	info.to_byte = to;
	r->cb.client(r->cb.ud, ev, &info, reason);
}

static void warn(struct relay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct relay *r, const char *fmt, ...)
{
	if (!r->cb.warning)
		return;
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->cb.warning(r->cb.ud, msg);
}

/* --- console tokens --- */

static struct relay_token *find_token(struct relay *r, uint32_t token)
{
	for (size_t i = 0; token && i < TOKEN_TABLE_SIZE; i++)
		if (r->tokens[i].token == token)
			return &r->tokens[i];
	return NULL;
}

static void remember_token(struct relay *r, uint32_t token, uint64_t cursor)
{
	struct relay_token *t = find_token(r, token);
	if (!t) {
		t = &r->tokens[0];
		for (size_t i = 1; i < TOKEN_TABLE_SIZE && t->token; i++)
			if (!r->tokens[i].token || r->tokens[i].seen_ms < t->seen_ms)
				t = &r->tokens[i];
	}
	t->token = token;
	t->cursor = cursor;
	t->seen_ms = net_now_ms();
}

static struct relay_client *live_client_with_token(struct relay *r, uint32_t token, const struct relay_client * not)
{
	for (size_t i = 0; token && i < r->n_clients; i++) {
		struct relay_client *c = r->clients[i];
		if (c != not&&!c->dead && c->mode == RELAY_MODE_CONSOLE && c->token == token)
			return c;
	}
	return NULL;
}

static uint32_t new_token(struct relay *r)
{
	uint32_t t;
	do
		t = console_token_next(&r->rng);
	while (find_token(r, t) || live_client_with_token(r, t, NULL));
	return t;
}

/* --- clients --- */

static void drop(struct relay *r, struct relay_client *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void drop(struct relay *r, struct relay_client *c, const char *fmt, ...)
{
	if (c->dead)
		return;
	c->dead = true;
	if (c->raw_timer)
		net_loop_cancel(r->loop, c->raw_timer);
	c->raw_timer = 0;
	net_loop_unwatch(r->loop, c->fd);
	net_close(c->fd);
	c->fd = -1;
	if (c->mode == RELAY_MODE_CONSOLE)
		remember_token(r, c->token, c->cursor);
	r->live--;
	r->need_reap = true;
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	emit(r, c, RELAY_CLIENT_DISCONNECTED, 0, 0, "%s", reason);
}

static void want_write(struct relay *r, struct relay_client *c, bool on);

static void on_client_io(void *ud, int fd, unsigned events);

static void want_write(struct relay *r, struct relay_client *c, bool on)
{
	if (c->watching_write == on)
		return;
	if (on)
		c->last_progress_ms = net_now_ms();
	c->watching_write = on;
	if (net_loop_watch(r->loop, c->fd, NET_READ | (on ? NET_WRITE : 0), on_client_io, c) < 0)
		drop(r, c, "out of memory");
}

/* A new client's first byte: the current game's Event Payloads, or (between games) the next one. */
static void place_at_start(struct relay *r, struct relay_client *c)
{
	const struct console_log *log = &r->log;
	if (console_log_in_game(log) && console_log_readable(log, console_log_game_start(log))) {
		c->cursor = console_log_game_start(log);
		c->need_game_start = false;
	} else {
		c->cursor = console_log_end(log);
		c->need_game_start = true;
	}
	c->allowance_bytes = console_log_end(log) - c->cursor;
}

/* A client waiting for a game start skips whatever comes before the next Event Payloads. */
static void seek_game_start(struct relay *r, struct relay_client *c)
{
	uint64_t before = c->cursor;
	c->cursor = console_log_next_game(&r->log, c->cursor);
	if (c->cursor < console_log_end(&r->log))
		c->need_game_start = false;
	if (c->cursor != before)
		c->force_next = true; /* a console client was told the old position */
}

static size_t tx_pending(const struct relay_client *c)
{
	return c->tx.len - c->tx_off;
}

static uint64_t client_lag(const struct relay *r, const struct relay_client *c)
{
	return console_log_end(&r->log) - c->cursor + tx_pending(c);
}

/*
 * The client fell too far behind. A raw client has no cursor to skip with: it is dropped. A console client is
 * moved to the newest event boundary once, as a Wii does on overflow (forcePos); a client that falls behind a
 * second time cannot keep up and is dropped, which frees its slot (a slippi-js client reconnects and resumes at its
 * cursor while the history holds it).
 */
static void overtake(struct relay *r, struct relay_client *c, uint64_t lag, const char *why)
{
	if (c->mode == RELAY_MODE_RAW) {
		drop(r, c, "%s: %" PRIu64 " bytes behind (lag cap %zu bytes)", why, lag, r->opts.lag_cap_bytes);
		return;
	}
	if (c->skips >= RELAY_CONSOLE_SKIPS_MAX) {
		drop(r, c, "%s: %" PRIu64 " bytes behind (lag cap %zu bytes) after it was already moved forward", why,
		     lag, r->opts.lag_cap_bytes);
		return;
	}
	c->skips++;
	uint64_t from = c->cursor;
	c->cursor = console_log_end(&r->log);
	c->need_game_start = false;
	c->force_next = true;
	c->allowance_bytes = 0;
	c->over_cap_ms = 0;
	emit(r, c, RELAY_CLIENT_SKIPPED, from, c->cursor,
	     "%s: %" PRIu64 " bytes behind (lag cap %zu bytes); moved forward %" PRIu64
	     " bytes with forcePos (once: next time it is dropped)",
	     why, lag, r->opts.lag_cap_bytes, c->cursor - from);
}

/*
 * The lag policy (docs/relay.md, "Slow and hostile clients"): past the cap plus the backlog it joined with, a
 * client is overtaken; above the cap for lag_timeout_ms in a row (a joiner that never works off its backlog), it
 * is dropped.
 */
static void check_lag(struct relay *r, struct relay_client *c, uint64_t now)
{
	if (c->need_game_start) {
		c->over_cap_ms = 0;
		return; /* waiting for the next game: whatever comes before it is skipped, not owed */
	}
	uint64_t lag = client_lag(r, c);
	if (c->mode == RELAY_MODE_RAW && c->cursor < console_log_start(&r->log)) {
		overtake(r, c, lag, "fell out of the history"); /* its bytes are sent from the history itself */
		return;
	}
	if (lag <= r->opts.lag_cap_bytes) {
		c->allowance_bytes = 0;
		c->over_cap_ms = 0;
		return;
	}
	if (!c->over_cap_ms)
		c->over_cap_ms = now ? now : 1;
	if (lag - r->opts.lag_cap_bytes > c->allowance_bytes)
		overtake(r, c, lag, "too slow");
	else if (now - c->over_cap_ms >= r->opts.lag_timeout_ms)
		drop(r, c, "too slow: still %" PRIu64 " bytes behind after %" PRIu64 " ms (lag cap %zu bytes)", lag,
		     now - c->over_cap_ms, r->opts.lag_cap_bytes);
}

/* Loads the next REPLAY message of a console client into tx. Returns the history bytes loaded. */
static size_t load_next(struct relay *r, struct relay_client *c)
{
	struct console_log *log = &r->log;
	if (c->need_game_start) {
		seek_game_start(r, c);
		if (c->need_game_start)
			return 0;
	}
	if (c->cursor >= console_log_end(log))
		return 0;
	if (!console_log_readable(log, c->cursor)) {
		overtake(r, c, console_log_end(log) - c->cursor, "fell out of the history");
		return 0;
	}
	size_t n = console_log_encode_replay(log, c->cursor, c->force_next, CONSOLE_REPLAY_MAX_DATA_BYTES, &c->tx);
	if (n == SIZE_MAX) {
		drop(r, c, "out of memory for its send buffer");
		return 0;
	}
	if (n)
		c->force_next = false;
	c->cursor += n;
	return n;
}

/*
 * The next bytes the client is owed, in one piece: for a raw client a filler or the history's own bytes (nothing is
 * copied: every raw client is a window on the one ring), for a console client the messages in tx, refilled when
 * empty. Returns the length (0: nothing owed) and the bytes in *p.
 */
static size_t next_piece(struct relay *r, struct relay_client *c, const uint8_t **p)
{
	const struct console_log *log = &r->log;
	if (c->mode == RELAY_MODE_RAW) {
		if (c->filler_left) {
			*p = (const uint8_t *)SLP_FILLER + SLP_FILLER_LEN - c->filler_left;
			return c->filler_left;
		}
		if (c->need_game_start) {
			seek_game_start(r, c);
			if (c->need_game_start)
				return 0;
		}
		if (c->cursor >= console_log_end(log))
			return 0;
		if (c->cursor < console_log_start(log)) {
			overtake(r, c, console_log_end(log) - c->cursor, "fell out of the history");
			return 0;
		}
		/* up to the ring's wrap: the rest comes from the ring's start in the next piece */
		size_t n = console_log_span(log, c->cursor, p);
		return n > RAW_SEND_MAX_BYTES ? RAW_SEND_MAX_BYTES : n;
	}
	if (!tx_pending(c)) {
		while (c->tx.len < TX_BATCH_BYTES && load_next(r, c) > 0) {
		}
		if (c->dead)
			return 0;
	}
	*p = c->tx.data + c->tx_off;
	return tx_pending(c);
}

/* n bytes of the client's last piece were taken by its socket. */
static void advance(struct relay_client *c, size_t n, uint64_t now)
{
	if (!n)
		return;
	c->sent_bytes += n;
	c->last_progress_ms = now;
	c->last_send_ms = now;
	if (c->mode == RELAY_MODE_RAW) {
		if (c->filler_left)
			c->filler_left -= n;
		else
			c->cursor += n;
		return;
	}
	c->tx_off += n;
	if (c->tx_off < c->tx.len)
		return;
	c->tx_off = 0;
	if (c->tx.cap > TX_KEEP_BYTES)
		bytes_free(&c->tx); /* a catch-up's large buffer is not kept for the small messages of live play */
	else
		bytes_clear(&c->tx);
}

/* Sends what the client can take now, at most PUMP_BUDGET_BYTES; never waits. */
static void pump(struct relay *r, struct relay_client *c)
{
	size_t written = 0;
	while (!c->dead) {
		const uint8_t *p = NULL;
		size_t len = next_piece(r, c, &p);
		if (c->dead)
			return;
		if (!len) {
			want_write(r, c, false);
			return;
		}
		if (written >= PUMP_BUDGET_BYTES) {
			want_write(r, c, true); /* the socket is writable: the loop comes back at once */
			return;
		}
		ssize_t n = net_write(c->fd, p, len);
		if (n < 0) {
			drop(r, c, "the connection failed while sending");
			return;
		}
		advance(c, (size_t)n, net_now_ms());
		written += (size_t)n;
		if ((size_t)n < len) {
			want_write(r, c, true);
			return;
		}
	}
}

static void start_serving(struct relay *r, struct relay_client *c)
{
	c->last_send_ms = net_now_ms();
	pump(r, c);
}

static void on_raw_timer(void *ud)
{
	struct relay_client *c = ud;
	struct relay *r = c->relay;
	c->raw_timer = 0;
	if (c->dead || c->mode != RELAY_MODE_NONE)
		return;
	enter(r);
	c->mode = RELAY_MODE_RAW;
	place_at_start(r, c);
	if (c->hs_len)
		emit(r, c, RELAY_CLIENT_CONNECTED, 0, 0,
		     "raw stream: %zu bytes but no complete handshake within %d ms; %s", c->hs_len, RELAY_RAW_AFTER_MS,
		     c->need_game_start ? "starts with the next game" : "starts at the game in progress");
	else
		emit(r, c, RELAY_CLIENT_CONNECTED, 0, 0, "raw stream: no handshake within %d ms; %s",
		     RELAY_RAW_AFTER_MS,
		     c->need_game_start ? "starts with the next game" : "starts at the game in progress");
	start_serving(r, c);
	leave(r);
}

/* A console client's handshake is answered: its token and start cursor decided, the reply queued. */
static void admit_console(struct relay *r, struct relay_client *c, const struct console_hello *hello)
{
	struct console_hello h = *hello;
	const struct relay_token *known = find_token(r, h.token);
	struct relay_client *old = live_client_with_token(r, h.token, c);
	const char *how;
	if (known || old) {
		/*
		 * A returning client may resume anywhere up to what it was sent, while that is still held. An old
		 * connection with the same token (dead without a FIN, say) is left alone: it goes when a send fails or
		 * it stalls, and one client can never cut off another.
		 */
		uint64_t bound = known ? known->cursor : 0;
		if (old && old->cursor > bound)
			bound = old->cursor;
		c->token = h.token;
		if (h.cursor <= bound && console_log_readable(&r->log, h.cursor)) {
			c->cursor = h.cursor;
			c->need_game_start = false;
			c->allowance_bytes = console_log_end(&r->log) - c->cursor;
			how = "resumed at its cursor";
		} else {
			place_at_start(r, c);
			how = "its cursor cannot be served; restarts at a game start";
		}
	} else {
		c->token = new_token(r);
		place_at_start(r, c);
		how = h.token ? "unknown token; new token" : "new token";
	}
	c->mode = RELAY_MODE_CONSOLE;
	remember_token(r, c->token, c->cursor);
	if (!console_reply_encode(&c->tx, r->nick, RELAY_CONSOLE_VERSION, c->token, c->cursor)) {
		drop(r, c, "out of memory for its send buffer");
		return;
	}
	emit(r, c, RELAY_CLIENT_CONNECTED, 0, 0, "console protocol: %s, starts at byte %" PRIu64 "%s", how, c->cursor,
	     c->need_game_start ? " with the next game" : "");
	start_serving(r, c);
}

/* A whole handshake frame arrived within the first 250 ms. */
static void on_handshake(struct relay *r, struct relay_client *c, const uint8_t *body, size_t len)
{
	struct console_hello h;
	char err[160];
	if (console_hello_decode(body, len, &h, err, sizeof(err)) < 0) {
		drop(r, c, "not a console handshake: %s", err);
		return;
	}
	if (c->raw_timer)
		net_loop_cancel(r->loop, c->raw_timer);
	c->raw_timer = 0;
	if (r->hold_replies) {
		/* the reply carries the console's name for the whole session: it waits until the name is known */
		c->held = true;
		c->hello = h;
		return;
	}
	admit_console(r, c, &h);
}

/* Bytes from a client: its handshake, then nothing that matters (read, counted, ignored). */
static void client_input(struct relay *r, struct relay_client *c, const uint8_t *p, size_t n)
{
	c->rx_bytes += n;
	if (c->rx_bytes > RELAY_CLIENT_INPUT_MAX_BYTES) {
		drop(r, c, "sent more than %u bytes", RELAY_CLIENT_INPUT_MAX_BYTES);
		return;
	}
	if (c->mode != RELAY_MODE_NONE || c->held)
		return;
	size_t room = sizeof(c->hs) - c->hs_len;
	size_t take = n < room ? n : room;
	memcpy(c->hs + c->hs_len, p, take);
	c->hs_len += take;
	if (c->hs_len < 4)
		return;
	uint32_t body_len = rd_u32be(c->hs);
	if (body_len > CONSOLE_HANDSHAKE_MAX_BODY_BYTES) {
		drop(r, c, "handshake frame of %" PRIu32 " bytes (limit %u)", body_len,
		     CONSOLE_HANDSHAKE_MAX_BODY_BYTES);
		return;
	}
	if (c->hs_len >= 4 + (size_t)body_len)
		on_handshake(r, c, c->hs + 4, body_len);
}

static void on_client_io(void *ud, int fd, unsigned events)
{
	struct relay_client *c = ud;
	struct relay *r = c->relay;
	(void)fd;
	enter(r);
	if (events & (NET_READ | NET_ERROR)) {
		uint8_t buf[4096];
		for (int i = 0; i < READS_PER_WAKEUP && !c->dead; i++) {
			bool closed = false;
			ssize_t n = net_read(c->fd, buf, sizeof(buf), &closed);
			if (n < 0) {
				drop(r, c, "%s", closed ? "closed by the client" : "connection error");
				break;
			}
			if (n == 0)
				break;
			client_input(r, c, buf, (size_t)n);
		}
	}
	if (!c->dead && (events & NET_WRITE) && c->mode != RELAY_MODE_NONE)
		pump(r, c);
	leave(r);
}

static void on_listen(void *ud, int fd, unsigned events);

static void on_accept_resume(void *ud)
{
	struct relay *r = ud;
	r->accept_timer = 0;
	if (net_loop_watch(r->loop, r->listen_fd, NET_READ, on_listen, r) < 0)
		r->accept_timer = net_loop_timer(r->loop, ACCEPT_PAUSE_MS, on_accept_resume, r);
}

/*
 * A failed accept (out of file descriptors, most often) leaves the connection queued and the socket readable: a
 * loop that kept watching it would spin. Accepting pauses instead, the waiting clients stay in the backlog, and
 * the first failure of a run of them is reported.
 */
static void pause_accepting(struct relay *r)
{
	if (r->accept_failures++ == 0)
		warn(r, "relay: cannot accept a client on %s:%u (%s); trying again every %d ms", r->address, r->port,
		     strerror(errno), ACCEPT_PAUSE_MS);
	net_loop_unwatch(r->loop, r->listen_fd);
	r->accept_timer = net_loop_timer(r->loop, ACCEPT_PAUSE_MS, on_accept_resume, r);
}

/* "1.2.3.4:5" gives "1.2.3.4", "[::1]:5" gives "::1". */
static void address_ip(const char *address, char *ip, size_t ip_size)
{
	const char *start = address[0] == '[' ? address + 1 : address;
	const char *end = address[0] == '[' ? strchr(start, ']') : strrchr(start, ':');
	size_t n = end ? (size_t)(end - start) : strlen(start);
	snprintf(ip, ip_size, "%.*s", (int)n, start);
}

static bool is_loopback(const char *ip)
{
	return !strncmp(ip, "127.", 4) || !strcmp(ip, "::1") || !strncmp(ip, "::ffff:127.", 11);
}

static size_t clients_from(const struct relay *r, const char *ip)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_clients; i++)
		if (!r->clients[i]->dead && !strcmp(r->clients[i]->ip, ip))
			n++;
	return n;
}

/* Why a new connection from ip cannot be served (into why), or false when it can. */
static bool must_refuse(const struct relay *r, const char *ip, char *why, size_t why_size)
{
	if (r->live >= r->opts.max_clients) {
		snprintf(why, why_size, "the relay is full (%zu clients)", r->opts.max_clients);
		return true;
	}
	if ((r->limit_loopback || !is_loopback(ip)) && clients_from(r, ip) >= r->per_address_limit) {
		snprintf(why, why_size, "%s is at the limit of %zu client%s per address", ip, r->per_address_limit,
			 r->per_address_limit == 1 ? "" : "s");
		return true;
	}
	return false;
}

/*
 * Sums up the refusals that were counted and not reported: at the end of a burst (RELAY_REFUSAL_QUIET_MS without
 * one from that address), every REFUSAL_REPORT_MS during a long one, and when the relay stops (all).
 */
static void report_refusals(struct relay *r, uint64_t now, bool all)
{
	for (size_t i = 0; i < REFUSAL_TABLE_SIZE; i++) {
		struct relay_refusal *e = &r->refusals[i];
		if (!e->ip[0])
			continue;
		bool ended = all || now - e->last_ms >= RELAY_REFUSAL_QUIET_MS;
		if (e->unreported && (ended || now - e->reported_ms >= REFUSAL_REPORT_MS)) {
			warn(r, "relay: refused %" PRIu64 " more connections from %s in %.1f s (%s)", e->unreported,
			     e->ip, (double)(e->last_ms - e->reported_ms) / 1000.0, e->why);
			e->unreported = 0;
			e->reported_ms = now;
		}
		if (ended)
			e->ip[0] = 0;
	}
}

/*
 * A connection the relay will not serve. Neither protocol can carry a reason (a console handshake reply holds a
 * nickname, a version, a token and a cursor; the raw stream only events), so it is closed cleanly: what it already
 * sent is read first, so the close is a FIN and not a reset. The reason is reported once per address and burst;
 * the rest of the burst is counted and summed up when it ends, so a flood of connections cannot flood the log.
 */
static void refuse(struct relay *r, struct relay_client *tmp, int fd, const char *why, uint64_t now)
{
	uint8_t buf[4096];
	for (int i = 0; i < 4 && net_read(fd, buf, sizeof(buf), NULL) > 0; i++) {
	}
	net_close(fd);
	struct relay_refusal *e = NULL, *oldest = &r->refusals[0];
	for (size_t i = 0; i < REFUSAL_TABLE_SIZE && !e; i++) {
		struct relay_refusal *x = &r->refusals[i];
		if (x->ip[0] && !strcmp(x->ip, tmp->ip))
			e = x;
		else if (!x->ip[0] || (oldest->ip[0] && x->last_ms < oldest->last_ms))
			oldest = x;
	}
	if (e && now - e->last_ms < RELAY_REFUSAL_QUIET_MS) {
		e->unreported++;
		e->last_ms = now;
		return;
	}
	if (!e)
		e = oldest;            /* a new address: a free entry, or the one refused longest ago */
	if (e->ip[0] && e->unreported) /* its burst ended before a tick summed it up, or it is evicted */
		warn(r, "relay: refused %" PRIu64 " more connections from %s in %.1f s (%s)", e->unreported, e->ip,
		     (double)(e->last_ms - e->reported_ms) / 1000.0, e->why);
	snprintf(e->ip, sizeof(e->ip), "%s", tmp->ip);
	snprintf(e->why, sizeof(e->why), "%s", why);
	e->first_ms = e->last_ms = e->reported_ms = now;
	e->unreported = 0;
	emit(r, tmp, RELAY_CLIENT_DISCONNECTED, 0, 0, "refused: %s", why);
}

/* Takes every waiting connection (the kernel's queue holds at most the backlog, which bounds one pass). */
static void on_listen(void *ud, int fd, unsigned events)
{
	struct relay *r = ud;
	(void)events;
	enter(r);
	for (int i = 0; i < r->backlog; i++) {
		char peer[NET_ADDR_MAX + 8] = "";
		int cfd = net_tcp_accept(fd, peer, sizeof(peer));
		if (cfd == -2) {
			pause_accepting(r);
			break;
		}
		if (cfd < 0)
			break;
		if (r->accept_failures) {
			warn(r, "relay: accepting clients again after %" PRIu64 " failed attempts", r->accept_failures);
			r->accept_failures = 0;
		}
		struct relay_client tmp = {.id = ++r->next_id, .fd = -1, .mode = RELAY_MODE_NONE};
		snprintf(tmp.address, sizeof(tmp.address), "%s", peer);
		address_ip(peer, tmp.ip, sizeof(tmp.ip));
		char why[96];
		if (must_refuse(r, tmp.ip, why, sizeof(why))) {
			refuse(r, &tmp, cfd, why, net_now_ms());
			continue;
		}
		struct relay_client *c = calloc(1, sizeof(*c));
		if (c && r->n_clients == r->cap_clients) {
			size_t cap = r->cap_clients ? r->cap_clients * 2 : 16;
			struct relay_client **p = realloc(r->clients, cap * sizeof(*p));
			if (p) {
				r->clients = p;
				r->cap_clients = cap;
			}
		}
		if (!c || r->n_clients == r->cap_clients) {
			free(c);
			refuse(r, &tmp, cfd, "out of memory", net_now_ms());
			continue;
		}
		*c = tmp;
		c->relay = r;
		c->fd = cfd;
		bytes_init(&c->tx, TX_LIMIT_BYTES);
		r->clients[r->n_clients++] = c;
		r->live++;
		net_set_nodelay(cfd, true);
		/* a bounded kernel buffer: a client that stops reading shows up as lag instead of megabytes queued */
		if (r->opts.send_buffer_bytes > 0)
			net_set_send_buffer(cfd, r->opts.send_buffer_bytes);
		if (net_loop_watch(r->loop, cfd, NET_READ, on_client_io, c) < 0) {
			drop(r, c, "out of memory");
			continue;
		}
		c->raw_timer = net_loop_timer(r->loop, RELAY_RAW_AFTER_MS, on_raw_timer, c);
		if (!c->raw_timer)
			drop(r, c, "out of memory");
	}
	leave(r);
}

/* Memory the clients gave back goes back to the system: glibc keeps freed heap memory for reuse, so after a burst
 * of clients the process would otherwise stay at its peak. */
static void give_back_memory(struct relay *r)
{
	if (r->gone_since_trim < TRIM_AFTER_CLIENTS)
		return;
	r->gone_since_trim = 0;
#if defined(__GLIBC__)
	malloc_trim(0);
#endif
}

static void on_tick(void *ud)
{
	struct relay *r = ud;
	enter(r);
	uint64_t now = net_now_ms();
	for (size_t i = 0; i < r->n_clients; i++) {
		struct relay_client *c = r->clients[i];
		if (c->dead || c->mode == RELAY_MODE_NONE)
			continue;
		check_lag(r, c, now);
		if (c->dead)
			continue;
		if (c->watching_write) {
			if (now - c->last_progress_ms >= r->opts.stall_timeout_ms)
				drop(r, c, "took no data for %" PRIu64 " ms", now - c->last_progress_ms);
			continue;
		}
		bool idle = c->mode == RELAY_MODE_CONSOLE
				    ? !tx_pending(c)
				    : !c->filler_left && (c->need_game_start || c->cursor >= console_log_end(&r->log));
		if (!idle || now - c->last_send_ms < RELAY_KEEPALIVE_MS)
			continue;
		if (c->mode == RELAY_MODE_RAW)
			c->filler_left = SLP_FILLER_LEN;
		else if (!console_keepalive_encode(&c->tx)) {
			drop(r, c, "out of memory for its send buffer");
			continue;
		}
		pump(r, c);
	}
	report_refusals(r, now, false);
	r->tick_timer = net_loop_timer(r->loop, TICK_MS, on_tick, r);
	leave(r);
	give_back_memory(r);
}

/* --- the relay --- */

static void close_listener(struct relay *r)
{
	if (r->accept_timer)
		net_loop_cancel(r->loop, r->accept_timer);
	r->accept_timer = 0;
	if (r->listen_fd >= 0) {
		net_loop_unwatch(r->loop, r->listen_fd);
		net_close(r->listen_fd);
	}
	r->listen_fd = -1;
	r->port = 0;
	r->address[0] = 0;
}

struct relay *relay_create(struct net_loop *loop, const struct relay_options *opts, const struct relay_callbacks *cb,
			   char *err, size_t err_size)
{
	struct relay *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	r->loop = loop;
	if (opts)
		r->opts = *opts;
	else
		relay_options_init(&r->opts);
	if (cb)
		r->cb = *cb;
	r->listen_fd = -1;
	if (!r->opts.max_clients)
		r->opts.max_clients = RELAY_MAX_CLIENTS_DEFAULT;
	if (!r->opts.history_bytes)
		r->opts.history_bytes = RELAY_HISTORY_BYTES_DEFAULT;
	if (!r->opts.lag_cap_bytes)
		r->opts.lag_cap_bytes = RELAY_LAG_CAP_BYTES_DEFAULT;
	if (r->opts.lag_cap_bytes < RELAY_LAG_CAP_BYTES_MIN)
		r->opts.lag_cap_bytes = RELAY_LAG_CAP_BYTES_MIN;
	if (r->opts.lag_cap_bytes > r->opts.history_bytes / 2)
		r->opts.lag_cap_bytes = r->opts.history_bytes / 2; /* a lagging client must still be in the history */
	if (!r->opts.send_buffer_bytes)
		r->opts.send_buffer_bytes = RELAY_SEND_BUFFER_BYTES_DEFAULT;
	if (!r->opts.stall_timeout_ms)
		r->opts.stall_timeout_ms = RELAY_STALL_TIMEOUT_MS_DEFAULT;
	if (!r->opts.lag_timeout_ms)
		r->opts.lag_timeout_ms = RELAY_LAG_TIMEOUT_MS_DEFAULT;
	/* by default one remote host gets at most half the slots; a limit given applies to loopback too */
	r->limit_loopback = r->opts.max_clients_per_address != 0;
	r->per_address_limit = r->opts.max_clients_per_address;
	if (!r->per_address_limit) {
		r->per_address_limit = (r->opts.max_clients + 1) / 2;
		if (r->per_address_limit > RELAY_PER_ADDRESS_AUTO_MAX)
			r->per_address_limit = RELAY_PER_ADDRESS_AUTO_MAX;
	}
	/* a burst of connects up to max_clients (and the ones refused) waits in the kernel's queue, never in SYN
	 * retries of 1 s and more; the kernel caps this at net.core.somaxconn */
	size_t backlog = r->opts.max_clients + 64;
	if (backlog < LISTEN_BACKLOG_MIN)
		backlog = LISTEN_BACKLOG_MIN;
	r->backlog = backlog > LISTEN_BACKLOG_MAX ? LISTEN_BACKLOG_MAX : (int)backlog;
	snprintf(r->host, sizeof(r->host), "%s", r->opts.host && *r->opts.host ? r->opts.host : RELAY_HOST_DEFAULT);
	r->opts.host = r->host;
	utf8_truncate(r->nick, sizeof(r->nick), r->opts.nick && *r->opts.nick ? r->opts.nick : RELAY_NICK_DEFAULT);
	r->opts.nick = NULL;
	r->hold_replies = r->opts.hold_replies;
	r->rng = r->opts.seed ? r->opts.seed : (net_now_us() ^ ((uint64_t)(uintptr_t)r << 16) ^ 0x9E3779B97F4A7C15ull);
	if (console_log_init(&r->log, r->opts.history_bytes) < 0) {
		snprintf(err, err_size, "out of memory for a %zu-byte history", r->opts.history_bytes);
		free(r);
		return NULL;
	}
	r->fanout = net_fanout_create(); /* NULL: the sends are made on this thread alone */
	r->tick_timer = net_loop_timer(loop, TICK_MS, on_tick, r);
	if (!r->tick_timer) {
		snprintf(err, err_size, "out of memory");
		relay_destroy(r);
		return NULL;
	}
	if (!r->opts.no_listen && relay_listen(r, r->host, r->opts.port, err, err_size) < 0) {
		relay_destroy(r);
		return NULL;
	}
	return r;
}

int relay_listen(struct relay *r, const char *host, uint16_t port, char *err, size_t err_size)
{
	char want_host[NET_ADDR_MAX];
	snprintf(want_host, sizeof(want_host), "%s", host && *host ? host : RELAY_HOST_DEFAULT);
	uint16_t bound = 0;
	int fd = net_tcp_listen(want_host, port, r->backlog, &bound, err, err_size);
	if (fd < 0)
		return -1; /* nothing changed: the old listener, if any, still serves */
	if (net_loop_watch(r->loop, fd, NET_READ, on_listen, r) < 0) {
		snprintf(err, err_size, "out of memory");
		net_close(fd);
		return -1;
	}
	close_listener(r);
	r->listen_fd = fd;
	r->port = bound;
	snprintf(r->host, sizeof(r->host), "%s", want_host);
	if (strchr(r->host, ':'))
		snprintf(r->address, sizeof(r->address), "[%s]:%u", r->host, r->port);
	else
		snprintf(r->address, sizeof(r->address), "%s:%u", r->host, r->port);
	return 0;
}

void relay_unlisten(struct relay *r, const char *reason)
{
	enter(r);
	for (size_t i = 0; i < r->n_clients; i++)
		drop(r, r->clients[i], "%s", reason ? reason : "the relay was switched off");
	report_refusals(r, net_now_ms(), true);
	leave(r);
	close_listener(r);
}

bool relay_listening(const struct relay *r)
{
	return r->listen_fd >= 0;
}

void relay_release_replies(struct relay *r)
{
	if (!r->hold_replies)
		return;
	r->hold_replies = false;
	enter(r);
	for (size_t i = 0; i < r->n_clients; i++) {
		struct relay_client *c = r->clients[i];
		if (!c->dead && c->held) {
			c->held = false;
			admit_console(r, c, &c->hello);
		}
	}
	leave(r);
}

size_t relay_clients(const struct relay *r, struct relay_client_status *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_clients && n < max; i++) {
		const struct relay_client *c = r->clients[i];
		if (c->dead)
			continue;
		struct relay_client_status *st = &out[n++];
		memset(st, 0, sizeof(*st));
		st->id = c->id;
		snprintf(st->address, sizeof(st->address), "%s", c->address);
		st->mode = c->mode;
		st->waiting_for_name = c->held;
		st->behind_bytes = c->mode == RELAY_MODE_NONE ? 0 : client_lag(r, c);
		st->sent_bytes = c->sent_bytes;
	}
	return n;
}

void relay_destroy(struct relay *r)
{
	if (!r)
		return;
	enter(r);
	for (size_t i = 0; i < r->n_clients; i++)
		drop(r, r->clients[i], "the relay stopped");
	report_refusals(r, net_now_ms(), true);
	r->depth--;
	reap(r);
	if (r->tick_timer)
		net_loop_cancel(r->loop, r->tick_timer);
	close_listener(r);
	net_fanout_destroy(r->fanout);
	free(r->jobs);
	free(r->job_clients);
	console_log_free(&r->log);
	free(r->clients);
	free(r);
}

static bool reserve_jobs(struct relay *r, size_t n)
{
	if (n <= r->cap_jobs)
		return true;
	struct net_fanout_job *jobs = realloc(r->jobs, n * sizeof(*jobs));
	if (jobs)
		r->jobs = jobs;
	struct relay_client **clients = realloc(r->job_clients, n * sizeof(*clients));
	if (clients)
		r->job_clients = clients;
	if (!jobs || !clients)
		return false;
	r->cap_jobs = n;
	return true;
}

/*
 * New bytes for every client that is keeping up: their messages are prepared here, the sends are made in parallel
 * (net/fanout.h: the kernel's per-send cost dominates a fan-out), then the results are applied here. All client
 * state stays on this thread; a client still owed bytes after that goes on through pump().
 */
static void fan_out(struct relay *r)
{
	size_t n = 0;
	bool parallel = reserve_jobs(r, r->n_clients);
	uint64_t now = net_now_ms();
	for (size_t i = 0; i < r->n_clients; i++) {
		struct relay_client *c = r->clients[i];
		if (c->dead || c->mode == RELAY_MODE_NONE)
			continue;
		check_lag(r, c, now);
		if (c->dead || c->watching_write)
			continue;
		if (!parallel) {
			pump(r, c);
			continue;
		}
		const uint8_t *p = NULL;
		size_t len = next_piece(r, c, &p);
		if (c->dead || !len)
			continue;
		r->jobs[n] = (struct net_fanout_job){.fd = c->fd, .data = p, .len = len};
		r->job_clients[n++] = c;
	}
	if (!n)
		return;
	net_fanout_send(r->fanout, r->jobs, n);
	now = net_now_ms();
	for (size_t i = 0; i < n; i++) {
		struct relay_client *c = r->job_clients[i];
		ssize_t sent = r->jobs[i].result;
		if (sent < 0) {
			drop(r, c, "the connection failed while sending");
			continue;
		}
		advance(c, (size_t)sent, now);
		pump(r, c); /* sends what is left and what is still owed, or waits for the socket */
	}
}

int relay_feed(struct relay *r, const uint8_t *data, size_t len)
{
	if (r->stream_failed)
		return -1;
	enter(r);
	uint64_t before = console_log_end(&r->log);
	int rc = console_log_append(&r->log, data, len);
	if (rc < 0) {
		r->stream_failed = true;
		warn(r, "relay: the source's stream is broken (%s); waiting for it to restart",
		     console_log_error(&r->log));
	}
	if (console_log_end(&r->log) != before)
		fan_out(r);
	leave(r);
	return rc;
}

void relay_source_restart(struct relay *r)
{
	console_log_restart(&r->log);
	r->stream_failed = false;
}

void relay_set_nick(struct relay *r, const char *nick)
{
	utf8_truncate(r->nick, sizeof(r->nick), nick); /* never split a character: clients decode it as UTF-8 */
	relay_release_replies(r);
}

uint16_t relay_port(const struct relay *r)
{
	return r->port;
}

const char *relay_address(const struct relay *r)
{
	return r->address;
}

size_t relay_client_count(const struct relay *r)
{
	return r->live;
}

uint64_t relay_backlog_bytes(const struct relay *r)
{
	uint64_t most = 0;
	for (size_t i = 0; i < r->n_clients; i++) {
		const struct relay_client *c = r->clients[i];
		if (c->dead || c->mode == RELAY_MODE_NONE)
			continue;
		uint64_t lag = c->need_game_start ? tx_pending(c) : client_lag(r, c);
		if (lag > most)
			most = lag;
	}
	return most;
}

uint64_t relay_write_cursor(const struct relay *r)
{
	return console_log_end(&r->log);
}

static const char *event_name(enum relay_client_event ev)
{
	switch (ev) {
	case RELAY_CLIENT_CONNECTED:
		return "connected";
	case RELAY_CLIENT_DISCONNECTED:
		return "disconnected";
	case RELAY_CLIENT_SKIPPED:
		return "skipped";
	}
	return "unknown";
}

bool relay_client_event_json(struct bytes *out, const char *relay_address, enum relay_client_event ev,
			     const struct relay_client_info *info, const char *reason)
{
	struct json_writer jw;
	jw_init(&jw, out);
	jw_object_begin(&jw, NULL);
	jw_string(&jw, "type", "relay_client");
	jw_string(&jw, "relay", relay_address);
	jw_string(&jw, "event", event_name(ev));
	jw_int(&jw, "client", (int64_t)info->id);
	jw_string(&jw, "address", info->address);
	jw_string(&jw, "mode", relay_client_mode_name(info->mode));
	if (ev == RELAY_CLIENT_CONNECTED)
		jw_int(&jw, "cursor", (int64_t)info->cursor);
	if (ev == RELAY_CLIENT_SKIPPED) {
		jw_int(&jw, "fromByte", (int64_t)info->from_byte);
		jw_int(&jw, "toByte", (int64_t)info->to_byte);
		jw_int(&jw, "skippedBytes", (int64_t)(info->to_byte - info->from_byte));
	}
	if (ev == RELAY_CLIENT_DISCONNECTED)
		jw_int(&jw, "sentBytes", (int64_t)info->sent_bytes);
	if (reason && *reason)
		jw_string(&jw, "reason", reason);
	else
		jw_null(&jw, "reason");
	jw_object_end(&jw);
	return jw.ok;
}
