/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pipeline.h"
#include "cli.h"

#include "engine.h"
#include "json_writer.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

struct pipeline {
	const struct pipeline_options *o;
	FILE *events;
	uint64_t frames_seen[PIPELINE_MAX_SOURCES]; /* each touched by its session's recorder thread only */
	atomic_uint_fast64_t games_failed;
};

/* Sessions are numbered 1, 2, ... in the order they were added, and the sources are added in order before the
 * engine runs, so session id is source id - 1 from its very first event on. */
static int source_index(const struct pipeline *p, uint32_t id)
{
	return id >= 1 && id <= p->o->n_sources ? (int)id - 1 : -1;
}

/* One fwrite per line: stdio locks the stream, so lines from the loop and recorder threads never interleave. With
 * several sources, events that do not name theirs get "source" first. */
static void on_event(void *ud, uint32_t id, const char *type, const char *json, size_t len)
{
	struct pipeline *p = ud;
	int i = source_index(p, id);
	if (!strcmp(type, "replay_failed"))
		atomic_fetch_add(&p->games_failed, 1);
	if (!p->events || i < 0)
		return;
	/* every frame event carries the whole state, so a consumer may drop any of them */
	if (!strcmp(type, "frame") && p->frames_seen[i]++ % (uint64_t)p->o->frame_every)
		return;
	struct bytes line;
	bytes_init(&line, 0);
	bool tag = p->o->n_sources > 1 && strcmp(type, "connection") && strcmp(type, "gap");
	bool ok = true;
	if (tag) {
		/* {"source":"..."  +  ,  +  "type":...} */
		struct json_writer jw;
		jw_init(&jw, &line);
		jw_object_begin(&jw, NULL);
		jw_string(&jw, "source", p->o->source_urls[i]);
		ok = jw.ok && bytes_append(&line, (const uint8_t *)",", 1) &&
		     bytes_append(&line, (const uint8_t *)json + 1, len - 1);
	} else {
		ok = bytes_append(&line, (const uint8_t *)json, len);
	}
	if (ok && bytes_append_byte(&line, '\n')) {
		fwrite(line.data, 1, line.len, p->events);
		fflush(p->events);
	}
	bytes_free(&line);
}

static void on_log(void *ud, uint32_t id, int level, const char *message)
{
	struct pipeline *p = ud;
	if (level == ENGINE_LOG_DEBUG)
		return;
	int i = source_index(p, id);
	const char *who = p->o->n_sources > 1 && i >= 0 ? p->o->source_urls[i] : NULL;
	if (level == ENGINE_LOG_WARNING)
		fprintf(stderr, "andross: warning: %s%s%s\n", who ? who : "", who ? ": " : "", message);
	else
		fprintf(stderr, "%s\n", message);
}

static void stop_engine(void *ud)
{
	engine_stop(ud);
}

int pipeline_parse_option(struct pipeline_options *o, const char *a, const char *v)
{
	if (!strcmp(a, "--source")) {
		if (o->n_sources == PIPELINE_MAX_SOURCES) {
			cli_error("%s: at most %d --source options", o->command, PIPELINE_MAX_SOURCES);
			return -1;
		}
		o->source_urls[o->n_sources++] = v;
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

/* A session's options from the command's: source i of n. */
static void session_options(const struct pipeline_options *o, size_t i, struct engine_session_options *so)
{
	engine_session_options_init(so);
	snprintf(so->url, sizeof(so->url), "%s", o->source_urls[i]);
	so->speed = o->source.speed;
	snprintf(so->nick, sizeof(so->nick), "%s", o->nick ? o->nick : "");
	snprintf(so->out_dir, sizeof(so->out_dir), "%s", o->out_dir ? o->out_dir : "");
	so->console_subfolder = o->n_sources > 1; /* several consoles: a folder each, named after it */
	so->max_games = o->games > 0 ? (uint64_t)o->games : 0;
	so->frame_events = o->events_path && o->frame_every > 0;
	if (!o->relay)
		return;
	so->relay.enabled = true;
	snprintf(so->relay.host, sizeof(so->relay.host), "%s", o->relay->host ? o->relay->host : "");
	so->relay.port = o->relay->port ? (uint16_t)(o->relay->port + i) : 0;
	so->relay.options = *o->relay;
}

int pipeline_run(const struct pipeline_options *o)
{
	const char *cmd = o->command;
	if (o->out_dir && cli_make_dirs(o->out_dir) < 0) {
		cli_error("%s: cannot create %s: %s", cmd, o->out_dir, strerror(errno));
		return 1;
	}
	struct pipeline p = {.o = o};
	atomic_init(&p.games_failed, 0);
	if (o->events_path && !(p.events = cli_open_output(o->events_path)))
		return 1;
	int status = 0;
	char err[512] = "";
	struct engine_options eo = {.exit_when_done = true, .seed = o->relay ? o->relay->seed : 0};
	struct engine_callbacks cb = {.event = on_event, .log = on_log, .ud = &p};
	struct engine *e = engine_create(&eo, &cb, err, sizeof(err));
	if (!e) {
		cli_error("%s: %s", cmd, err);
		status = 1;
		goto out;
	}
	for (size_t i = 0; i < o->n_sources; i++) {
		struct engine_session_options so;
		session_options(o, i, &so);
		uint32_t id = engine_add(e, &so, err, sizeof(err));
		if (!id) {
			cli_error("%s: %s", cmd, err);
			status = 1;
			goto out;
		}
		static struct engine_session_status st;
		if (o->relay && engine_status(e, id, &st)) {
			printf("relay listening on %s\n", st.relay_address);
			fflush(stdout);
		}
	}
	cli_stop_on_signals(stop_engine, e);
	if (engine_run(e) < 0) {
		cli_error("%s: the event loop failed", cmd);
		status = 1;
	}
out:
	engine_destroy(e); /* writes out everything queued and finishes the current files */
	cli_stop_on_signals(NULL, NULL);
	uint64_t failed = atomic_load(&p.games_failed);
	if (failed) {
		/* a game lost to the disk must not look like success to a script */
		cli_error("%s: %llu game%s could not be written whole to %s (see the warnings above)", cmd,
			  (unsigned long long)failed, failed == 1 ? "" : "s", o->out_dir);
		if (!status)
			status = 1;
	}
	if (p.events && p.events != stdout)
		fclose(p.events);
	return status;
}
