/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Relay latency benchmark: a feeder console -> a relay -> N raw clients on loopback, for `andross relay` and for
 * a Node.js relay built like Slippi Launcher's (launcher_like_relay.mjs), under the same load in the same run.
 *
 * The feeder is a simulated Wii in this process (the sans-I/O console_server the simulator uses), so the time of
 * each frame's write and of each client's receipt come from one clock: per frame, the latency is from the
 * feeder's write to the moment the last client holds the frame's last byte. Linux only (epoll, /proc).
 *
 *   bench_relay --tool build/tools/andross --launcher bench/relay/launcher_like_relay.mjs
 *               [--replay FILE.slp] [--frames N] [--clients 1,16,64,256] [--node node] [--only andross|node|floor]
 *               [--floor build/bench/relay/floor_relay] [--repeat K] [--read-every-ms MS] [--pin on|off]
 *
 * Latency is measured to the kernel's receive timestamp (SO_TIMESTAMPNS) of the segment that completes the frame in
 * the last client's socket, and also to the moment the client thread has read it ("p99 read"). --repeat runs every
 * scenario K times (the relays alternating) and adds a table of medians; --read-every-ms makes the clients read on
 * a timer instead of waking for each segment, which shows what waking them costs the relay. --floor adds
 * floor_relay.c, which makes only the sends, as the third relay.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include "console_server.h"
#include "net/loop.h"
#include "net/sock.h"
#include "slp_file.h"
#include "slp_reader.h"
#include "slp_frames.h"
#include "slp_splitter.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 512
#define MAX_REPEAT 9

static bool pin_cpus;     /* --pin: the relay on CPU 0, the feeder and clients on CPU 1 */
static int read_every_ms; /* --read-every-ms: clients read on a timer instead of waking for data */

struct game {
	struct bytes file;
	const uint8_t *events;
	struct slp_frame_cuts frames; /* frame i spans frames.offsets[i] .. frames.offsets[i + 1] */
};

