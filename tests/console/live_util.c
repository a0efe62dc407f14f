/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "live_util.h"

#include "slp_file.h"
#include "slp_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

bool lu_spawn(struct child *c, char *const argv[], bool pipe_out, const char *stderr_path)
{
	memset(c, 0, sizeof(*c));
	c->out_fd = -1;
	int p[2] = {-1, -1};
	if (pipe_out && pipe(p) < 0)
		return false;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		if (pipe_out) {
			dup2(p[1], 1);
			close(p[0]);
			close(p[1]);
		}
		if (stderr_path) {
			int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd >= 0)
				dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	c->pid = pid;
	if (pipe_out) {
		close(p[1]);
		c->out_fd = p[0];
	}
	return true;
}

uint16_t lu_read_listen_port(struct child *c, int timeout_ms)
{
	char line[256];
	size_t n = 0;
	while (n + 1 < sizeof(line)) {
		struct pollfd pfd = {.fd = c->out_fd, .events = POLLIN};
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return 0;
		ssize_t r = read(c->out_fd, line + n, 1);
		if (r <= 0)
			return 0;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	const char *colon = strrchr(line, ':');
	/* the simulators print `listening on`, the relay `relay listening on` */
	if ((strncmp(line, "listening on ", 13) && strncmp(line, "relay listening on ", 19)) || !colon)
		return 0;
	return (uint16_t)atoi(colon + 1);
}

int lu_wait(struct child *c, int timeout_ms)
{
	if (c->pid <= 0)
		return c->status;
	struct timespec ts = {0, 10 * 1000 * 1000};
	for (int waited = 0;; waited += 10) {
		int st = 0;
		struct rusage ru;
		pid_t r = wait4(c->pid, &st, WNOHANG, &ru);
		if (r == c->pid) {
			c->pid = 0;
			c->max_rss_kb = ru.ru_maxrss;
			if (c->out_fd >= 0)
				close(c->out_fd);
			c->out_fd = -1;
			c->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
			return c->status;
		}
		if (waited >= timeout_ms) {
			fprintf(stderr, "child %d did not exit within %d ms: killed\n", (int)c->pid, timeout_ms);
			kill(c->pid, SIGKILL);
			timeout_ms = waited + 5000;
		}
		nanosleep(&ts, NULL);
	}
}

void lu_signal(struct child *c, int sig)
{
	if (c->pid > 0)
		kill(c->pid, sig);
}

size_t lu_wrote_files(const char *log_path, char paths[][1024], size_t max)
{
	FILE *f = fopen(log_path, "r");
	if (!f)
		return 0;
	char line[2048];
	size_t n = 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "wrote ", 6))
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(paths[n++], 1024, "%s", line + 6);
	}
	fclose(f);
	return n;
}

bool lu_slp_events(const char *path, struct bytes *file, const uint8_t **events, size_t *len)
{
	char err[256];
	bytes_init(file, 0);
	if (slp_read_whole_file(path, (size_t)1 << 30, file, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return false;
	}
	struct slp_container c;
	if (slp_container_parse(file->data, file->len, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		return false;
	}
	*events = file->data + c.events_offset;
	*len = c.events_size;
	return true;
}

bool lu_replay_events(const char *name, struct bytes *file, const uint8_t **events, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", ANDROSS_REPLAY_DIR, name);
	return lu_slp_events(path, file, events, len);
}

size_t lu_count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	static char line[1 << 16];
	size_t n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, needle))
			n++;
	}
	fclose(f);
	return n;
}

void lu_temp_dir(const char *tag, char *out, size_t out_size)
{
	mkdir(ANDROSS_TEST_TMP, 0755);
	snprintf(out, out_size, "%s/console-%s-%d", ANDROSS_TEST_TMP, tag, (int)getpid());
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot clean %s\n", out);
	mkdir(out, 0755);
}

bool lu_files_match_replays(char paths[][1024], size_t n_files, const char *const *replays, size_t n_replays)
{
	bool ok = true;
	if (n_files != n_replays) {
		fprintf(stderr, "%zu files written, %zu games played\n", n_files, n_replays);
		ok = false;
	}
	for (size_t i = 0; i < n_files && i < n_replays; i++) {
		struct bytes a, b;
		const uint8_t *ea, *eb;
		size_t la, lb;
		if (!lu_slp_events(paths[i], &a, &ea, &la) || !lu_replay_events(replays[i], &b, &eb, &lb)) {
			ok = false;
		} else if (la != lb || memcmp(ea, eb, la)) {
			size_t k = 0;
			while (k < la && k < lb && ea[k] == eb[k])
				k++;
			fprintf(stderr, "%s: %zu event bytes, %s has %zu; first difference at byte %zu\n", paths[i], la,
				replays[i], lb, k);
			ok = false;
		}
		bytes_free(&a);
		bytes_free(&b);
	}
	return ok;
}

bool lu_inspect_ok(const char *tool, const char *path)
{
	char *argv[] = {(char *)tool, "inspect", (char *)path, NULL};
	struct child c;
	if (!lu_spawn(&c, argv, false, "/dev/null"))
		return false;
	return lu_wait(&c, 20000) == 0;
}
