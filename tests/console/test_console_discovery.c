/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Console discovery (protocols.md §1.2): the console list's refresh, change and eviction rules with a fake clock
 * (test_console_proto.c covers the datagram codec and the 35 s expiry), then `andross discover` against
 * `andross console-sim` over loopback: the sim's nickname, address and MAC are found, and once a client is
 * connected the sim stops broadcasting (the console expires), and starts again when the client goes.
 * Usage: test_console_discovery [PATH/TO/andross]
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "discovery.h"
#include "live_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *tool;
static struct child disc, sim, rec; /* killed by the teardown when a test fails half-way */

static const uint8_t mac_a[6] = {0x00, 0x17, 0xAB, 1, 2, 3};
static const uint8_t mac_b[6] = {0x00, 0x17, 0xAB, 9, 9, 9};

static void feed(struct discovery_list *l, const char *ip, const uint8_t mac[6], const char *nick, uint64_t now_ms,
		 int expect)
{
	uint8_t d[DISCOVERY_DATAGRAM_BYTES];
	discovery_encode(d, mac, nick);
	assert_int_equal(discovery_list_feed(l, ip, d, sizeof(d), now_ms), expect);
}

static void test_discovery_refresh_updates_nick_and_mac_and_postpones_expiry(void **state)
{
	(void)state;
	struct discovery_list l;
	discovery_list_init(&l);
	feed(&l, "10.0.0.2", mac_a, "Wii", 1000, 1);
	feed(&l, "10.0.0.2", mac_b, "Wii Renamed", 30000, 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.consoles[0].nick, "Wii Renamed");
	assert_memory_equal(l.consoles[0].mac, mac_b, 6);
	assert_int_equal(l.consoles[0].first_seen_ms, 1000);
	assert_int_equal(l.consoles[0].last_seen_ms, 30000);
	/* 35 s after the first datagram, but not after the last */
	assert_int_equal(discovery_list_expire(&l, 1000 + DISCOVERY_EXPIRY_MS), 0);
	assert_int_equal(discovery_list_expire(&l, 30000 + DISCOVERY_EXPIRY_MS - 1), 0);
	assert_int_equal(discovery_list_expire(&l, 30000 + DISCOVERY_EXPIRY_MS), 1);
	assert_int_equal(l.n, 0);
}

static void test_discovery_feed_expires_stale_consoles_first(void **state)
{
	(void)state;
	struct discovery_list l;
	discovery_list_init(&l);
	feed(&l, "10.0.0.2", mac_a, "Old", 0, 1);
	/* a datagram from another console after the first one's expiry drops it */
	feed(&l, "10.0.0.3", mac_b, "New", DISCOVERY_EXPIRY_MS, 1);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.consoles[0].ip, "10.0.0.3");
	/* the same console coming back after expiry is new again */
	feed(&l, "10.0.0.2", mac_a, "Old", DISCOVERY_EXPIRY_MS + 1, 1);
	assert_int_equal(l.consoles[1].first_seen_ms, DISCOVERY_EXPIRY_MS + 1);
}

static void test_discovery_custom_expiry(void **state)
{
	(void)state;
	struct discovery_list l;
	discovery_list_init(&l);
	l.expiry_ms = 2000;
	feed(&l, "10.0.0.2", mac_a, "Wii", 500, 1);
	assert_int_equal(discovery_list_expire(&l, 2499), 0);
	assert_int_equal(discovery_list_expire(&l, 2500), 1);
}

static void test_discovery_full_list_evicts_the_least_recently_heard(void **state)
{
	(void)state;
	struct discovery_list l;
	discovery_list_init(&l);
	char ip[32];
	for (int i = 0; i < DISCOVERY_MAX_CONSOLES; i++) {
		snprintf(ip, sizeof(ip), "10.0.1.%d", i);
		feed(&l, ip, mac_a, "Wii", 1000 + (uint64_t)i, 1);
	}
	/* the first one is refreshed, so the second is now the stalest */
	feed(&l, "10.0.1.0", mac_a, "Wii", 2000, 0);
	feed(&l, "10.0.2.1", mac_b, "Late", 2001, 1);
	assert_int_equal(l.n, DISCOVERY_MAX_CONSOLES);
	bool has_first = false, has_second = false, has_late = false;
	for (size_t i = 0; i < l.n; i++) {
		has_first |= !strcmp(l.consoles[i].ip, "10.0.1.0");
		has_second |= !strcmp(l.consoles[i].ip, "10.0.1.1");
		has_late |= !strcmp(l.consoles[i].ip, "10.0.2.1");
	}
	assert_true(has_first);
	assert_false(has_second);
	assert_true(has_late);
}

