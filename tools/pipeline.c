/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pipeline.h"
#include "cli.h"

#include "net/loop.h"
#include "slp_recorder_thread.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#define DRAIN_TIMEOUT_MS 5000 /* at the end, how long relay clients get to take what they have not yet received */

struct pipeline {
	const struct pipeline_options *o;
	FILE *events;
	struct bytes line;          /* lines written on the loop thread */
	struct bytes recorder_line; /* lines written on the recorder thread */
	struct net_loop *loop;
	struct source *src;
	struct relay *relay;
	struct slp_recorder_thread *rec;
	uint64_t games_ended;  /* recorder thread only */
	uint64_t frames_seen;  /* recorder thread only */
	uint64_t games_failed; /* recorder thread, then read once it has been joined */
	atomic_bool finishing; /* enough games, or the source ended: drain relay clients and exit */
};

/* One fwrite per line: stdio locks the stream, so lines from the two threads never interleave. */
static void emit(struct pipeline *p, struct bytes *line)
{
	if (!p->events || !bytes_append_byte(line, '\n'))
		return;
	fwrite(line->data, 1, line->len, p->events);
	fflush(p->events);
}

/* --- recorder thread --- */

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct pipeline *p = ud;
	if (ev->type == SLP_GAME_EVENT_GAME_END && p->o->games > 0 && (long)++p->games_ended >= p->o->games)
		atomic_store(&p->finishing, true);
	if (!p->events)
		return;
	/* every frame event carries the whole state, so a consumer may drop any of them */
	if (ev->type == SLP_GAME_EVENT_FRAME && (p->o->frame_every <= 0 || p->frames_seen++ % p->o->frame_every))
		return;
	bytes_clear(&p->recorder_line);
	if (slp_game_event_to_json(ev, &p->recorder_line))
		emit(p, &p->recorder_line);
}

static void on_file(void *ud, const char *path, bool finished)
{
	(void)ud;
	fprintf(stderr, "%s %s\n", finished ? "wrote" : "writing", path);
}

static void on_file_failed(void *ud, const char *path, bool kept)
{
	struct pipeline *p = ud;
	(void)path;
	(void)kept;
	p->games_failed++; /* the warning before this named the file and the cause */
}

/* also called on the loop thread, by the relay and a full recorder queue */
static void on_warning(void *ud, const char *message)
{
	(void)ud;
	fprintf(stderr, "andross: warning: %s\n", message);
}

/* --- loop thread --- */

static void on_client(void *ud, enum relay_client_event ev, const struct relay_client_info *info, const char *reason)
{
	struct pipeline *p = ud;
	static const char *const names[] = {"connected", "disconnected", "skipped"};
	fprintf(stderr, "relay: client %llu %s %s (%s): %s\n", (unsigned long long)info->id, info->address, names[ev],
		relay_client_mode_name(info->mode), reason);
	if (!p->events || !p->relay)
		return;
	bytes_clear(&p->line);
	if (relay_client_event_json(&p->line, relay_address(p->relay), ev, info, reason))
		emit(p, &p->line);
}

/* The relay first, then the recorder's queue. */
static void on_source_data(void *ud, const uint8_t *bytes, size_t len)
{
	struct pipeline *p = ud;
	if (p->relay)
		relay_feed(p->relay, bytes, len);
	slp_recorder_thread_feed(p->rec, bytes, len);
}

static void on_source_state(void *ud, enum source_state state, const char *reason)
{
	struct pipeline *p = ud;
	const char *nick = source_nick(p->src);
	if (state == SOURCE_CONNECTED && !p->o->nick && *nick) {
		if (p->relay)
			relay_set_nick(p->relay, nick);
		slp_recorder_thread_set_console_nick(p->rec, nick);
	}
	if (!p->events)
		return;
	bytes_clear(&p->line);
	if (source_state_event_json(&p->line, p->o->source_url, state, reason))
		emit(p, &p->line);
}

static void on_source_gap(void *ud, uint64_t from_byte, uint64_t to_byte, const char *reason)
{
	struct pipeline *p = ud;
	if (p->relay)
		relay_source_restart(p->relay);
	slp_recorder_thread_restart_at_boundary(p->rec);
	if (to_byte > from_byte)
		fprintf(stderr, "andross: warning: lost bytes %llu..%llu of the source: %s\n",
			(unsigned long long)from_byte, (unsigned long long)to_byte, reason);
	else
		fprintf(stderr, "andross: warning: the source's stream restarted (bytes may be lost): %s\n", reason);
	if (!p->events)
		return;
	bytes_clear(&p->line);
	if (source_gap_event_json(&p->line, p->o->source_url, from_byte, to_byte, reason))
		emit(p, &p->line);
}

static void on_source_ended(void *ud, const char *reason)
{
	struct pipeline *p = ud;
	(void)reason;
	atomic_store(&p->finishing, true);
}

