/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Several consoles at once in the tool: `andross record` and `andross relay` with --source given more than once,
 * against two `andross console-sim` processes with their own nicknames. Each console's games land in a folder
 * named after it (a nickname that is not a safe folder name is made safe), byte for byte; each relay listens on
 * its own port (the --listen port, then the next one) and serves its own console; every event line says which
 * source it belongs to. Usage: test_console_multi [PATH/TO/andross]
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "live_util.h"
#include "net/sock.h"

#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *tool;
static struct child sims[2], rec;

static int kill_children(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		if (sims[i].pid > 0) {
			lu_signal(&sims[i], SIGKILL);
			lu_wait(&sims[i], 5000);
		}
	}
	if (rec.pid > 0) {
		lu_signal(&rec, SIGKILL);
		lu_wait(&rec, 5000);
	}
	return 0;
}

/* max: as fast as the client drains, once; otherwise real time, again and again (a client that joins between two
 * games gets the next one whole) */
static uint16_t start_sim(struct child *c, const char *replay, const char *nick, const char *log, bool max)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", ANDROSS_REPLAY_DIR, replay);
	char *argv[] = {
		(char *)tool,      "console-sim", "--replay", path,     "--listen",   "127.0.0.1:0",         "--speed",
		max ? "max" : "1", "--broadcast", "off",      "--nick", (char *)nick, max ? NULL : "--loop", NULL};
	assert_true(lu_spawn(c, argv, true, log));
	uint16_t port = lu_read_listen_port(c, 10000);
	assert_int_not_equal(port, 0);
	return port;
}

/* The one .slp file in dir, or fails. */
static void only_file(const char *dir, char *out, size_t size)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "ls '%s'/*.slp 2>/dev/null", dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = 0;
		snprintf(out, size, "%s", line);
		n++;
	}
	pclose(p);
	if (n != 1)
		fail_msg("%s holds %d .slp files, not 1", dir, n);
}

static void test_record_two_consoles_into_a_folder_each(void **state)
{
	(void)state;
	char dir[1024], out[1200], events[1200], log[1200], slog[2][1200];
	lu_temp_dir("multi-record", dir, sizeof(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(events, sizeof(events), "%s/events.jsonl", dir);
	snprintf(log, sizeof(log), "%s/record.log", dir);
	for (int i = 0; i < 2; i++)
		snprintf(slog[i], sizeof(slog[i]), "%s/sim%d.log", dir, i);
	/* the second nickname could name a folder elsewhere: it is made safe */
	uint16_t p0 = start_sim(&sims[0], "v3.13.slp", "Setup 1", slog[0], true);
	uint16_t p1 = start_sim(&sims[1], "unranked_game1.slp", "../Setup/2", slog[1], true);
	char url0[64], url1[64];
	snprintf(url0, sizeof(url0), "console://127.0.0.1:%u", p0);
	snprintf(url1, sizeof(url1), "console://127.0.0.1:%u", p1);
	char *argv[] = {(char *)tool, "record", "--source", url0,   "--source", url1,   "--out", out,
			"--games",    "1",      "--events", events, "--frames", "none", NULL};
	assert_true(lu_spawn(&rec, argv, false, log));
	assert_int_equal(lu_wait(&rec, 60000), 0);

	char path[1200], files[1][1024];
	snprintf(path, sizeof(path), "%s/Setup 1", out);
	only_file(path, files[0], sizeof(files[0]));
	const char *const want0[] = {"v3.13.slp"};
	assert_true(lu_files_match_replays(files, 1, want0, 1));
	snprintf(path, sizeof(path), "%s/_Setup_2", out);
	only_file(path, files[0], sizeof(files[0]));
	const char *const want1[] = {"unranked_game1.slp"};
	assert_true(lu_files_match_replays(files, 1, want1, 1));

	/* every game event says which console it came from */
	char needle[128];
	snprintf(needle, sizeof(needle), "{\"source\":\"%s\",\"type\":\"game_start\"", url0);
	assert_int_equal(lu_count_lines(events, needle), 1);
	snprintf(needle, sizeof(needle), "{\"source\":\"%s\",\"type\":\"game_end\"", url1);
	assert_int_equal(lu_count_lines(events, needle), 1);
	for (int i = 0; i < 2; i++) {
		lu_signal(&sims[i], SIGTERM);
		lu_wait(&sims[i], 10000);
	}
}

static size_t read_raw_events(uint16_t port, size_t want, int timeout_ms)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return 0;
	}
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	size_t got = 0;
	uint8_t buf[65536];
	while (got < want) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return got;
}

static void test_relay_two_consoles_on_two_ports(void **state)
{
	(void)state;
	char dir[1024], log[1200], slog[2][1200];
	lu_temp_dir("multi-relay", dir, sizeof(dir));
	snprintf(log, sizeof(log), "%s/relay.log", dir);
	for (int i = 0; i < 2; i++)
		snprintf(slog[i], sizeof(slog[i]), "%s/sim%d.log", dir, i);
	uint16_t p0 = start_sim(&sims[0], "v3.13.slp", "Left", slog[0], false);
	uint16_t p1 = start_sim(&sims[1], "unranked_game1.slp", "Right", slog[1], false);
	/* two free ports in a row for the relays */
	uint16_t base = 0;
	for (int tries = 0; tries < 50 && !base; tries++) {
		char err[128];
		uint16_t a = 0, b;
		int fa = net_tcp_listen("127.0.0.1", 0, 1, &a, err, sizeof(err));
		int fb = a < 65535 ? net_tcp_listen("127.0.0.1", (uint16_t)(a + 1), 1, &b, err, sizeof(err)) : -1;
		if (fa >= 0 && fb >= 0)
			base = a;
		net_close(fa);
		if (fb >= 0)
			net_close(fb);
	}
	assert_int_not_equal(base, 0);
	char url0[64], url1[64], listen[64];
	snprintf(url0, sizeof(url0), "console://127.0.0.1:%u", p0);
	snprintf(url1, sizeof(url1), "console://127.0.0.1:%u", p1);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", base);
	char *argv[] = {(char *)tool, "relay", "--source", url0, "--source", url1, "--listen", listen, NULL};
	assert_true(lu_spawn(&rec, argv, true, log));
	uint16_t first = lu_read_listen_port(&rec, 10000);
	uint16_t second = lu_read_listen_port(&rec, 10000);
	assert_int_equal(first, base);
	assert_int_equal(second, base + 1);
	/* each relay serves its own console's games (at least one whole game each) */
	assert_true(read_raw_events(first, 117226, 20000) >= 117226);
	assert_true(read_raw_events(second, 110912, 20000) >= 110912);
	lu_signal(&rec, SIGINT);
	assert_int_equal(lu_wait(&rec, 10000), 0);
	for (int i = 0; i < 2; i++) {
		lu_signal(&sims[i], SIGTERM);
		lu_wait(&sims[i], 10000);
	}
}

int main(int argc, char **argv)
{
	tool = argc > 1 ? argv[1] : ANDROSS_TOOL;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_record_two_consoles_into_a_folder_each, kill_children),
		cmocka_unit_test_teardown(test_relay_two_consoles_on_two_ports, kill_children),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
