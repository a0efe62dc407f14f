/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tu_read_file(const char *path, struct bytes *out)
{
	bytes_init(out, 0);
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	uint8_t buf[65536];
	size_t n;
	bool ok = true;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (!bytes_append(out, buf, n)) {
			ok = false;
			break;
		}
	}
	if (ferror(f))
		ok = false;
	fclose(f);
	return ok;
}

bool tu_read_replay(const char *name, struct bytes *out)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", ANDROSS_REPLAY_DIR, name);
	return tu_read_file(path, out);
}

static struct jm_value *expected_root;

static void free_expected(void)
{
	jm_free(expected_root);
	expected_root = NULL;
}

const struct jm_value *tu_expected(void)
{
	if (expected_root)
		return expected_root;
	struct bytes b;
	if (!tu_read_replay("expected.json", &b)) {
		bytes_free(&b);
		return NULL;
	}
	char err[128];
	expected_root = jm_parse((const char *)b.data, b.len, err, sizeof(err));
	if (!expected_root)
		fprintf(stderr, "expected.json: %s\n", err);
	else
		atexit(free_expected);
	bytes_free(&b);
	return expected_root;
}

const struct jm_value *tu_expected_files(void)
{
	return jm_get(tu_expected(), "files");
}

const struct jm_value *tu_expected_file(const char *name)
{
	return jm_get(tu_expected_files(), name);
}

size_t tu_replay_names(const char *names[TU_MAX_REPLAYS])
{
	size_t n = 0;
	const struct jm_value *files = tu_expected_files();
	for (const struct jm_value *c = files ? files->child : NULL; c && n < TU_MAX_REPLAYS; c = c->next)
		names[n++] = c->key;
	return n;
}

bool tu_events(const struct bytes *file, const uint8_t **events, size_t *events_len)
{
	if (file->len < 15)
		return false;
	uint32_t raw = rd_u32be(file->data + 11);
	if (raw == 0) {
		*events_len = file->len - 15;
	} else {
		if (raw > file->len - 15)
			return false;
		*events_len = raw;
	}
	*events = file->data + 15;
	return true;
}

size_t tu_footer_offset(const struct bytes *file)
{
	if (file->len < 15)
		return 0;
	uint32_t raw = rd_u32be(file->data + 11);
	if (raw == 0 || (uint64_t)raw + 15 + 10 > file->len)
		return 0;
	size_t at = 15 + (size_t)raw;
	if (memcmp(file->data + at, "U\x08metadata", 10) != 0)
		return 0;
	return at;
}

uint64_t tu_hash(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t tu_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

void tu_recording_init(struct tu_recording *r)
{
	memset(r, 0, sizeof(*r));
}

void tu_recording_free(struct tu_recording *r)
{
	free(r->ev);
	memset(r, 0, sizeof(*r));
}

int tu_record_event(void *ud, const struct slp_event *ev)
{
	struct tu_recording *r = ud;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4096;
		struct tu_event *p = realloc(r->ev, cap * sizeof(*p));
		if (!p)
			return -2;
		r->ev = p;
		r->cap = cap;
	}
	struct tu_event *e = &r->ev[r->n++];
	e->code = ev->code;
	e->reassembled = ev->reassembled;
	e->size = (uint32_t)ev->size;
	e->offset = ev->offset;
	e->hash = tu_hash(ev->data, ev->size);
	if (ev->reassembled) {
		r->reassembled[ev->code]++;
		r->reassembled_payload_bytes[ev->code] += ev->size - 1;
	} else {
		r->counts[ev->code]++;
		if (ev->data[0] != ev->code)
			r->byte_mismatches++;
		if (r->stream && (ev->offset > r->stream_len || ev->size > r->stream_len - ev->offset ||
				  memcmp(r->stream + ev->offset, ev->data, ev->size) != 0))
			r->byte_mismatches++;
	}
	return 0;
}

size_t tu_recording_diff(const struct tu_recording *a, const struct tu_recording *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	for (size_t i = 0; i < n; i++) {
		const struct tu_event *x = &a->ev[i], *y = &b->ev[i];
		if (x->code != y->code || x->reassembled != y->reassembled || x->size != y->size ||
		    x->offset != y->offset || x->hash != y->hash)
			return i;
	}
	return a->n == b->n ? SIZE_MAX : n;
}

unsigned tu_failures;

int tu_split(const uint8_t *data, size_t len, int chunk, uint64_t seed, struct tu_recording *rec, size_t *pending,
	     uint64_t *fillers, char *err, size_t err_size)
{
	struct slp_splitter s;
	slp_splitter_init(&s);
	int rc = 0;
	if (chunk <= 0) {
		rc = slp_splitter_feed(&s, data, len, tu_record_event, rec);
	} else {
		uint64_t state = seed;
		size_t i = 0;
		while (i < len && rc == 0) {
			size_t n = 1;
			if (chunk > 1) {
				/* mostly small chunks, sometimes large ones, so boundaries land everywhere */
				uint64_t r = tu_rand(&state);
				n = (r & 3) ? 1 + (size_t)((r >> 8) % 64) : 1 + (size_t)((r >> 8) % (uint64_t)chunk);
			}
			if (n > len - i)
				n = len - i;
			rc = slp_splitter_feed(&s, data + i, n, tu_record_event, rec);
			i += n;
		}
	}
	if (pending)
		*pending = slp_splitter_pending_bytes(&s);
	if (fillers)
		*fillers = s.fillers;
	if (err && err_size)
		snprintf(err, err_size, "%s", s.error);
	slp_splitter_free(&s);
	return rc;
}
