/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `andross record` and `andross relay --out` when games cannot be written: a full disk (a 64 KiB tmpfs, mounted in
 * a private mount namespace so it vanishes with the test), a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) and a
 * folder the tool may not write to (run as nobody when the test runs as root). Each must exit 1, say once per
 * game which file and why, leave no empty file, and leave any partial file repairable.
 * Usage: test_record_disk [PATH/TO/andross]
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "live_util.h"
#include "slp_file.h"
#include "slp_reader.h"
#include "slp_splitter.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *tool;

#define SKIP_STATUS 77 /* the helper could not set up what the test needs (no mount namespace, no such user) */

/* Three games that end with a Game End (for --games 3): about 117 KB, 111 KB and 2.4 MB. */
static const char *const three_games[] = {"v3.13.slp", "unranked_game1.slp", "200306_2258_Falco_v_Fox_PS.slp"};

struct sim {
	struct child c;
	uint16_t port;
	char log[1200];
};

static void start_sim(struct sim *s, const char *dir)
{
	char paths[3][1024];
	char *argv[16];
	size_t k = 0;
	argv[k++] = (char *)tool;
	argv[k++] = "console-sim";
	for (int i = 0; i < 3; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", ANDROSS_REPLAY_DIR, three_games[i]);
		argv[k++] = "--replay";
		argv[k++] = paths[i];
	}
	argv[k++] = "--listen";
	argv[k++] = "127.0.0.1:0";
	argv[k++] = "--speed";
	argv[k++] = "max";
	argv[k++] = "--broadcast";
	argv[k++] = "off";
	argv[k] = NULL;
	snprintf(s->log, sizeof(s->log), "%s/sim.log", dir);
	assert_true(lu_spawn(&s->c, argv, true, s->log));
	s->port = lu_read_listen_port(&s->c, 10000);
	assert_int_not_equal(s->port, 0);
}

static void stop_sim(struct sim *s)
{
	lu_signal(&s->c, SIGTERM);
	lu_wait(&s->c, 10000);
}

/* How the tool is run. */
struct limits {
	rlim_t file_size;  /* RLIMIT_FSIZE; 0: none */
	bool as_nobody;    /* drop root to nobody first (a 0555 folder stops nobody, not root) */
	const char *tmpfs; /* mount a 64 KiB tmpfs here, in a mount namespace of the run's own */
};

struct run {
	int status; /* the tool's exit code; SKIP_STATUS when the setup was not possible */
	char err[1 << 16];
	size_t err_len;
	pid_t holder; /* with tmpfs: the process that keeps the namespace (and its files) until run_release */
	int release_fd;
	char root[64]; /* the prefix that reaches the run's files: "" or /proc/PID/root */
};

/* Reads the tool's stderr until it closes, or until timeout_ms have passed. */
static void read_all(int fd, struct run *r, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms && r->err_len < sizeof(r->err) - 1;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int ready = poll(&pfd, 1, 100);
		if (ready == 0) {
			waited += 100;
			continue;
		}
		ssize_t n = read(fd, r->err + r->err_len, sizeof(r->err) - 1 - r->err_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r->err_len += (size_t)n;
	}
	r->err[r->err_len] = 0;
}

/* In a forked child: the limits, stderr to err_fd, then the tool. Never returns. */
static void exec_tool(char *const argv[], const struct limits *lim, int err_fd)
{
	dup2(err_fd, 2);
	int null = open("/dev/null", O_WRONLY);
	if (null >= 0)
		dup2(null, 1);
	if (lim->file_size) {
		signal(SIGXFSZ, SIG_IGN); /* a write past the limit then fails with EFBIG */
		struct rlimit rl;
		getrlimit(RLIMIT_FSIZE, &rl);
		rl.rlim_cur = lim->file_size;
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(SKIP_STATUS);
	}
	if (lim->as_nobody && geteuid() == 0 &&
	    (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0 || geteuid() == 0))
		_exit(SKIP_STATUS);
	execv(argv[0], argv);
	_exit(SKIP_STATUS); /* nobody may not run the tool from here */
}