/* --- live: andross discover and andross console-sim --- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* A UDP socket on 127.0.0.1 (port 0: any free one); *port tells which. */
static int udp_socket(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(*port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t alen = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Datagrams that reach fd within ms. */
static int count_datagrams(int fd, int ms)
{
	int n = 0;
	uint64_t end = now_ms() + (uint64_t)ms;
	for (uint64_t t = now_ms(); t < end; t = now_ms()) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)(end - t)) <= 0)
			continue;
		uint8_t buf[256];
		if (recv(fd, buf, sizeof(buf), 0) > 0)
			n++;
	}
	return n;
}

/* One line of the child's stdout (without the newline); false at EOF or after timeout_ms. */
static bool read_line(struct child *c, char *line, size_t size, int timeout_ms)
{
	size_t n = 0;
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	while (n + 1 < size) {
		uint64_t t = now_ms();
		struct pollfd pfd = {.fd = c->out_fd, .events = POLLIN};
		if (t >= end || poll(&pfd, 1, (int)(end - t)) <= 0)
			return false;
		ssize_t r = read(c->out_fd, line + n, 1);
		if (r <= 0)
			return false;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	return true;
}

static bool wait_for_line(const char *path, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		if (lu_count_lines(path, needle))
			return true;
		sleep_ms(20);
	}
	return false;
}

static void test_discover_finds_the_sim_until_a_client_connects(void **state)
{
	(void)state;
	char dir[1024], events[1200], rec_log[1200], sim_log[1200], disc_log[1200], out[1200];
	lu_temp_dir("discovery", dir, sizeof(dir));
	snprintf(events, sizeof(events), "%s/events.jsonl", dir);
	snprintf(rec_log, sizeof(rec_log), "%s/record.log", dir);
	snprintf(sim_log, sizeof(sim_log), "%s/sim.log", dir);
	snprintf(disc_log, sizeof(disc_log), "%s/discover.log", dir);
	snprintf(out, sizeof(out), "%s/out", dir);

	/* a free port for the broadcasts (closed again for discover; the test binds it later) */
	uint16_t port = 0;
	close(udp_socket(&port));
	char listen[64], replay[1024];
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(replay, sizeof(replay), "%s/v3.13.slp", ANDROSS_REPLAY_DIR);

	char *disc_argv[] = {(char *)tool, "discover", "--listen", listen, "--json",
			     "--seconds",  "4",        "--expiry", "2",    NULL};
	assert_true(lu_spawn(&disc, disc_argv, true, disc_log));
	sleep_ms(100);
	/* --loop: the sim keeps its client, so silence comes from the connection, not from the sim exiting */
	char *sim_argv[] = {(char *)tool,  "console-sim", "--replay", replay,      "--listen", "127.0.0.1:0",
			    "--broadcast", listen,        "--nick",   "Station 1", "--loop",   NULL};
	assert_true(lu_spawn(&sim, sim_argv, true, sim_log));
	uint16_t sim_port = lu_read_listen_port(&sim, 5000);
	assert_int_not_equal(sim_port, 0);

	char line[1024];
	assert_true(read_line(&disc, line, sizeof(line), 3000));
	assert_string_equal(line, "{\"type\":\"console\",\"state\":\"found\",\"ip\":\"127.0.0.1\","
				  "\"mac\":\"00:17:ab:5a:11:01\",\"nick\":\"Station 1\"}");

	char url[128];
	snprintf(url, sizeof(url), "console://127.0.0.1:%u", sim_port);
	char *rec_argv[] = {(char *)tool, "record", "--source", url, "--out", out, "--events", events, NULL};
	assert_true(lu_spawn(&rec, rec_argv, false, rec_log));
	assert_true(wait_for_line(events, "\"state\":\"connected\"", 3000));

	/* no datagram while the client is connected: the console expires 2 s after its last one, before discover
	 * exits, and is not found again */
	assert_true(read_line(&disc, line, sizeof(line), 4500));
	assert_string_equal(line, "{\"type\":\"console\",\"state\":\"expired\",\"ip\":\"127.0.0.1\","
				  "\"mac\":\"00:17:ab:5a:11:01\",\"nick\":\"Station 1\"}");
	bool more = read_line(&disc, line, sizeof(line), 3000);
	if (more)
		fprintf(stderr, "unexpected line from discover: %s\n", line);
	assert_false(more);
	assert_int_equal(lu_wait(&disc, 3000), 0);

	/* the same, counted directly; then the client goes and the broadcasts come back */
	int fd = udp_socket(&port);
	assert_int_equal(count_datagrams(fd, 1500), 0);
	lu_signal(&rec, SIGINT);
	assert_int_equal(lu_wait(&rec, 5000), 0);
	assert_true(count_datagrams(fd, 1500) >= 1);
	close(fd);

	lu_signal(&sim, SIGINT);
	assert_int_equal(lu_wait(&sim, 5000), 0);
}

