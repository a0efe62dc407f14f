/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parse throughput of the andross core: every replay's event bytes go through the splitter and the game state,
 * as the live pipeline does, from memory. Files are read first; passes over all of them repeat until at least
 * --seconds have gone by. Prints MB/s (replay file bytes, 1 MB = 10^6 bytes) and events/s (splitter events).
 *
 *   bench_parse [--seconds S] FILE.slp...
 */
#include "slp_game.h"
#include "slp_splitter.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct replay {
	const char *path;
	uint8_t *data;
	size_t size;        /* whole file */
	size_t events_from; /* container offset 15 */
	size_t events_len;  /* raw length, or to the end of the file when the raw length is 0 */
};

struct counters {
	struct slp_game *game;
	uint64_t events;
	uint64_t game_events;
	uint64_t game_errors;
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool read_replay(const char *path, struct replay *r)
{
	static const uint8_t header[11] = {0x7B, 0x55, 0x03, 0x72, 0x61, 0x77, 0x5B, 0x24, 0x55, 0x23, 0x6C};
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "bench_parse: %s: %s\n", path, strerror(errno));
		return false;
	}
	uint8_t *data = NULL;
	size_t size = 0, cap = 0;
	for (;;) {
		if (size == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			uint8_t *grown = realloc(data, cap);
			if (!grown) {
				fprintf(stderr, "bench_parse: %s: out of memory\n", path);
				free(data);
				fclose(f);
				return false;
			}
			data = grown;
		}
		size_t n = fread(data + size, 1, cap - size, f);
		size += n;
		if (n == 0)
			break;
	}
	fclose(f);
	if (size < 15 || memcmp(data, header, sizeof(header)) != 0) {
		fprintf(stderr, "bench_parse: %s: not a .slp file\n", path);
		free(data);
		return false;
	}
	uint32_t raw_length = rd_u32be(data + 11);
	r->path = path;
	r->data = data;
	r->size = size;
	r->events_from = 15;
	r->events_len = raw_length && raw_length <= size - 15 ? raw_length : size - 15;
	return true;
}

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	(void)ev;
	((struct counters *)ud)->game_events++;
}

static int on_event(void *ud, const struct slp_event *ev)
{
	struct counters *c = ud;
	c->events++;
	if (slp_game_handle(c->game, ev) != 0)
		c->game_errors++;
	return 0;
}

/* One replay, start to finish, as a fresh stream. */
static void parse_replay(const struct replay *r, struct counters *c)
{
	struct slp_splitter splitter;
	struct slp_game game;
	slp_splitter_init(&splitter);
	slp_game_init(&game, on_game_event, c);
	c->game = &game;
	slp_splitter_feed(&splitter, r->data + r->events_from, r->events_len, on_event, c);
	slp_game_finish(&game);
	slp_splitter_free(&splitter);
}

int main(int argc, char **argv)
{
	double min_seconds = 2.0;
	int first = 1;
	if (argc > 2 && strcmp(argv[1], "--seconds") == 0) {
		min_seconds = atof(argv[2]);
		first = 3;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: bench_parse [--seconds S] FILE.slp...\n");
		return 2;
	}
	int count = argc - first;
	struct replay *replays = calloc((size_t)count, sizeof(*replays));
	if (!replays)
		return 1;
	uint64_t bytes_per_pass = 0;
	for (int i = 0; i < count; i++) {
		if (!read_replay(argv[first + i], &replays[i]))
			return 1;
		bytes_per_pass += replays[i].size;
	}

	/* One warm-up pass, which also gives the per-pass counts. */
	struct counters per_pass = {0};
	for (int i = 0; i < count; i++)
		parse_replay(&replays[i], &per_pass);

	struct counters total = {0};
	uint64_t passes = 0;
	double start = now_seconds(), elapsed = 0;
	do {
		for (int i = 0; i < count; i++)
			parse_replay(&replays[i], &total);
		passes++;
		elapsed = now_seconds() - start;
	} while (elapsed < min_seconds);

	double mb_per_s = (double)bytes_per_pass * (double)passes / 1e6 / elapsed;
	double events_per_s = (double)total.events / elapsed;
	printf("andross core: %d files, %" PRIu64 " bytes, %" PRIu64 " splitter events and %" PRIu64
	       " game events per pass, %" PRIu64 " game errors\n",
	       count, bytes_per_pass, per_pass.events, per_pass.game_events, per_pass.game_errors);
	printf("andross core: %" PRIu64 " passes in %.3f s: %.1f MB/s, %.0f events/s\n", passes, elapsed, mb_per_s,
	       events_per_s);
	/* One machine-readable line for run.sh. */
	printf("RESULT andross mb_per_s=%.3f events_per_s=%.0f events_per_pass=%" PRIu64 " bytes_per_pass=%" PRIu64
	       "\n",
	       mb_per_s, events_per_s, per_pass.events, bytes_per_pass);

	for (int i = 0; i < count; i++)
		free(replays[i].data);
	free(replays);
	return 0;
}
