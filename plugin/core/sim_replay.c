/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading a replay for a simulator, from a path or from the caller's memory. */
#include "sim_replay.h"

#include "slp_file.h"
#include "slp_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *copy_name(const struct sim_replay *r, size_t index)
{
	if (r->name)
		return strdup(r->name);
	if (r->path)
		return strdup(r->path);
	char buf[64];
	snprintf(buf, sizeof(buf), "replay %zu (in memory)", index + 1);
	return strdup(buf);
}

int sim_replay_load(const struct sim_replay *r, size_t index, struct sim_replay_data *out, char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	bytes_init(&out->file, SIM_REPLAY_MAX_BYTES);
	out->name = copy_name(r, index);
	if (!out->name) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	if (r->path) {
		/* the error names the path */
		if (slp_read_whole_file(r->path, SIM_REPLAY_MAX_BYTES, &out->file, err, err_size) < 0)
			return -1;
	} else if (!r->data || !r->len) {
		snprintf(err, err_size, "%s: no path and no bytes", out->name);
		return -1;
	} else if (r->len > SIM_REPLAY_MAX_BYTES) {
		snprintf(err, err_size, "%s: %zu bytes is more than the %zu a simulator plays", out->name, r->len,
			 SIM_REPLAY_MAX_BYTES);
		return -1;
	} else if (!bytes_append(&out->file, r->data, r->len)) {
		snprintf(err, err_size, "%s: out of memory for %zu bytes", out->name, r->len);
		return -1;
	}
	struct slp_container c;
	char cerr[256];
	/* a damaged metadata footer still leaves the events playable */
	if (slp_container_parse(out->file.data, out->file.len, &c, cerr, sizeof(cerr)) < 0 && c.events_offset == 0) {
		snprintf(err, err_size, "%s: %s", out->name, cerr);
		return -1;
	}
	if (c.events_size == 0) {
		snprintf(err, err_size, "%s: no events to play", out->name);
		return -1;
	}
	out->events = out->file.data + c.events_offset;
	out->events_size = c.events_size;
	return 0;
}

void sim_replay_data_free(struct sim_replay_data *d)
{
	bytes_free(&d->file);
	free(d->name);
	d->name = NULL;
	d->events = NULL;
	d->events_size = 0;
}

void sim_log_line(void (*log)(void *ud, const char *line), void *ud, const char *fmt, va_list ap)
{
	if (!log)
		return;
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	log(ud, line);
}