static int kill_children(void **state)
{
	(void)state;
	struct child *all[] = {&rec, &sim, &disc};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i]->pid > 0) {
			lu_signal(all[i], SIGKILL);
			lu_wait(all[i], 5000);
		}
	}
	return 0;
}

/* The listener object on a loop, in-process: found, changed (nickname, then MAC) and lost, each reported once. */
struct seen {
	int found, changed, lost;
	char last_nick[33];
	uint8_t last_mac[6];
};

static void on_console(void *ud, const struct discovery_console *c, enum discovery_change change)
{
	struct seen *s = ud;
	assert_string_equal(c->ip, "127.0.0.1");
	if (change == DISCOVERY_FOUND)
		s->found++;
	else if (change == DISCOVERY_CHANGED)
		s->changed++;
	else
		s->lost++;
	snprintf(s->last_nick, sizeof(s->last_nick), "%s", c->nick);
	memcpy(s->last_mac, c->mac, 6);
}

static void send_announce(uint16_t port, const uint8_t mac[6], const char *nick)
{
	uint8_t d[DISCOVERY_DATAGRAM_BYTES];
	discovery_encode(d, mac, nick);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(fd, d, sizeof(d), 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)sizeof(d));
	close(fd);
}

/* Runs the loop for about ms. */
static void run_for(struct net_loop *loop, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	while (now_ms() < end)
		net_loop_run_once(loop, (int)(end - now_ms()) + 1);
}

static void test_listener_reports_found_changed_and_lost(void **state)
{
	(void)state;
	uint16_t port = 0;
	close(udp_socket(&port));
	struct seen s = {0};
	struct net_loop *loop = net_loop_create();
	char err[256] = "";
	struct discovery_listener_options o = {.host = "127.0.0.1",
					       .port = port,
					       .expiry_ms = 600,
					       .fn = on_console,
					       .ud = &s};
	struct discovery_listener *dl = discovery_listener_create(loop, &o, err, sizeof(err));
	assert_non_null(dl);
	assert_int_equal(discovery_listener_port(dl), port);

	send_announce(port, mac_a, "Wii A");
	run_for(loop, 100);
	assert_int_equal(s.found, 1);
	send_announce(port, mac_a, "Wii A"); /* a refresh is no news */
	run_for(loop, 100);
	assert_int_equal(s.found, 1);
	assert_int_equal(s.changed, 0);
	send_announce(port, mac_a, "Wii Renamed");
	run_for(loop, 100);
	assert_int_equal(s.changed, 1);
	assert_string_equal(s.last_nick, "Wii Renamed");
	send_announce(port, mac_b, "Wii Renamed");
	run_for(loop, 100);
	assert_int_equal(s.changed, 2);
	assert_memory_equal(s.last_mac, mac_b, 6);
	assert_int_equal(discovery_listener_list(dl)->n, 1);
	assert_int_equal(s.lost, 0);

	/* silence past the expiry: lost once, from the timer alone (no datagram needed) */
	run_for(loop, 1200);
	assert_int_equal(s.lost, 1);
	assert_int_equal(discovery_listener_list(dl)->n, 0);
	assert_int_equal(s.found, 1);

	discovery_listener_destroy(dl);
	send_announce(port, mac_a, "After");
	run_for(loop, 100); /* nothing watched, no timer left: nothing reported */
	assert_int_equal(s.found, 1);
	net_loop_destroy(loop);
}

int main(int argc, char **argv)
{
	tool = argc > 1 ? argv[1] : ANDROSS_TOOL;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discovery_refresh_updates_nick_and_mac_and_postpones_expiry),
		cmocka_unit_test(test_discovery_feed_expires_stale_consoles_first),
		cmocka_unit_test(test_discovery_custom_expiry),
		cmocka_unit_test(test_discovery_full_list_evicts_the_least_recently_heard),
		cmocka_unit_test(test_listener_reports_found_changed_and_lost),
		cmocka_unit_test_teardown(test_discover_finds_the_sim_until_a_client_connects, kill_children),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