/* Runs the tool to its end (at most timeout_ms) and collects its stderr. */
static void run_tool(char *const argv[], const struct limits *lim, int timeout_ms, struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->release_fd = -1;
	int err[2], st[2] = {-1, -1}, rel[2] = {-1, -1};
	assert_int_equal(pipe(err), 0);
	if (lim->tmpfs) {
		assert_int_equal(pipe(st), 0);
		assert_int_equal(pipe(rel), 0);
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(err[0]);
		if (!lim->tmpfs)
			exec_tool(argv, lim, err[1]);
		/* the holder: a namespace of its own with the tmpfs, the tool in it, then wait to be released */
		close(st[0]);
		close(rel[1]);
		int status = SKIP_STATUS;
		if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
		    mount("tmpfs", lim->tmpfs, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") == 0) {
			pid_t t = fork();
			if (t == 0)
				exec_tool(argv, lim, err[1]);
			close(err[1]);
			struct child tc = {.pid = t, .out_fd = -1};
			status = t > 0 ? lu_wait(&tc, timeout_ms) : -1;
		}
		close(err[1]);
		if (write(st[1], &status, sizeof(status)) != (ssize_t)sizeof(status))
			_exit(1);
		char b;
		while (read(rel[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(err[1]);
	read_all(err[0], r, timeout_ms);
	close(err[0]);
	if (!lim->tmpfs) {
		struct child c = {.pid = pid, .out_fd = -1};
		r->status = lu_wait(&c, timeout_ms);
		return;
	}
	close(st[1]);
	close(rel[0]);
	int status = -1;
	assert_int_equal(read(st[0], &status, sizeof(status)), (ssize_t)sizeof(status));
	close(st[0]);
	r->status = status;
	r->holder = pid;
	r->release_fd = rel[1];
	snprintf(r->root, sizeof(r->root), "/proc/%d/root", (int)pid);
}

/* Lets the tmpfs holder go: its namespace and the tmpfs with it. */
static void run_release(struct run *r)
{
	if (r->release_fd >= 0)
		close(r->release_fd);
	r->release_fd = -1;
	if (r->holder > 0) {
		int ws;
		waitpid(r->holder, &ws, 0);
	}
	r->holder = 0;
}

static size_t count_lines(const char *text, const char *a, const char *b)
{
	size_t n = 0;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[2048];
		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1), line);
		if (strstr(buf, a) && (!b || strstr(buf, b)))
			n++;
		line += len + (end ? 1 : 0);
	}
	return n;
}

struct found {
	size_t files, empty;
	char paths[8][2048];
	off_t sizes[8];
};

static void list_files(const char *dir, struct found *f)
{
	memset(f, 0, sizeof(*f));
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[2048];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!st.st_size)
			f->empty++;
		if (f->files < 8) {
			snprintf(f->paths[f->files], sizeof(f->paths[0]), "%s", path);
			f->sizes[f->files] = st.st_size;
		}
		f->files++;
	}
	closedir(d);
}

/* The bytes of the stream's whole events. */
static size_t whole_events(const uint8_t *ev, size_t len)
{
	struct slp_splitter s;
	slp_splitter_init(&s);
	size_t whole = 0;
	for (size_t i = 0; i < len; i++) {
		if (slp_splitter_feed(&s, ev + i, 1, NULL, NULL) < 0)
			break;
		if (!slp_splitter_pending_bytes(&s))
			whole = i + 1;
	}
	slp_splitter_free(&s);
	return whole;
}

/*
 * A partial file: an unfinished game that begins like the replay, with its Event Payloads and Game Start at least;
 * a copy of it (the original may sit on a full disk) is repaired into a finished file with those whole events.
 */
static void check_partial(const char *path, const char *replay, const char *work_dir)
{
	struct bytes file, game;
	const uint8_t *gev, *fev;
	size_t glen, flen;
	assert_true(lu_replay_events(replay, &game, &gev, &glen));
	assert_true(lu_slp_events(path, &file, &fev, &flen));
	size_t whole = whole_events(fev, flen);
	size_t ep = 1 + (size_t)gev[1];
	bool declared[256];
	uint16_t payload[256];
	char err[512];
	assert_int_equal(slp_parse_event_payloads(gev, ep, declared, payload, err, sizeof(err)), 0);
	assert_true(whole >= ep + 1 + payload[SLP_CMD_GAME_START]); /* the Event Payloads and Game Start at least */
	assert_true(whole < glen);
	assert_memory_equal(fev, gev, whole);
	char copy[1300];
	snprintf(copy, sizeof(copy), "%s/partial-copy.slp", work_dir);
	FILE *o = fopen(copy, "wb");
	assert_non_null(o);
	assert_int_equal(fwrite(file.data, 1, file.len, o), file.len);
	assert_int_equal(fclose(o), 0);
	struct slp_repair_result res;
	if (slp_file_repair(copy, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "repair: %s\n", err);
		fail();
	}
	bytes_free(&file);
	assert_true(lu_slp_events(copy, &file, &fev, &flen));
	struct slp_container c;
	assert_int_equal(slp_container_parse(file.data, file.len, &c, err, sizeof(err)), 0);
	assert_false(c.in_progress);
	assert_true(c.has_metadata);
	assert_int_equal(flen, whole);
	assert_memory_equal(fev, gev, whole);
	assert_true(lu_inspect_ok(tool, copy));
	bytes_free(&file);
	bytes_free(&game);
}

/* `record --games 3` from the simulator into out, with the given limits. */
static void record_three(const char *dir, const char *out, const struct limits *lim, struct run *r)
{
	struct sim s;
	start_sim(&s, dir);
	char url[64];
	snprintf(url, sizeof(url), "console://127.0.0.1:%u", s.port);
	char *argv[] = {(char *)tool, "record", "--source", url, "--out", (char *)out, "--games", "3", NULL};
	run_tool(argv, lim, 60000, r);
	stop_sim(&s);
	fprintf(stderr, "--- record stderr (exit %d)\n%s---\n", r->status, r->err);
}

