/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * console://HOST[:PORT] (a Wii running Slippi Nintendont, port 51441) and relay://HOST:PORT (a Slippi Launcher
 * relay, or anything else that speaks either protocol): one non-blocking TCP client on the loop.
 *
 * Every session sends the 83-byte handshake with the stored token and cursor. The first bytes decide the mode
 * (protocols.md §1.11): a `U`-typed handshake reply means the framed console protocol, anything else a raw event
 * stream (legacy console, Launcher relay). Token and cursor survive reconnects, so a console resumes exactly after
 * the last whole event delivered; the frame buffer is cleared on every session (the slippi-js bug of §4).
 * Options after the address: `?idle_ms=N` (reconnect after N ms without a byte; default 5000) and `&retry_ms=N`
 * (the first reconnect delay, doubled after each failed attempt up to 16x; default 250). Only a healthy session
 * (up for HEALTHY_SESSION_MS and at least one whole event delivered) resets the delay, so a peer that answers and
 * hangs up, or lies in every session, is retried at the capped delay rather than four times a second.
 *
 * Each attempt resolves HOST first, off the loop's thread (net/resolve.h), then connects to the first address: a
 * name whose lookup hangs delays this source only, never the loop. A lookup that fails is a failed attempt like a
 * refused connect ("cannot resolve HOST: ..."), with the same backoff; no idle timeout runs while it is pending (the
 * system resolver's own timeout bounds it).
 */
#include "console_proto.h"
#include "net/resolve.h"
#include "net/sock.h"
#include "slp_splitter.h"
#include "source.h"
#include "utf8.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDLE_TIMEOUT_MS_DEFAULT 5000u
#define RELAY_PORT_DEFAULT 53742 /* the Launcher's first relay: 53741 + connection id 1 */
#define READ_CHUNK_BYTES (64u * 1024u)
#define READS_PER_WAKEUP 16
#define RAW_SEEK_KEEP_BYTES 1024u /* a raw stream is scanned for a game start within this window */
#define SEEK_LIMIT_BYTES (READ_CHUNK_BYTES + 2 * RAW_SEEK_KEEP_BYTES)
#define GAME_HEAD_MAX_BYTES 2048u /* Event Payloads + Game Start of the game in progress */

#define RETRY_MS_DEFAULT 250u
#define RETRY_DOUBLINGS_MAX 4u   /* 0.25, 0.5, 1, 2, 4 s with the default */
#define HEALTHY_SESSION_MS 2000u /* a session this long that delivered a whole event resets the reconnect delay */

enum phase {
	PHASE_IDLE,       /* waiting to reconnect */
	PHASE_RESOLVING,  /* HOST is being looked up */
	PHASE_CONNECTING, /* TCP connect in progress */
	PHASE_DETECT,     /* handshake sent, the first bytes decide the mode */
	PHASE_FRAMED,     /* console protocol */
	PHASE_RAW,        /* raw event bytes */
};

struct console_source {
	struct source base;
	struct net_loop *loop;
	struct source_callbacks cb;
	bool relay;
	char host[NET_ADDR_MAX];
	uint16_t port;
	uint64_t idle_timeout_ms;
	uint64_t retry_ms; /* the first reconnect delay; each failure doubles it, up to 16 times */

	int fd;
	enum phase phase;
	unsigned attempts; /* sessions since the last healthy one (each doubles the reconnect delay) */
	unsigned sessions;
	uint64_t last_rx_ms;
	uint64_t session_start_ms; /* when the TCP connect completed */
	uint64_t session_events;   /* whole events delivered in this session */
	uint64_t check_timer, retry_timer;
	uint64_t resolve_id;  /* the lookup in progress */
	uint64_t retry_at_ms; /* while a retry is scheduled */
	struct bytes tx;
	uint8_t detect[13];
	size_t detect_len;
	uint8_t *rx;

	/* console protocol: kept across sessions */
	struct console_framer framer;
	bool have_reply;
	uint32_t token;
	uint64_t cursor; /* the end of the last whole event delivered: always an event boundary, sent on resume */
	uint64_t wire; /* where this session's next REPLAY must start; wire - cursor bytes of a partial event are held */
	bool delivered_any;
	bool await_game_start; /* the console's stream is not the one delivered: skip until an Event Payloads */
	uint64_t skip_from;    /* the first byte skipped while awaiting a game start */
	char nick[CONSOLE_NICK_MAX + 1];
	struct slp_splitter check; /* validates REPLAY data before it is delivered */
	struct bytes held;         /* a copy of the held partial event, to deliver once the next REPLAY completes it */
	struct check_mark { /* the check splitter's state before a REPLAY, restored when the REPLAY is rejected */
		bool have_table;
		bool declared[256];
		uint16_t payload_size[256];
		size_t message_len;
	} mark;

	/* raw streams: no cursor, so a reconnect resyncs at a game start (see raw_event) */
	struct slp_splitter raw;
	bool raw_seeking;
	struct bytes seek;
	uint64_t raw_delivered;
	bool game_open;         /* a game was delivered from its Event Payloads and has not ended */
	uint64_t game_bytes;    /* event bytes of that game delivered so far */
	struct bytes game_head; /* its Event Payloads + Game Start */
	struct bytes new_head;  /* the same, for the game a new session starts with */
	uint64_t skip_bytes;    /* bytes of a re-sent game still to be skipped */
	bool resync_pending;    /* the first game start of a raw session decides between resuming and a new game */
	int stop;               /* set by a callback that ended the session */
};

static void start_connect(struct console_source *cs);

static void emit_state(struct console_source *cs, enum source_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void emit_state(struct console_source *cs, enum source_state st, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (cs->cb.state)
		cs->cb.state(cs->cb.ud, st, reason);
}

static void emit_gap(struct console_source *cs, uint64_t from, uint64_t to, const char *reason)
{
	if (cs->cb.gap)
		cs->cb.gap(cs->cb.ud, from, to, reason);
}

/* Only whole events are delivered: the recorder (and a relay behind it) never holds a partial one. */
static void deliver(struct console_source *cs, const uint8_t *data, size_t len)
{
	if (len && cs->cb.data)
		cs->cb.data(cs->cb.ud, data, len);
}

static void close_socket(struct console_source *cs)
{
	if (cs->resolve_id) {
		net_loop_resolve_cancel(cs->loop, cs->resolve_id);
		cs->resolve_id = 0;
	}
	if (cs->fd >= 0) {
		net_loop_unwatch(cs->loop, cs->fd);
		net_close(cs->fd);
		cs->fd = -1;
	}
	bytes_clear(&cs->tx);
}

static void on_retry(void *ud)
{
	struct console_source *cs = ud;
	cs->retry_timer = 0;
	cs->retry_at_ms = 0;
	start_connect(cs);
}

/* Ends the session (any error, a close, an idle timeout) and schedules the next attempt. */
static void session_fail(struct console_source *cs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void session_fail(struct console_source *cs, const char *fmt, ...)
{
	char reason[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	close_socket(cs);
	cs->stop = 1;
	cs->phase = PHASE_IDLE;
	/* A handshake reply or a few bytes prove nothing: a peer that answers and hangs up (or lies every time) must
	 * not be retried at the first delay forever. Only a session that lasted and delivered whole events resets it. */
	if (cs->session_events && cs->session_start_ms && net_now_ms() - cs->session_start_ms >= HEALTHY_SESSION_MS)
		cs->attempts = 0;
	cs->session_start_ms = 0;
	cs->session_events = 0;
	uint64_t delay = cs->retry_ms << (cs->attempts < RETRY_DOUBLINGS_MAX ? cs->attempts : RETRY_DOUBLINGS_MAX);
	cs->attempts++;
	cs->retry_at_ms = net_now_ms() + delay;
	emit_state(cs, SOURCE_DISCONNECTED, "%s", reason);
	emit_state(cs, SOURCE_WAITING, "reconnecting to %s:%u in %" PRIu64 " ms", cs->host, cs->port, delay);
	if (cs->retry_timer)
		net_loop_cancel(cs->loop, cs->retry_timer);
	cs->retry_timer = net_loop_timer(cs->loop, delay, on_retry, cs);
}

/* --- console protocol --- */

static void check_mark_save(struct console_source *cs)
{
	struct check_mark *mk = &cs->mark;
	mk->have_table = cs->check.have_table;
	memcpy(mk->declared, cs->check.declared, sizeof(mk->declared));
	memcpy(mk->payload_size, cs->check.payload_size, sizeof(mk->payload_size));
	mk->message_len = cs->check.message.len;
}

/* A rejected REPLAY is re-sent from the cursor on the next session: it must not leave its size table (or split
 * message chunks) behind, or the honest re-send would be checked against a table the console never used. */
static void check_mark_restore(struct console_source *cs)
{
	const struct check_mark *mk = &cs->mark;
	cs->check.have_table = mk->have_table;
	memcpy(cs->check.declared, mk->declared, sizeof(mk->declared));
	memcpy(cs->check.payload_size, mk->payload_size, sizeof(mk->payload_size));
	if (cs->check.message.len > mk->message_len)
		cs->check.message.len = mk->message_len;
	slp_splitter_restart_at_boundary(&cs->check);
}

/* The handshake reply of a session. */
static int on_reply(struct console_source *cs, const struct console_msg *m)
{
	cs->have_reply = true;
	/* the console's name comes off the network: cut between characters, invalid bytes dropped */
	char raw[4 * CONSOLE_NICK_MAX + 1];
	size_t nl = m->nick_len < sizeof(raw) - 1 ? m->nick_len : sizeof(raw) - 1;
	memcpy(raw, m->nick ? m->nick : "", nl);
	raw[nl] = 0;
	utf8_truncate(cs->nick, sizeof(cs->nick), raw);
	/* a partial event held from the last session is re-sent whole from the cursor */
	slp_splitter_restart_at_boundary(&cs->check);
	bool resumed = m->pos == cs->cursor;
	emit_state(cs, SOURCE_CONNECTED, "Wii \"%s\" (Nintendont %.*s) at %s:%u, %s at byte %" PRIu64, cs->nick,
		   (int)(m->version_len < 32 ? m->version_len : 32), m->version ? m->version : "", cs->host, cs->port,
		   resumed ? "resuming" : "starting", m->pos);
	if (!resumed && cs->delivered_any) {
		/*
		 * The console does not hold our stream at the cursor. Nintendont then starts a client at a game start
		 * (the current game's Event Payloads, or the write cursor between games), so waiting for one costs an
		 * honest console nothing, and a console that restarts mid-game (behind the cursor, or with another
		 * history) cannot put events twice, or from another game, into the game being recorded.
		 */
		char why[320];
		if (m->pos < cs->cursor)
			snprintf(
				why, sizeof(why),
				"the console restarts at byte %" PRIu64 ", behind the cursor at byte %" PRIu64
				" (a new history, not the stream recorded): the game in progress ends here, nothing is "
				"recorded twice, and the recording resumes at the console's next game start",
				m->pos, cs->cursor);
		else
			snprintf(why, sizeof(why),
				 "the console could not resume at byte %" PRIu64 "; it restarts at byte %" PRIu64
				 ": bytes %" PRIu64 "..%" PRIu64
				 " are lost; the recording resumes at the console's next game start",
				 cs->cursor, m->pos, cs->cursor, m->pos);
		emit_gap(cs, cs->cursor, m->pos > cs->cursor ? m->pos : cs->cursor, why);
		cs->await_game_start = true;
		cs->skip_from = m->pos;
	}
	cs->token = m->token;
	cs->cursor = m->pos;
	cs->wire = m->pos;
	return 0;
}

static int on_replay(struct console_source *cs, const struct console_msg *m)
{
	if (m->pos != cs->wire) {
		if (!m->force_pos) {
			session_fail(cs, "REPLAY at byte %" PRIu64 " but the cursor is at %" PRIu64 " (no forcePos)",
				     m->pos, cs->wire);
			return 1;
		}
		if (m->pos < cs->wire) {
			/* Nintendont only skips forward (its history overflowed); going back would record bytes twice */
			session_fail(cs,
				     "REPLAY with forcePos jumps back from byte %" PRIu64 " to byte %" PRIu64
				     " (a console only skips forward, when its history overflows): rejected, so "
				     "nothing is recorded twice; resuming at byte %" PRIu64,
				     cs->wire, m->pos, cs->cursor);
			return 1;
		}
		/* while awaiting a game start, the bytes skipped so far are lost too */
		uint64_t from = cs->await_game_start ? cs->skip_from : cs->cursor;
		char why[200];
		snprintf(why, sizeof(why),
			 "the console's history overflowed (forcePos): bytes %" PRIu64 "..%" PRIu64 " are lost", from,
			 m->pos);
		slp_splitter_restart_at_boundary(&cs->check);
		emit_gap(cs, from, m->pos, why);
		cs->skip_from = m->pos;
		cs->cursor = m->pos;
		cs->wire = m->pos;
	}
	bool new_game = false;
	if (cs->await_game_start) {
		/* Nintendont starts every game in a new REPLAY, with its Event Payloads first */
		if (!m->data_len || m->data[0] != SLP_CMD_EVENT_PAYLOADS) {
			cs->cursor = cs->wire = m->next_pos;
			return 0;
		}
		slp_splitter_reset(&cs->check);
		new_game = true;
	}
	/*
	 * Whole events only. A REPLAY may end inside an event (Nintendont never does that, a broken peer may): the
	 * partial tail is held back, neither delivered nor counted in the cursor, until the next REPLAY completes it,
	 * so a reconnect always resumes at an event boundary the recorder has. A stream error rejects the message and
	 * the cursor stays before it (and before a partial event held from the last one).
	 */
	size_t held = slp_splitter_pending_bytes(&cs->check);
	bytes_clear(&cs->held);
	if (held && !bytes_append(&cs->held, cs->check.pending.data, held)) {
		session_fail(cs, "out of memory for a partial event from the console");
		return 1;
	}
	check_mark_save(cs);
	uint64_t events_before = cs->check.events;
	if (slp_splitter_feed(&cs->check, m->data, m->data_len, NULL, NULL) < 0) {
		char e[200];
		snprintf(e, sizeof(e), "%s", cs->check.error);
		check_mark_restore(cs);
		session_fail(cs, "bad event data from the console in the REPLAY at byte %" PRIu64 ": %s", m->pos, e);
		return 1;
	}
	cs->session_events += cs->check.events - events_before;
	if (new_game) {
		cs->await_game_start = false;
		if (m->pos > cs->skip_from) {
			char why[200];
			snprintf(why, sizeof(why),
				 "bytes %" PRIu64 "..%" PRIu64
				 " held no game start and were skipped; a new game starts",
				 cs->skip_from, m->pos);
			emit_gap(cs, cs->skip_from, m->pos, why);
		}
	}
	uint64_t whole = (uint64_t)held + m->data_len - slp_splitter_pending_bytes(&cs->check);
	cs->wire = m->next_pos;
	if (!whole)
		return 0;
	size_t from_held = whole < held ? (size_t)whole : held;
	cs->cursor += whole;
	cs->delivered_any = true;
	deliver(cs, cs->held.data, from_held);
	deliver(cs, m->data, (size_t)(whole - from_held));
	return cs->stop;
}

static int on_frame(void *ud, const uint8_t *body, size_t len)
{
	struct console_source *cs = ud;
	struct console_msg m;
	char err[192];
	if (console_msg_decode(body, len, &m, err, sizeof(err)) < 0) {
		session_fail(cs, "bad message from the console: %s", err);
		return 1;
	}
	if (!cs->have_reply) {
		if (m.type != CONSOLE_MSG_HANDSHAKE) {
			session_fail(cs, "message type %" PRId64 " before the handshake reply", m.type);
			return 1;
		}
		return on_reply(cs, &m);
	}
	if (m.type == CONSOLE_MSG_KEEP_ALIVE)
		return 0;
	if (m.type == CONSOLE_MSG_HANDSHAKE) {
		session_fail(cs, "a second handshake reply in one session");
		return 1;
	}
	if (m.type != CONSOLE_MSG_REPLAY)
		return 0; /* unknown types are ignored, as slippi-js does */
	return on_replay(cs, &m);
}

/* --- raw streams --- */

/*
 * A raw stream has no cursor. A Launcher relay sends a new client the tail of the previous game, keepalive
 * fillers and the current game from its Event Payloads (§3.1); a legacy console sends from wherever it is. So at
 * the start of every raw session nothing is delivered until an Event Payloads followed by a Game Start is found
 * (without a size table the tail cannot be parsed). Then:
 * - if that game start is byte-identical to the one of the game in progress (Event Payloads + Game Start, which
 *   holds the game's random seed), the relay is re-sending the same game: the bytes already delivered are skipped
 *   and delivery resumes right after them, so the recording has neither a duplicate nor a second file;
 * - otherwise it is a new game and is delivered from its Event Payloads (the recorder ends the previous game).
 * Either way the gap callback tells the consumer the stream restarted at an event boundary.
 */
static bool looks_like_game_start(const uint8_t *p, size_t avail, size_t *need)
{
	if (avail < 2) {
		*need = 2;
		return false;
	}
	uint8_t n = p[1];
	if (n < 4 || n % 3 != 1) {
		*need = 0;
		return false;
	}
	*need = (size_t)n + 2;
	if (avail < *need)
		return false;
	bool game_start = false;
	for (size_t i = 2; i + 3 <= (size_t)n + 1; i += 3) {
		if (p[i] < 0x10 || p[i] == SLP_CMD_EVENT_PAYLOADS)
			return (*need = 0), false;
		if (p[i] == SLP_CMD_GAME_START)
			game_start = true;
	}
	if (!game_start || p[n + 1] != SLP_CMD_GAME_START)
		return (*need = 0), false;
	*need = 0;
	return true;
}

static int raw_event(void *ud, const struct slp_event *ev)
{
	struct console_source *cs = ud;
	if (ev->reassembled)
		return 0;
	bool head = ev->code == SLP_CMD_EVENT_PAYLOADS || ev->code == SLP_CMD_GAME_START;
	if (cs->resync_pending) {
		if (head && cs->new_head.len + ev->size <= GAME_HEAD_MAX_BYTES)
			bytes_append(&cs->new_head, ev->data, ev->size);
		if (ev->code == SLP_CMD_GAME_START) {
			cs->resync_pending = false;
			/* the same game again, in progress or already ended: skip what was delivered */
			bool same = cs->game_head.len && cs->new_head.len == cs->game_head.len &&
				    !memcmp(cs->new_head.data, cs->game_head.data, cs->game_head.len);
			char why[200];
			if (same) {
				cs->skip_bytes = cs->game_bytes;
				snprintf(
					why, sizeof(why),
					"raw stream reconnected: the game in progress is re-sent; skipping its %" PRIu64
					" bytes already delivered",
					cs->game_bytes);
			} else {
				cs->skip_bytes = 0;
				snprintf(why, sizeof(why), "raw stream (re)started at a game start");
			}
			if (cs->sessions > 1 || cs->raw_delivered)
				emit_gap(cs, cs->raw_delivered, cs->raw_delivered, why);
			if (!same) {
				cs->game_open = true;
				cs->game_bytes = 0;
				bytes_clear(&cs->game_head);
				bytes_append(&cs->game_head, cs->new_head.data, cs->new_head.len);
			}
			/* deliver (or skip) the head itself */
			const uint8_t *p = cs->new_head.data;
			size_t len = cs->new_head.len;
			size_t skip = cs->skip_bytes < len ? (size_t)cs->skip_bytes : len;
			cs->skip_bytes -= skip;
			if (len > skip) {
				cs->game_bytes += len - skip;
				cs->raw_delivered += len - skip;
				cs->session_events++;
				deliver(cs, p + skip, len - skip);
			}
		}
		return cs->stop;
	}
	if (cs->skip_bytes) {
		if (cs->skip_bytes >= ev->size) {
			cs->skip_bytes -= ev->size;
			return 0;
		}
		cs->skip_bytes = 0; /* not event-aligned with what was delivered: cannot happen for the same game */
	}
	if (ev->code == SLP_CMD_EVENT_PAYLOADS) {
		cs->game_open = true;
		cs->game_bytes = 0;
		bytes_clear(&cs->game_head);
	}
	if (head && cs->game_head.len + ev->size <= GAME_HEAD_MAX_BYTES)
		bytes_append(&cs->game_head, ev->data, ev->size);
	cs->game_bytes += ev->size;
	if (ev->code == SLP_CMD_GAME_END)
		cs->game_open = false;
	cs->raw_delivered += ev->size;
	cs->session_events++;
	deliver(cs, ev->data, ev->size);
	return cs->stop;
}

static void raw_feed(struct console_source *cs, const uint8_t *data, size_t len)
{
	if (cs->raw_seeking) {
		/* the window holds at most a trimmed tail plus one read */
		if (!bytes_append(&cs->seek, data, len)) {
			bytes_clear(&cs->seek);
			if (!bytes_append(&cs->seek, data, len))
				return;
		}
		size_t i = 0;
		bool found = false;
		for (; i < cs->seek.len; i++) {
			if (cs->seek.data[i] != SLP_CMD_EVENT_PAYLOADS)
				continue;
			size_t need = 0;
			if (looks_like_game_start(cs->seek.data + i, cs->seek.len - i, &need)) {
				found = true;
				break;
			}
			if (need)
				break; /* maybe: wait for more bytes */
		}
		if (!found) {
			if (i > 0)
				bytes_consume(&cs->seek, i);
			if (cs->seek.len > RAW_SEEK_KEEP_BYTES)
				bytes_consume(&cs->seek, cs->seek.len - RAW_SEEK_KEEP_BYTES);
			return;
		}
		cs->raw_seeking = false;
		cs->resync_pending = true;
		bytes_clear(&cs->new_head);
		slp_splitter_reset(&cs->raw);
		struct bytes rest = cs->seek;
		bytes_init(&cs->seek, SEEK_LIMIT_BYTES);
		int rc = slp_splitter_feed(&cs->raw, rest.data + i, rest.len - i, raw_event, cs);
		bytes_free(&rest);
		if (rc < 0)
			session_fail(cs, "bad raw event stream: %s", cs->raw.error);
		return;
	}
	int rc = slp_splitter_feed(&cs->raw, data, len, raw_event, cs);
	if (rc < 0)
		session_fail(cs, "bad raw event stream: %s", cs->raw.error);
}

/* --- the session --- */

static void process(struct console_source *cs, const uint8_t *data, size_t len)
{
	if (cs->phase == PHASE_DETECT) {
		size_t take = sizeof(cs->detect) - cs->detect_len;
		if (take > len)
			take = len;
		memcpy(cs->detect + cs->detect_len, data, take);
		cs->detect_len += take;
		data += take;
		len -= take;
		enum console_mode mode = console_detect_mode(cs->detect, cs->detect_len);
		if (mode == CONSOLE_MODE_UNKNOWN)
			return;
		if (mode == CONSOLE_MODE_NORMAL) {
			cs->phase = PHASE_FRAMED;
			cs->have_reply = false;
			console_framer_reset(&cs->framer);
			if (console_framer_feed(&cs->framer, cs->detect, cs->detect_len, on_frame, cs) || cs->stop)
				goto framer_error;
		} else {
			cs->phase = PHASE_RAW;
			cs->raw_seeking = true;
			bytes_clear(&cs->seek);
			emit_state(cs, SOURCE_CONNECTED, "raw event stream (relay or legacy console) at %s:%u",
				   cs->host, cs->port);
			raw_feed(cs, cs->detect, cs->detect_len);
			if (cs->stop)
				return;
		}
	}
	if (!len)
		return;
	if (cs->phase == PHASE_FRAMED) {
		if (console_framer_feed(&cs->framer, data, len, on_frame, cs))
			goto framer_error;
	} else if (cs->phase == PHASE_RAW) {
		raw_feed(cs, data, len);
	}
	return;
framer_error:
	if (!cs->stop)
		session_fail(cs, "bad frame from the console: %s", cs->framer.error);
}

static void on_io(void *ud, int fd, unsigned events)
{
	struct console_source *cs = ud;
	(void)fd;
	if (cs->phase == PHASE_CONNECTING) {
		char err[256];
		if (net_tcp_connect_result(cs->fd, err, sizeof(err)) < 0) {
			session_fail(cs, "cannot connect to %s:%u: %s", cs->host, cs->port, err);
			return;
		}
		cs->phase = PHASE_DETECT;
		cs->detect_len = 0;
		cs->last_rx_ms = net_now_ms();
		cs->session_start_ms = cs->last_rx_ms;
		uint8_t hs[CONSOLE_HANDSHAKE_BYTES];
		console_handshake_encode(hs, cs->cursor, cs->token, true);
		bytes_append(&cs->tx, hs, sizeof(hs));
		events = NET_WRITE;
	}
	if ((events & NET_WRITE) && cs->tx.len) {
		ssize_t n = net_write(cs->fd, cs->tx.data, cs->tx.len);
		if (n < 0) {
			session_fail(cs, "connection to %s:%u lost while sending the handshake", cs->host, cs->port);
			return;
		}
		bytes_consume(&cs->tx, (size_t)n);
		net_loop_watch(cs->loop, cs->fd, cs->tx.len ? NET_READ | NET_WRITE : NET_READ, on_io, cs);
	}
	if (!(events & (NET_READ | NET_ERROR)))
		return;
	cs->stop = 0;
	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		bool closed = false;
		ssize_t n = net_read(cs->fd, cs->rx, READ_CHUNK_BYTES, &closed);
		if (n == 0)
			return;
		if (n < 0) {
			session_fail(cs, closed ? "%s:%u closed the connection" : "connection to %s:%u lost", cs->host,
				     cs->port);
			return;
		}
		cs->last_rx_ms = net_now_ms();
		process(cs, cs->rx, (size_t)n);
		/* a short read emptied the socket: the loop reports it again when more arrives, so no read to EAGAIN */
		if (cs->stop || (size_t)n < READ_CHUNK_BYTES)
			return;
	}
}

static void on_resolved(void *ud, const struct net_resolve_answer *a)
{
	struct console_source *cs = ud;
	cs->resolve_id = 0;
	if (!a->addr) {
		session_fail(cs, "%s", a->error);
		return;
	}
	char err[256] = "";
	cs->fd = net_tcp_connect_addr(a->addr, a->addr_len, err, sizeof(err));
	if (cs->fd < 0) {
		session_fail(cs, "cannot connect to %s:%u: %s", cs->host, cs->port, err);
		return;
	}
	cs->phase = PHASE_CONNECTING;
	cs->last_rx_ms = net_now_ms();
	if (net_loop_watch(cs->loop, cs->fd, NET_WRITE, on_io, cs) < 0)
		session_fail(cs, "cannot watch the socket");
}

static void start_connect(struct console_source *cs)
{
	cs->stop = 0;
	cs->sessions++;
	emit_state(cs, SOURCE_CONNECTING, "connecting to %s:%u (attempt %u)", cs->host, cs->port, cs->attempts + 1);
	cs->phase = PHASE_RESOLVING;
	cs->resolve_id = net_loop_resolve(cs->loop, cs->host, cs->port, AF_UNSPEC, on_resolved, cs);
	if (!cs->resolve_id)
		session_fail(cs, "cannot resolve %s: out of memory", cs->host);
}

static void on_check(void *ud)
{
	struct console_source *cs = ud;
	uint64_t period = cs->idle_timeout_ms / 5 ? cs->idle_timeout_ms / 5 : 1;
	cs->check_timer = net_loop_timer(cs->loop, period > 1000 ? 1000 : period, on_check, cs);
	if (cs->phase == PHASE_IDLE || cs->fd < 0)
		return;
	uint64_t idle = net_now_ms() - cs->last_rx_ms;
	if (idle >= cs->idle_timeout_ms)
		session_fail(cs, "%s %s:%u for %" PRIu64 " ms",
			     cs->phase == PHASE_CONNECTING ? "no answer from" : "no bytes from", cs->host, cs->port,
			     idle);
}

static void console_destroy(struct source *src)
{
	struct console_source *cs = (struct console_source *)src;
	if (!cs)
		return;
	close_socket(cs);
	if (cs->check_timer)
		net_loop_cancel(cs->loop, cs->check_timer);
	if (cs->retry_timer)
		net_loop_cancel(cs->loop, cs->retry_timer);
	bytes_free(&cs->tx);
	bytes_free(&cs->seek);
	bytes_free(&cs->game_head);
	bytes_free(&cs->new_head);
	bytes_free(&cs->held);
	console_framer_free(&cs->framer);
	slp_splitter_free(&cs->check);
	slp_splitter_free(&cs->raw);
	free(cs->rx);
	free(cs);
}

static struct source *create(const struct source_kind *kind, struct net_loop *loop, const char *address,
			     const struct source_options *opts, const struct source_callbacks *cb, char *err,
			     size_t err_size)
{
	(void)opts;
	char addr[NET_ADDR_MAX + 64];
	snprintf(addr, sizeof(addr), "%s", address);
	uint64_t idle_ms = IDLE_TIMEOUT_MS_DEFAULT, retry_ms = RETRY_MS_DEFAULT;
	char *q = strchr(addr, '?');
	if (q)
		*q++ = 0;
	for (char *opt = q; opt && *opt;) {
		char *next = strchr(opt, '&');
		if (next)
			*next++ = 0;
		char *end = NULL;
		uint64_t *dst = !strncmp(opt, "idle_ms=", 8)    ? &idle_ms
				: !strncmp(opt, "retry_ms=", 9) ? &retry_ms
								: NULL;
		if (!dst || (*dst = strtoull(strchr(opt, '=') + 1, &end, 10)) == 0 || *end || *dst > 3600000) {
			snprintf(err, err_size, "%s://%s: options are ?idle_ms=N&retry_ms=N (milliseconds above 0)",
				 kind->scheme, address);
			return NULL;
		}
		opt = next;
	}
	struct console_source *cs = calloc(1, sizeof(*cs));
	if (!cs) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	cs->base.kind = kind;
	cs->loop = loop;
	cs->cb = *cb;
	cs->fd = -1;
	cs->relay = kind == &source_kind_relay;
	cs->idle_timeout_ms = idle_ms;
	cs->retry_ms = retry_ms;
	if (net_parse_host_port(addr, kind->default_port, cs->host, sizeof(cs->host), &cs->port) < 0 || cs->port == 0) {
		snprintf(err, err_size, "%s://%s: expected HOST[:PORT]", kind->scheme, address);
		free(cs);
		return NULL;
	}
	bytes_init(&cs->tx, 4096);
	bytes_init(&cs->seek, SEEK_LIMIT_BYTES);
	bytes_init(&cs->game_head, GAME_HEAD_MAX_BYTES);
	bytes_init(&cs->new_head, GAME_HEAD_MAX_BYTES);
	bytes_init(&cs->held, 0); /* bounded by the check splitter: one partial event */
	console_framer_init(&cs->framer, CONSOLE_FRAME_MAX_BYTES);
	slp_splitter_init(&cs->check);
	slp_splitter_init(&cs->raw);
	cs->rx = malloc(READ_CHUNK_BYTES);
	if (!cs->rx) {
		snprintf(err, err_size, "out of memory");
		console_destroy(&cs->base);
		return NULL;
	}
	/* the first attempt goes through the loop too, so a refused first connect is retried like any other */
	cs->retry_timer = net_loop_timer(loop, 0, on_retry, cs);
	cs->check_timer = net_loop_timer(loop, 200, on_check, cs);
	return &cs->base;
}

static struct source *console_create(struct net_loop *loop, const char *address, const struct source_options *opts,
				     const struct source_callbacks *cb, char *err, size_t err_size)
{
	return create(&source_kind_console, loop, address, opts, cb, err, err_size);
}

static struct source *relay_create(struct net_loop *loop, const char *address, const struct source_options *opts,
				   const struct source_callbacks *cb, char *err, size_t err_size)
{
	return create(&source_kind_relay, loop, address, opts, cb, err, err_size);
}

static const char *console_nick(const struct source *src)
{
	return ((const struct console_source *)src)->nick;
}

static uint64_t console_retry_at_ms(const struct source *src)
{
	return ((const struct console_source *)src)->retry_at_ms;
}

const struct source_kind source_kind_console = {
	.scheme = "console",
	.default_port = CONSOLE_PORT_DEFAULT,
	.create = console_create,
	.destroy = console_destroy,
	.nick = console_nick,
	.retry_at_ms = console_retry_at_ms,
};

const struct source_kind source_kind_relay = {
	.scheme = "relay",
	.default_port = RELAY_PORT_DEFAULT,
	.create = relay_create,
	.destroy = console_destroy,
	.nick = console_nick,
	.retry_at_ms = console_retry_at_ms,
};