static bool load_game(const char *path, struct game *g)
{
	char err[256];
	memset(g, 0, sizeof(*g));
	if (slp_read_whole_file(path, (size_t)1 << 30, &g->file, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_relay: %s\n", err);
		return false;
	}
	struct slp_container c;
	if (slp_container_parse(g->file.data, g->file.len, &c, err, sizeof(err)) < 0 && !c.events_offset) {
		fprintf(stderr, "bench_relay: %s: %s\n", path, err);
		return false;
	}
	g->events = g->file.data + c.events_offset;
	return slp_frame_cuts_build(g->events, c.events_size, &g->frames) == 0;
}

/* --- the feeder: one console client (the relay's source) --- */

struct feeder {
	const struct game *game;
	size_t frames;
	int listen_fd;
	uint16_t port;
	pthread_t thread;
	atomic_bool ready; /* the relay's source is handshaken */
	atomic_bool go;
	atomic_bool done;
	atomic_bool quit;
	uint64_t *write_us;    /* per frame, CLOCK_MONOTONIC */
	uint64_t *write_rt_us; /* per frame, CLOCK_REALTIME (the clock of the kernel's receive timestamps) */
};

static uint64_t realtime_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = net_write(fd, p, n);
		if (w < 0)
			return false;
		if (w == 0) {
			struct timespec ts = {0, 20000};
			nanosleep(&ts, NULL);
			continue;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void *feeder_run(void *arg)
{
	struct feeder *fd_ = arg;
	int fd = -1;
	while (fd < 0 && !atomic_load(&fd_->quit)) {
		char peer[80];
		fd = net_tcp_accept(fd_->listen_fd, peer, sizeof(peer));
		if (fd < 0) {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
	}
	if (fd < 0)
		return NULL;
	net_set_nodelay(fd, true);
	uint8_t hs[CONSOLE_HANDSHAKE_BYTES];
	size_t got = 0;
	while (got < sizeof(hs) && !atomic_load(&fd_->quit)) {
		ssize_t n = net_read(fd, hs + got, sizeof(hs) - got, NULL);
		if (n < 0)
			goto out;
		if (n == 0) {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
		got += n > 0 ? (size_t)n : 0;
	}
	struct console_server server;
	if (console_server_init(&server, 0, 7) < 0)
		goto out;
	struct console_hello hello;
	char err[128];
	console_hello_decode(hs + 4, sizeof(hs) - 4, &hello, err, sizeof(err));
	struct console_session session;
	console_server_handshake(&server, &hello, &session);
	struct bytes tx;
	bytes_init(&tx, 0);
	console_server_reply(&server, &session, "bench", "1.9.0", &tx);
	write_all(fd, tx.data, tx.len);
	atomic_store(&fd_->ready, true);
	uint64_t last_send = net_now_us();
	while (!atomic_load(&fd_->go) && !atomic_load(&fd_->quit)) {
		if (net_now_us() - last_send > 500000) {
			bytes_clear(&tx);
			console_keepalive_encode(&tx);
			write_all(fd, tx.data, tx.len);
			last_send = net_now_us();
		}
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < fd_->frames && !atomic_load(&fd_->quit); i++) {
		/* absolute 60 fps schedule */
		uint64_t ns = (uint64_t)t0.tv_nsec + (uint64_t)((double)i * 1e9 / 60.0);
		struct timespec due = {t0.tv_sec + (time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
		const struct game *g = fd_->game;
		console_log_append(console_server_log(&server), g->events + g->frames.offsets[i],
				   g->frames.offsets[i + 1] - g->frames.offsets[i]);
		bytes_clear(&tx);
		while (console_server_next(&server, &session, &tx) == CONSOLE_NEXT_REPLAY) {
		}
		fd_->write_us[i] = net_now_us();
		fd_->write_rt_us[i] = realtime_us();
		if (!write_all(fd, tx.data, tx.len))
			break;
	}
	atomic_store(&fd_->done, true);
	while (!atomic_load(&fd_->quit)) {
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	bytes_free(&tx);
	console_server_free(&server);
out:
	net_close(fd);
	return NULL;
}

/* --- the relay process --- */

struct relay_proc {
	pid_t pid;
	uint16_t port;
};

static bool spawn_relay(char *const argv[], struct relay_proc *rp)
{
	int pipefd[2];
	if (pipe(pipefd) < 0)
		return false;
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the benchmark */
		if (pin_cpus) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(0, &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		dup2(pipefd[1], 1);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		close(pipefd[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	rp->pid = pid;
	rp->port = 0;
	char buf[512];
	size_t len = 0;
	uint64_t until = net_now_ms() + 10000;
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	while (net_now_ms() < until && !rp->port) {
		ssize_t n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len);
		if (n > 0) {
			len += (size_t)n;
			buf[len] = 0;
			char *m = strstr(buf, "listening on ");
			char *nl = m ? strchr(m, '\n') : NULL;
			if (nl) {
				*nl = 0;
				char *colon = strrchr(m, ':');
				rp->port = colon ? (uint16_t)atoi(colon + 1) : 0;
			}
		} else {
			struct timespec ts = {0, 5000000};
			nanosleep(&ts, NULL);
		}
	}
	close(pipefd[0]);
	return rp->port != 0;
}

static void stop_relay(struct relay_proc *rp)
{
	kill(rp->pid, SIGTERM);
	for (int i = 0; i < 300; i++) {
		if (waitpid(rp->pid, NULL, WNOHANG) == rp->pid)
			return;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	kill(rp->pid, SIGKILL);
	waitpid(rp->pid, NULL, 0);
}

/* CPU time of every thread of pid, in ns: the first field of /proc/PID/task/TID/schedstat (exact, unlike ticks) */
static uint64_t cpu_ns(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	uint64_t total = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p2[128];
		snprintf(p2, sizeof(p2), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
		FILE *f = fopen(p2, "r");
		unsigned long long ns = 0;
		if (f) {
			if (fscanf(f, "%llu", &ns) == 1)
				total += ns;
			fclose(f);
		}
	}
	closedir(d);
	return total;
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

/* --- clients --- */

struct client {
	int fd;
	uint64_t pos;  /* event bytes received (HELO fillers skipped) */
	size_t frame;  /* next frame to complete */
	size_t filler; /* filler bytes still to skip */
	bool stalled;
};

static int connect_client(uint16_t port, bool stalled)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (stalled) {
		int small = 4096;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(0x7f000001);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	net_set_nonblocking(fd);
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	return fd;
}

/* recv with the kernel's receive timestamp of the last segment read (CLOCK_REALTIME, µs; 0 if none came) */
static ssize_t read_stamped(int fd, void *buf, size_t len, uint64_t *kernel_us)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	ssize_t r = recvmsg(fd, &msg, 0);
	*kernel_us = 0;
	for (struct cmsghdr *cm = r > 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			*kernel_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		}
	}
	return r;
}

struct result {
	double p50_us, p99_us, max_us; /* frame delivered: the kernel's receive timestamp */
	double p99_read_us;            /* frame read by the client thread (epoll wake-up + read) */
	size_t frames_measured, frames_missing;
	double cpu_pct;
	long rss_kb;
	bool ok;
};

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

/* The relays' recordings are only load: removed with their folder when the benchmark ends. */
static void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static bool run_one(const char *label, char *const argv_template[], const struct game *g, size_t frames,
		    size_t n_clients, bool with_stalled, struct result *res)
{
	memset(res, 0, sizeof(*res));
	struct feeder fe = {.game = g, .frames = frames};
	fe.write_us = calloc(frames, sizeof(uint64_t));
	uint64_t *last_us = calloc(frames, sizeof(uint64_t));   /* CLOCK_MONOTONIC, when read */
	uint64_t *last_k_us = calloc(frames, sizeof(uint64_t)); /* CLOCK_REALTIME, kernel receive timestamp */
	fe.write_rt_us = calloc(frames, sizeof(uint64_t));
	char err[256];
	fe.listen_fd = net_tcp_listen("127.0.0.1", 0, 4, &fe.port, err, sizeof(err));
	if (fe.listen_fd < 0) {
		fprintf(stderr, "bench_relay: %s\n", err);
		return false;
	}
	pthread_create(&fe.thread, NULL, feeder_run, &fe);
	/* the template's "{FEED}" becomes the feeder's address */
	char *argv[32];
	char feed[64];
	snprintf(feed, sizeof(feed), "127.0.0.1:%u", fe.port);
	char feed_url[80];
	snprintf(feed_url, sizeof(feed_url), "console://127.0.0.1:%u", fe.port);
	size_t ac = 0;
	for (; argv_template[ac] && ac < 31; ac++) {
		if (!strcmp(argv_template[ac], "{FEED}"))
			argv[ac] = feed;
		else if (!strcmp(argv_template[ac], "{FEED_URL}"))
			argv[ac] = feed_url;
		else
			argv[ac] = argv_template[ac];
	}
	argv[ac] = NULL;
	struct relay_proc rp = {0};
	bool ok = spawn_relay(argv, &rp);
	struct client *cl = calloc(n_clients + 1, sizeof(*cl));
	int ep = epoll_create1(0);
	size_t n_all = 0;
	if (ok) {
		uint64_t until = net_now_ms() + 10000;
		while (!atomic_load(&fe.ready) && net_now_ms() < until) {
			struct timespec ts = {0, 2000000};
			nanosleep(&ts, NULL);
		}
		ok = atomic_load(&fe.ready);
	}
	for (size_t i = 0; ok && i < n_clients + (with_stalled ? 1 : 0); i++) {
		bool stalled = i == n_clients;
		cl[i].fd = connect_client(rp.port, stalled);
		cl[i].stalled = stalled;
		if (cl[i].fd < 0) {
			ok = false;
			break;
		}
		n_all++;
		if (!stalled) {
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cl[i]};
			epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev);
		}
	}
	if (!ok) {
		fprintf(stderr, "bench_relay: %s: setup failed\n", label);
		goto done;
	}
	/* let every client settle (andross: raw mode after 250 ms), drain what came before the game */
	struct timespec settle = {0, 600000000};
	nanosleep(&settle, NULL);
	uint8_t buf[65536];
	uint64_t cpu0 = cpu_ns(rp.pid);
	uint64_t t_go = net_now_us();
	atomic_store(&fe.go, true);
	size_t complete = 0;
	uint64_t deadline = net_now_ms() + (uint64_t)((double)frames * 1000.0 / 60.0) + 8000;
	while (complete < n_clients && net_now_ms() < deadline) {
		struct epoll_event evs[64];
		if (read_every_ms) {
			struct timespec ts = {0, (long)read_every_ms * 1000000L};
			nanosleep(&ts, NULL);
		}
		int n = epoll_wait(ep, evs, 64, read_every_ms ? 0 : 50);
		uint64_t now = net_now_us();
		for (int k = 0; k < n; k++) {
			struct client *c = evs[k].data.ptr;
			for (;;) {
				/*
				 * Each read stops at the end of the frame being received, so the kernel's timestamp (that of
				 * the last segment read) is the moment the frame's last byte reached this client's socket.
				 */
				size_t want = sizeof(buf);
				if (c->filler)
					want = c->filler;
				else if (c->frame < frames)
					want = (size_t)(g->frames.offsets[c->frame + 1] - c->pos);
				uint64_t kernel_us = 0;
				ssize_t r = read_stamped(c->fd, buf, want, &kernel_us);
				if (r <= 0) {
					if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
						epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
						if (c->frame < frames)
							complete++; /* lost: counted as missing below */
						c->frame = frames + 1;
					}
					break;
				}
				bool completed = false;
				/* walk the bytes: fillers sit at frame boundaries */
				for (size_t p = 0; p < (size_t)r && c->frame < frames;) {
					if (c->filler) {
						size_t skip = c->filler < (size_t)r - p ? c->filler : (size_t)r - p;
						c->filler -= skip;
						p += skip;
						continue;
					}
					if (c->pos == g->frames.offsets[c->frame] && buf[p] == 'H') {
						c->filler = 5;
						continue;
					}
					uint64_t end = g->frames.offsets[c->frame + 1];
					size_t take = end - c->pos < (size_t)r - p ? (size_t)(end - c->pos)
										   : (size_t)r - p;
					c->pos += take;
					p += take;
					if (c->pos == end) {
						completed = true;
						if (now > last_us[c->frame])
							last_us[c->frame] = now;
						if (kernel_us > last_k_us[c->frame])
							last_k_us[c->frame] = kernel_us;
						if (++c->frame == frames)
							complete++;
					}
				}
				/* a short read emptied the socket, and after a whole frame epoll says if more came */
				if ((size_t)r < want || completed || c->frame >= frames)
					break;
			}
		}
	}
	uint64_t game_us = net_now_us() - t_go;
	while (!atomic_load(&fe.done) && net_now_ms() < deadline + 2000) {
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
	}
	uint64_t cpu1 = cpu_ns(rp.pid);
	res->rss_kb = rss_kb(rp.pid);
	res->cpu_pct = (double)(cpu1 - cpu0) / 1e3 / (double)game_us * 100.0;
	/* latencies of frames every reading client got */
	uint64_t *lat = calloc(frames, sizeof(uint64_t));
	uint64_t *lat_read = calloc(frames, sizeof(uint64_t));
	size_t n_lat = 0, stamp_anomalies = 0;
	for (size_t i = 0; i < frames; i++) {
		bool all = true;
		for (size_t k = 0; k < n_clients; k++)
			if (cl[k].frame <= i || cl[k].frame == frames + 1)
				all = false;
		if (all && fe.write_us[i] && last_us[i] >= fe.write_us[i] && last_k_us[i] >= fe.write_rt_us[i]) {
			lat[n_lat] = last_k_us[i] - fe.write_rt_us[i];
			lat_read[n_lat] = last_us[i] - fe.write_us[i];
			/* a frame cannot be in the socket later than it was read (2 µs: the two clocks' stamps differ) */
			if (lat[n_lat] > lat_read[n_lat] + 2)
				stamp_anomalies++;
			n_lat++;
		} else {
			res->frames_missing++;
		}
	}
	if (stamp_anomalies)
		fprintf(stderr,
			"#   %s: %zu frames have a kernel receive stamp later than their read: the stamps are off\n",
			label, stamp_anomalies);
	if (getenv("BENCH_RELAY_SLOW_US")) {
		uint64_t slow = (uint64_t)atol(getenv("BENCH_RELAY_SLOW_US"));
		for (size_t i = 0; i < frames; i++)
			if (last_k_us[i] - fe.write_rt_us[i] > slow)
				fprintf(stderr, "#   %s: frame %zu (%zu bytes) at +%.3f s: %" PRIu64 " us\n", label, i,
					g->frames.offsets[i + 1] - g->frames.offsets[i],
					(double)(fe.write_us[i] - t_go) / 1e6, last_k_us[i] - fe.write_rt_us[i]);
	}
	qsort(lat_read, n_lat, sizeof(*lat_read), cmp_u64);
	if (n_lat)
		res->p99_read_us = (double)lat_read[(n_lat * 99) / 100 < n_lat ? (n_lat * 99) / 100 : n_lat - 1];
	free(lat_read);
	qsort(lat, n_lat, sizeof(*lat), cmp_u64);
	res->frames_measured = n_lat;
	if (n_lat) {
		res->p50_us = (double)lat[n_lat / 2];
		res->p99_us = (double)lat[(n_lat * 99) / 100 < n_lat ? (n_lat * 99) / 100 : n_lat - 1];
		res->max_us = (double)lat[n_lat - 1];
	}
	res->ok = n_lat > 0;
	free(lat);
done:
	atomic_store(&fe.quit, true);
	pthread_join(fe.thread, NULL);
	if (rp.pid > 0)
		stop_relay(&rp);
	for (size_t i = 0; i < n_all; i++)
		close(cl[i].fd);
	close(ep);
	net_close(fe.listen_fd);
	free(cl);
	free(fe.write_us);
	free(fe.write_rt_us);
	free(last_us);
	free(last_k_us);
	return res->ok;
}

static double median_of(const struct result *runs, size_t n, size_t field_offset)
{
	double v[MAX_REPEAT];
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (runs[i].ok)
			v[k++] = *(const double *)((const char *)&runs[i] + field_offset);
	for (size_t i = 1; i < k; i++) /* insertion sort: a handful of values */
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return k ? (k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2) : 0;
}

/* Each column's median over the runs that worked; missing frames are summed. */
static void median_result(const struct result *runs, size_t n, struct result *m)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		m->ok |= runs[i].ok;
		m->frames_missing += runs[i].frames_missing;
	}
	m->p50_us = median_of(runs, n, offsetof(struct result, p50_us));
	m->p99_us = median_of(runs, n, offsetof(struct result, p99_us));
	m->max_us = median_of(runs, n, offsetof(struct result, max_us));
	m->p99_read_us = median_of(runs, n, offsetof(struct result, p99_read_us));
	m->cpu_pct = median_of(runs, n, offsetof(struct result, cpu_pct));
}

static void print_row(const char *relay, const char *scenario, size_t n, const struct result *r)
{
	if (!r->ok) {
		printf("| %-22s | %-16s | %4zu | %10s | %10s | %10s | %10s | %7s | %8s |\n", relay, scenario, n,
		       "failed", "", "", "", "", "");
		return;
	}
	printf("| %-22s | %-16s | %4zu | %10.0f | %10.0f | %10.0f | %10.0f | %7zu | %7.2f%% |\n", relay, scenario, n,
	       r->p50_us, r->p99_us, r->max_us, r->p99_read_us, r->frames_missing, r->cpu_pct);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *tool = NULL, *launcher = NULL, *replay = NULL, *node = "node", *clients_arg = "1,16,64,256";
	const char *only = NULL, *floor = NULL;
	size_t frames = 600, repeat = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--tool"))
			tool = argv[i + 1];
		else if (!strcmp(argv[i], "--launcher"))
			launcher = argv[i + 1];
		else if (!strcmp(argv[i], "--replay"))
			replay = argv[i + 1];
		else if (!strcmp(argv[i], "--node"))
			node = argv[i + 1];
		else if (!strcmp(argv[i], "--frames"))
			frames = (size_t)atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--clients"))
			clients_arg = argv[i + 1];
		else if (!strcmp(argv[i], "--only"))
			only = argv[i + 1];
		else if (!strcmp(argv[i], "--floor"))
			floor = argv[i + 1];
		else if (!strcmp(argv[i], "--repeat"))
			repeat = (size_t)atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--read-every-ms"))
			read_every_ms = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--pin"))
			pin_cpus = !strcmp(argv[i + 1], "on");
	}
	if (pin_cpus) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(1, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			pin_cpus = false;
	}
	if (repeat < 1 || repeat > MAX_REPEAT)
		repeat = repeat < 1 ? 1 : MAX_REPEAT;
	if (!tool || !replay) {
		fprintf(stderr,
			"usage: bench_relay --tool ANDROSS --replay FILE.slp [--launcher launcher_like_relay.mjs]\n"
			"                   [--frames N] [--clients 1,16,64,256] [--node node] [--only andross|node|floor]\n"
			"                   [--floor floor_relay] [--repeat K] [--read-every-ms MS] [--pin on|off]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct game g;
	if (!load_game(replay, &g))
		return 0; /* a benchmark never fails a build */
	if (frames + 1 > g.frames.count - 1)
		frames = g.frames.count - 2;
	char out_a[] = "/tmp/andross-bench-relay-XXXXXX";
	char out_n[] = "/tmp/andross-bench-node-XXXXXX";
	if (!mkdtemp(out_a) || !mkdtemp(out_n))
		return 0;
	char *andross_argv[] = {(char *)tool,    "relay", "--source", "{FEED_URL}", "--listen", "127.0.0.1:0",
				"--max-clients", "600",   "--out",    out_a,        NULL};
	char *node_argv[] = {(char *)node,  (char *)launcher, "--upstream", "{FEED}", "--listen",
			     "127.0.0.1:0", "--out",          out_n,        NULL};
	if (getenv("BENCH_RELAY_NO_OUT")) /* to see what recording costs */
		andross_argv[8] = NULL;
	bool do_andross = !only || !strcmp(only, "andross");
	bool do_node = launcher && (!only || !strcmp(only, "node"));

	printf("# relay benchmark: %zu frames at 60 fps of %s per run; latency = feeder write -> the frame's last byte "
	       "is in the last client's socket (kernel receive timestamp); p99 read = the same until the client's "
	       "thread has read it\n# command:",
	       frames, replay);
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n\n| relay                  | scenario         | N    | p50 (µs)   | p99 (µs)   | max (µs)   | p99 read   | "
	       "missing | CPU      |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
	size_t counts[16], n_counts = 0;
	for (const char *p = clients_arg; *p && n_counts < 16;) {
		counts[n_counts++] = (size_t)strtoul(p, (char **)&p, 10);
		if (*p == ',')
			p++;
		else
			break;
	}
	/* scenarios in the order they run; each is run `repeat` times, andross and Node alternating */
	struct scenario {
		const char *name;
		size_t n;
		bool stalled;
		struct result runs[3][MAX_REPEAT]; /* [0] andross, [1] Node, [2] the floor */
	} sc[20];
	size_t n_sc = 0;
	for (size_t i = 0; i < n_counts && n_sc < 17; i++)
		if (counts[i] <= MAX_CLIENTS)
			sc[n_sc++] = (struct scenario){.name = "all reading", .n = counts[i]};
	sc[n_sc++] = (struct scenario){.name = "+1 stalled", .n = 64, .stalled = true};
	sc[n_sc++] = (struct scenario){.name = "CPU, 8 clients", .n = 8};
	const char *relay_name[3] = {"andross relay", "Launcher-like (Node)", "floor (sends only)"};
	char *floor_argv[] = {(char *)floor, "{FEED}", NULL};
	char **relay_argv[3] = {andross_argv, node_argv, floor_argv};
	bool relay_on[3] = {do_andross, do_node, floor && (!only || !strcmp(only, "floor"))};
	long rss[3] = {0, 0, 0};
	for (size_t i = 0; i < n_sc; i++) {
		for (size_t k = 0; k < repeat; k++) {
			for (int w = 0; w < 3; w++) {
				if (!relay_on[w])
					continue;
				struct result *r = &sc[i].runs[w][k];
				static const char *const label[3] = {"andross", "node", "floor"};
				run_one(label[w], relay_argv[w], &g, frames, sc[i].n, sc[i].stalled, r);
				print_row(relay_name[w], sc[i].name, sc[i].n, r);
				if (!strcmp(sc[i].name, "CPU, 8 clients") && r->rss_kb > rss[w])
					rss[w] = r->rss_kb;
			}
		}
	}
	for (int w = 0; w < 3; w++)
		if (relay_on[w])
			printf("#   %s peak RSS (8 clients): %ld KiB\n", relay_name[w], rss[w]);
	if (repeat > 1) {
		printf("\nMedian of %zu runs (each column on its own):\n\n| relay                  | scenario         | N    | "
		       "p50 (µs)   | p99 (µs)   | max (µs)   | p99 read   | missing | CPU      |\n"
		       "|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
		       repeat);
		for (size_t i = 0; i < n_sc; i++)
			for (int w = 0; w < 3; w++)
				if (relay_on[w]) {
					struct result m;
					median_result(sc[i].runs[w], repeat, &m);
					print_row(relay_name[w], sc[i].name, sc[i].n, &m);
				}
	}
	printf("\nCPU = the relay process's CPU time (all threads, /proc/PID/task/*/schedstat) per second of game, "
	       "100%% = one core.\n");
	remove_tree(out_a);
	remove_tree(out_n);
	bytes_free(&g.file);
	slp_frame_cuts_free(&g.frames);
	return 0;
}