static void test_full_disk(void **state)
{
	(void)state;
	char dir[1024], out[1100];
	lu_temp_dir("disk-full", dir, sizeof(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	assert_int_equal(mkdir(out, 0755), 0);
	struct limits lim = {.tmpfs = out};
	struct run r;
	record_three(dir, out, &lim, &r);
	if (r.status == SKIP_STATUS) {
		run_release(&r);
		fprintf(stderr, "no private mount namespace with a tmpfs here: skipped\n");
		skip();
	}
	/* the first game fills the disk; the next two find no room even for a header */
	char seen[1300];
	snprintf(seen, sizeof(seen), "%s%s", r.root, out);
	struct found f;
	list_files(seen, &f);
	char copy_dir[1100];
	snprintf(copy_dir, sizeof(copy_dir), "%s", dir);
	if (f.files == 1 && !f.empty)
		check_partial(f.paths[0], three_games[0], copy_dir);
	run_release(&r);
	assert_int_equal(r.status, 1);
	assert_int_equal(f.empty, 0);
	assert_int_equal(f.files, 1);
	assert_int_equal(count_lines(r.err, "andross: warning: ", strerror(ENOSPC)), 3);
	assert_int_equal(count_lines(r.err, "andross: warning: ", out), 3);
	assert_int_equal(count_lines(r.err, "the file keeps what it holds", NULL), 1);
	assert_int_equal(count_lines(r.err, "the file was removed", NULL), 2);
	assert_int_equal(count_lines(r.err, "andross: record: 3 games could not be written whole", NULL), 1);
	assert_int_equal(count_lines(r.err, "wrote ", NULL), 0);
}

static void test_a_file_size_limit(void **state)
{
	(void)state;
	char dir[1024], out[1100];
	lu_temp_dir("disk-limit", dir, sizeof(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	/* the first two games fit, the third does not */
	struct limits lim = {.file_size = 150000};
	struct run r;
	record_three(dir, out, &lim, &r);
	assert_int_not_equal(r.status, SKIP_STATUS);
	assert_int_equal(r.status, 1);
	struct found f;
	list_files(out, &f);
	assert_int_equal(f.files, 3);
	assert_int_equal(f.empty, 0);
	assert_int_equal(count_lines(r.err, "wrote ", NULL), 2);
	assert_int_equal(count_lines(r.err, "andross: warning: ", strerror(EFBIG)), 1);
	assert_int_equal(count_lines(r.err, "andross: record: 1 game could not be written whole", NULL), 1);
	size_t partial = 0;
	for (size_t i = 0; i < f.files; i++) {
		if (!count_lines(r.err, "andross: warning: ", f.paths[i]))
			continue;
		partial++;
		assert_true(f.sizes[i] <= 150000);
		check_partial(f.paths[i], three_games[2], dir);
	}
	assert_int_equal(partial, 1);
}

static void test_a_folder_the_tool_may_not_write(void **state)
{
	(void)state;
	char dir[1024], out[1100];
	lu_temp_dir("disk-readonly", dir, sizeof(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(chmod(out, 0555), 0);
	struct limits lim = {.as_nobody = true};
	struct run r;
	record_three(dir, out, &lim, &r);
	chmod(out, 0755);
	if (r.status == SKIP_STATUS) {
		fprintf(stderr, "cannot run the tool as nobody here: skipped\n");
		skip();
	}
	assert_int_equal(r.status, 1);
	struct found f;
	list_files(out, &f);
	assert_int_equal(f.files, 0);
	assert_int_equal(count_lines(r.err, "andross: warning: ", strerror(EACCES)), 3);
	assert_int_equal(count_lines(r.err, "andross: warning: ", out), 3);
	assert_int_equal(count_lines(r.err, "andross: record: 3 games could not be written whole", NULL), 1);
}

static void test_relay_out_exits_1_too(void **state)
{
	(void)state;
	char dir[1024], out[1100], replay[1024];
	lu_temp_dir("disk-relay", dir, sizeof(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(replay, sizeof(replay), "%s/v3.13.slp", ANDROSS_REPLAY_DIR);
	char *argv[] = {(char *)tool, "relay", "--source", replay, "--listen", "127.0.0.1:0", "--out", out, NULL};
	struct limits lim = {.file_size = 10}; /* not even a header fits */
	struct run r;
	run_tool(argv, &lim, 30000, &r);
	fprintf(stderr, "--- relay stderr (exit %d)\n%s---\n", r.status, r.err);
	assert_int_not_equal(r.status, SKIP_STATUS);
	assert_int_equal(r.status, 1);
	struct found f;
	list_files(out, &f);
	assert_int_equal(f.files, 0);
	assert_int_equal(count_lines(r.err, "cannot write the header", strerror(EFBIG)), 1);
	assert_int_equal(count_lines(r.err, "andross: relay: 1 game could not be written whole", NULL), 1);
}

int main(int argc, char **argv)
{
	tool = argc > 1 ? argv[1] : ANDROSS_TOOL;
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_disk),
		cmocka_unit_test(test_a_file_size_limit),
		cmocka_unit_test(test_a_folder_the_tool_may_not_write),
		cmocka_unit_test(test_relay_out_exits_1_too),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