static int run_loop(struct pipeline *p)
{
	uint64_t drain_deadline_ms = 0;
	while (!net_loop_stopping(p->loop)) {
		if (atomic_load(&p->finishing)) {
			uint64_t now = net_now_ms();
			if (!drain_deadline_ms)
				drain_deadline_ms = now + DRAIN_TIMEOUT_MS;
			if (!p->relay || relay_backlog_bytes(p->relay) == 0 || now >= drain_deadline_ms)
				return 0;
		}
		if (net_loop_run_once(p->loop, 100) < 0) {
			cli_error("%s: the event loop failed", p->o->command);
			return 1;
		}
	}
	return 0;
}

int pipeline_parse_option(struct pipeline_options *o, const char *a, const char *v)
{
	if (!strcmp(a, "--source")) {
		o->source_url = v;
	} else if (!strcmp(a, "--out")) {
		o->out_dir = v;
	} else if (!strcmp(a, "--events")) {
		o->events_path = v;
	} else if (!strcmp(a, "--nick")) {
		o->nick = v;
	} else if (!strcmp(a, "--games")) {
		if (!cli_parse_count(v, 1, &o->games)) {
			cli_error("%s: --games takes a whole number above 0, not '%s'", o->command, v);
			return -1;
		}
	} else if (!strcmp(a, "--frames")) {
		bool ok = true;
		if (!strcmp(v, "all"))
			o->frame_every = 1;
		else if (!strcmp(v, "none"))
			o->frame_every = 0;
		else
			ok = cli_parse_count(v, 1, &o->frame_every);
		if (!ok) {
			cli_error("%s: --frames takes all, none or a whole number above 0, not '%s'", o->command, v);
			return -1;
		}
	} else if (!strcmp(a, "--speed")) {
		if (!cli_parse_speed(v, &o->source.speed)) {
			cli_error("%s: --speed takes max, 1 or a number above 0, not '%s'", o->command, v);
			return -1;
		}
	} else {
		return 0;
	}
	return 1;
}

int pipeline_run(const struct pipeline_options *o)
{
	const char *cmd = o->command;
	if (o->out_dir && cli_make_dirs(o->out_dir) < 0) {
		cli_error("%s: cannot create %s: %s", cmd, o->out_dir, strerror(errno));
		return 1;
	}
	struct pipeline p = {.o = o};
	atomic_init(&p.finishing, false);
	bytes_init(&p.line, 0);
	bytes_init(&p.recorder_line, 0);
	if (o->events_path && !(p.events = cli_open_output(o->events_path)))
		return 1;
	int status = 0;
	char err[512] = "";
	p.loop = net_loop_create();
	struct slp_recorder_options rec_opts = {.out_dir = o->out_dir,
						.console_nick = o->nick,
						.max_games = o->games > 0 ? (uint64_t)o->games : 0};
	struct slp_recorder_callbacks rcb = {.game_event = on_game_event,
					     .file = on_file,
					     .warning = on_warning,
					     .file_failed = on_file_failed,
					     .ud = &p};
	p.rec = slp_recorder_thread_create(&rec_opts, &rcb, 0);
	if (!p.loop || !p.rec) {
		cli_error("%s: out of memory", cmd);
		status = 1;
		goto out;
	}
	if (o->relay) {
		struct relay_callbacks relay_cb = {.client = on_client, .warning = on_warning, .ud = &p};
		p.relay = relay_create(p.loop, o->relay, &relay_cb, err, sizeof(err));
		if (!p.relay) {
			cli_error("%s: %s", cmd, err);
			status = 1;
			goto out;
		}
		printf("relay listening on %s\n", relay_address(p.relay));
		fflush(stdout);
	}
	cli_stop_loop_on_signals(p.loop);
	struct source_options sopts = o->source;
	sopts.nick = o->nick;
	struct source_callbacks scb = {.data = on_source_data,
				       .state = on_source_state,
				       .gap = on_source_gap,
				       .ended = on_source_ended,
				       .ud = &p};
	p.src = source_create(p.loop, o->source_url, &sopts, &scb, err, sizeof(err));
	if (!p.src) {
		cli_error("%s: %s", cmd, err);
		status = 1;
		goto out;
	}
	status = run_loop(&p);
out:
	if (p.src)
		source_destroy(p.src);
	if (p.relay)
		relay_destroy(p.relay);
	p.relay = NULL;
	if (p.rec)
		slp_recorder_thread_destroy(p.rec); /* writes out everything queued and finishes the current file */
	if (p.games_failed) {
		/* a game lost to the disk must not look like success to a script */
		cli_error("%s: %llu game%s could not be written whole to %s (see the warnings above)", cmd,
			  (unsigned long long)p.games_failed, p.games_failed == 1 ? "" : "s", o->out_dir);
		if (!status)
			status = 1;
	}
	cli_stop_loop_on_signals(NULL);
	if (p.loop)
		net_loop_destroy(p.loop);
	if (p.events && p.events != stdout)
		fclose(p.events);
	bytes_free(&p.line);
	bytes_free(&p.recorder_line);
	return status;
}
