/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slp_file.h"
#include "slp_game.h"
#include "slp_reader.h"
#include "utf8.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_BUFFER_LIMIT (64u * 1024u * 1024u)

static int fail(struct slp_file_writer *w, const char *what)
{
	snprintf(w->error, sizeof(w->error), "%s: %s (%s)", w->path, what, strerror(errno));
	w->failed = true;
	return -1;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pwrite_all(int fd, const uint8_t *data, size_t len, off_t offset)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, data, len, offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
		offset += n;
	}
	return 0;
}

int slp_file_open(struct slp_file_writer *w, const char *dir, const char *name, const struct timespec *start,
		  const char *console_nick)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	bytes_init(&w->buffer, WRITE_BUFFER_LIMIT);
	slp_meta_init(&w->meta, start, console_nick, "network");
	struct tm tm;
	time_t secs = start->tv_sec;
	localtime_r(&secs, &tm);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "Game_%Y%m%dT%H%M%S", &tm);
	const char *base = name && *name ? name : stamp;
	for (int attempt = 1; attempt < 1000; attempt++) {
		if (attempt == 1)
			snprintf(w->path, sizeof(w->path), "%s/%s.slp", dir, base);
		else
			snprintf(w->path, sizeof(w->path), "%s/%s_%d.slp", dir, base, attempt);
		w->fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (w->fd >= 0)
			break;
		if (errno != EEXIST)
			return fail(w, "cannot create the replay file");
	}
	if (w->fd < 0)
		return fail(w, "no free file name");
	/* Held until close: a repair run meanwhile sees it and refuses rather than rename a new file over this one.
	 * Only a repair that raced this open can hold it, and it lets go at once on an empty file. A file system
	 * without locks still records. */
	while (flock(w->fd, LOCK_EX) < 0 && errno == EINTR)
		;
	uint8_t header[SLP_HEADER_SIZE];
	memcpy(header, slp_header_signature, sizeof(slp_header_signature));
	memset(header + SLP_RAW_LENGTH_OFFSET, 0, 4);
	if (write_all(w->fd, header, sizeof(header)) < 0)
		return fail(w, "cannot write the header");
	return 0;
}

int slp_file_write_event(struct slp_file_writer *w, const struct slp_event *ev)
{
	if (w->fd < 0 || w->failed)
		return -1;
	if (ev->reassembled)
		return 0;
	if (w->finished) {
		/* more of a game already finished: take the footer off again */
		if (ftruncate(w->fd, (off_t)(SLP_HEADER_SIZE + w->raw_bytes)) < 0 || lseek(w->fd, 0, SEEK_END) < 0)
			return fail(w, "cannot reopen the finished replay");
		w->finished = false;
	}
	if (!bytes_append(&w->buffer, ev->data, ev->size)) {
		/* the buffer is full: write what we hold, then retry once */
		if (slp_file_flush(w) < 0 || !bytes_append(&w->buffer, ev->data, ev->size)) {
			errno = ENOMEM;
			return fail(w, "cannot buffer an event");
		}
	}
	w->raw_bytes += ev->size;
	slp_meta_handle(&w->meta, ev);
	return 0;
}

int slp_file_flush(struct slp_file_writer *w)
{
	if (w->fd < 0 || w->failed)
		return -1;
	if (!w->buffer.len)
		return 0;
	if (write_all(w->fd, w->buffer.data, w->buffer.len) < 0)
		return fail(w, "cannot write events");
	bytes_clear(&w->buffer);
	return 0;
}

int slp_file_finish(struct slp_file_writer *w)
{
	if (w->fd < 0 || w->failed)
		return -1;
	if (w->finished)
		return 0;
	if (slp_file_flush(w) < 0)
		return -1;
	if (w->raw_bytes > UINT32_MAX) {
		errno = EFBIG;
		return fail(w, "the game is larger than a .slp file can hold");
	}
	struct bytes footer;
	bytes_init(&footer, 1u << 20);
	bool ok = slp_meta_encode_footer(&w->meta, &footer);
	int rc = ok ? write_all(w->fd, footer.data, footer.len) : -1;
	bytes_free(&footer);
	if (rc < 0)
		return fail(w, "cannot write the metadata");
	uint8_t len[4];
	wr_u32be(len, (uint32_t)w->raw_bytes);
	if (pwrite_all(w->fd, len, 4, SLP_RAW_LENGTH_OFFSET) < 0)
		return fail(w, "cannot patch the raw length");
	fsync(w->fd);
	w->finished = true;
	return 0;
}

void slp_file_close(struct slp_file_writer *w)
{
	if (w->fd >= 0) {
		if (!w->failed)
			slp_file_flush(w);
		close(w->fd);
	}
	w->fd = -1;
	bytes_free(&w->buffer);
}

/* ---- reading ---- */

static const char *file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a plain file";
}

/* fstat, and only a regular file goes on: reading a FIFO or a device could block forever or never end. */
static int check_regular(int fd, const char *path, struct stat *st, char *err, size_t err_size)
{
	if (fstat(fd, st) < 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, err_size, "%s: not a regular file (%s)", path, file_kind(st->st_mode));
		return -1;
	}
	return 0;
}

/* Opens without waiting: O_NONBLOCK keeps open() of a FIFO from blocking until a writer comes; it is cleared
 * again once fstat has shown a regular file. */
static int open_nonblocking(const char *path, int flags)
{
	return open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

static void clear_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* Reads the rest of a regular file that fstat gave st_size bytes, keeping to max_bytes. */
static int read_whole_fd(int fd, const char *path, off_t st_size, size_t max_bytes, struct bytes *out, char *err,
			 size_t err_size)
{
	bytes_init(out, max_bytes);
	if ((uint64_t)st_size > max_bytes) {
		snprintf(err, err_size, "%s: %lld bytes is more than the %zu this reads", path, (long long)st_size,
			 max_bytes);
		return -1;
	}
	/* room for the whole file plus one byte, so a file that grew since fstat is noticed */
	size_t want = (size_t)st_size + 1;
	if (!bytes_reserve(out, want > max_bytes ? (size_t)st_size : want)) {
		snprintf(err, err_size, "%s: out of memory for %lld bytes", path, (long long)st_size);
		return -1;
	}
	for (;;) {
		if (out->len == out->cap &&
		    !bytes_reserve(out, 65536 < max_bytes - out->len ? 65536 : max_bytes - out->len)) {
			snprintf(err, err_size, "%s: out of memory while reading", path);
			bytes_free(out);
			return -1;
		}
		if (out->len == out->cap) {
			/* at the limit: anything more is too much */
			uint8_t probe;
			ssize_t extra = read(fd, &probe, 1);
			if (extra > 0) {
				snprintf(err, err_size, "%s: grew past %zu bytes while reading", path, max_bytes);
				bytes_free(out);
				return -1;
			}
			break;
		}
		ssize_t n = read(fd, out->data + out->len, out->cap - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, err_size, "%s: %s", path, strerror(errno));
			bytes_free(out);
			return -1;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	return 0;
}

int slp_file_make_dirs(const char *path)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

void slp_file_safe_name(char *dst, size_t dst_size, const char *name, const char *fallback)
{
	char whole[256];
	utf8_truncate(whole, dst_size < sizeof(whole) ? dst_size : sizeof(whole), name ? name : "");
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)whole; *p; p++) {
		unsigned char c = *p;
		bool bad = c < 0x20 || c == 0x7f || strchr("/\\:*?\"<>|", c);
		if (n == 0 && (c == '.' || c == ' '))
			continue; /* no hidden folder, no leading space */
		dst[n++] = bad ? '_' : (char)c;
	}
	while (n > 0 && (dst[n - 1] == '.' || dst[n - 1] == ' '))
		n--; /* Windows drops them and then finds another folder */
	dst[n] = 0;
	if (!n)
		snprintf(dst, dst_size, "%s", fallback ? fallback : "");
}

int slp_read_whole_file(const char *path, size_t max_bytes, struct bytes *out, char *err, size_t err_size)
{
	bytes_init(out, max_bytes);
	int fd = open_nonblocking(path, O_RDONLY);
	if (fd < 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (check_regular(fd, path, &st, err, err_size) < 0) {
		close(fd);
		return -1;
	}
	clear_nonblocking(fd);
	int rc = read_whole_fd(fd, path, st.st_size, max_bytes, out, err, err_size);
	close(fd);
	return rc;
}

/* ---- the scan: what the bytes hold, without trusting the raw length ---- */

struct scan_state {
	struct slp_file_scan *out;
	struct slp_splitter *splitter;
	struct slp_game *game;
	struct slp_meta *meta;
	uint8_t last_code;
	bool raw_length_on_boundary;
};

static int scan_stop(struct scan_state *st, const char *what, uint64_t offset)
{
	snprintf(st->out->stop_reason, sizeof(st->out->stop_reason), "%s at stream byte %llu", what,
		 (unsigned long long)offset);
	st->out->stop = SLP_SCAN_INVALID;
	return 1;
}

static int scan_on_event(void *ud, const struct slp_event *ev)
{
	struct scan_state *st = ud;
	struct slp_file_scan *out = st->out;
	if (ev->reassembled)
		return 0;
	/* a file holds one game of wire events: Slippi's readers stop at a relay's filler or a second table */
	if (st->splitter->fillers)
		return scan_stop(st, "a relay's keepalive filler (HELO), which no replay holds,", out->valid_bytes);
	if (ev->code == SLP_CMD_EVENT_PAYLOADS && out->valid_events > 0) {
		out->second_game = true;
		return scan_stop(st, "a second game's Event Payloads", ev->offset);
	}
	if (slp_game_handle(st->game, ev) < 0) {
		snprintf(out->stop_reason, sizeof(out->stop_reason), "%s", st->game->error);
		out->stop = SLP_SCAN_INVALID;
		return 1;
	}
	if (st->meta)
		slp_meta_handle(st->meta, ev);
	out->valid_bytes = ev->offset + ev->size;
	out->valid_events++;
	st->last_code = ev->code;
	if (ev->code == SLP_CMD_GAME_START)
		out->has_game_start = true;
	if (out->raw_length && out->valid_bytes == out->raw_length) {
		st->raw_length_on_boundary = true;
		out->events_in_raw_length = out->valid_events;
	}
	return 0;
}

/* Whether a fresh splitter takes these bytes without an error. */
static bool splitter_accepts(const uint8_t *events, size_t len)
{
	struct slp_splitter s;
	slp_splitter_init(&s);
	int rc = slp_splitter_feed(&s, events, len, NULL, NULL);
	slp_splitter_free(&s);
	return rc == 0;
}

int slp_file_scan(const uint8_t *file, size_t size, struct slp_meta *meta, struct slp_file_scan *out, char *err,
		  size_t err_size)
{
	memset(out, 0, sizeof(*out));
	struct slp_container c;
	if (slp_container_parse(file, size, &c, err, err_size) < 0 && c.events_offset == 0)
		return -1;
	if (err_size)
		err[0] = 0; /* what the container says of the raw length is for the scan to find out */
	out->raw_length = rd_u32be(file + SLP_RAW_LENGTH_OFFSET);
	const uint8_t *events = file + SLP_HEADER_SIZE;
	size_t len = size - SLP_HEADER_SIZE;

	struct slp_game game;
	slp_game_init(&game, NULL, NULL);
	struct slp_splitter s;
	slp_splitter_init(&s);
	struct scan_state st = {.out = out, .splitter = &s, .game = &game, .meta = meta};
	int rc = slp_splitter_feed(&s, events, len, scan_on_event, &st);
	if (rc < 0) {
		/* The splitter checks a Message Splitter chunk after handing it over: when it failed right after one,
		 * the chunk itself may be the bad event. The prefix it ends decides. */
		if (st.last_code == SLP_CMD_MESSAGE_SPLITTER && !splitter_accepts(events, (size_t)out->valid_bytes)) {
			uint64_t chunk = (uint64_t)s.payload_size[SLP_CMD_MESSAGE_SPLITTER] + 1;
			if (st.raw_length_on_boundary && out->raw_length == out->valid_bytes)
				st.raw_length_on_boundary = false;
			out->valid_bytes -= chunk;
			out->valid_events--;
		}
		snprintf(out->stop_reason, sizeof(out->stop_reason), "%s", s.error);
		out->stop = SLP_SCAN_INVALID;
	} else if (rc == 0 && s.fillers) {
		scan_stop(&st, "a relay's keepalive filler (HELO), which no replay holds,", out->valid_bytes);
	} else if (rc == 0) {
		out->stop = slp_splitter_pending_bytes(&s) ? SLP_SCAN_PARTIAL : SLP_SCAN_END_OF_FILE;
	}
	slp_splitter_free(&s);

	char ferr[192];
	size_t value_off, value_size;
	bool closed;
	if (out->raw_length && st.raw_length_on_boundary) {
		size_t off = SLP_HEADER_SIZE + (size_t)out->raw_length;
		if (off < size && file[off] == '}') {
			out->stored_complete = true; /* the variant without a metadata key */
			out->trailing_bytes = size - off - 1;
		} else if (slp_container_parse_footer(file, size, off, &value_off, &value_size, &closed, ferr,
						      sizeof(ferr)) == 0 &&
			   closed) {
			out->stored_complete = true;
			out->stored_has_metadata = true;
			out->trailing_bytes = size - (value_off + value_size) - 1;
		}
	}
	if (out->valid_bytes && slp_container_parse_footer(file, size, SLP_HEADER_SIZE + (size_t)out->valid_bytes,
							   &value_off, &value_size, &closed, ferr, sizeof(ferr)) == 0) {
		out->footer_after_events = true;
		out->footer_closed = closed;
		out->metadata_offset = value_off;
		out->metadata_size = value_size;
	}
	return 0;
}

/* ---- repair ---- */

/* Whether bytes are a finished replay that needs nothing: all of its events valid, with metadata. */
static bool reads_back_finished(const uint8_t *file, size_t size, uint64_t events)
{
	struct slp_file_scan check;
	char err[192];
	return slp_file_scan(file, size, NULL, &check, err, sizeof(err)) == 0 && check.stored_complete &&
	       check.stored_has_metadata && check.events_in_raw_length == events && check.has_game_start;
}

static int refuse(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return -1;
}

int slp_file_repair_buffer(const uint8_t *file, size_t size, const struct timespec *start, struct bytes *out,
			   struct slp_repair_result *result, char *err, size_t err_size)
{
	memset(result, 0, sizeof(*result));
	struct slp_meta meta;
	slp_meta_init(&meta, start, NULL, "network");
	struct slp_file_scan scan;
	if (slp_file_scan(file, size, &meta, &scan, err, err_size) < 0)
		return -1;
	result->raw_length_before = scan.raw_length;
	if (scan.stored_complete) {
		result->already_complete = true;
		result->events_kept = scan.events_in_raw_length;
		result->bytes_kept = scan.raw_length;
		result->trailing_bytes = scan.trailing_bytes;
		return 0;
	}
	uint64_t end = SLP_HEADER_SIZE + scan.valid_bytes; /* file offset where the valid events end */
	if (!scan.has_game_start)
		return refuse(err, err_size,
			      "no complete Game Start among its events (%llu valid event bytes at file byte 15%s%s): "
			      "nothing a replay reader could use, left as it is",
			      (unsigned long long)scan.valid_bytes, scan.stop == SLP_SCAN_INVALID ? ", then " : "",
			      scan.stop == SLP_SCAN_INVALID ? scan.stop_reason : "");
	if (scan.second_game)
		return refuse(err, err_size,
			      "%s: a .slp file holds one game, and repair would drop the second; left as it is",
			      scan.stop_reason);
	if (scan.valid_bytes > UINT32_MAX)
		return refuse(err, err_size, "%llu event bytes are more than a .slp file can hold",
			      (unsigned long long)scan.valid_bytes);

	bytes_clear(out);
	if (scan.footer_after_events) {
		/* The events end where the metadata begins: only the length (or the final brace) is wrong. */
		bool ok = bytes_append(out, file, size);
		if (ok && !scan.footer_closed)
			ok = bytes_append_byte(out, '}');
		if (!ok)
			return refuse(err, err_size, "out of memory for %zu bytes", size);
		wr_u32be(out->data + SLP_RAW_LENGTH_OFFSET, (uint32_t)scan.valid_bytes);
		result->metadata_kept = true;
	} else {
		size_t stored_end = SLP_HEADER_SIZE + (size_t)scan.raw_length;
		size_t value_off, value_size;
		bool closed;
		char ferr[192];
		if (scan.raw_length && stored_end > end &&
		    slp_container_parse_footer(file, size, stored_end, &value_off, &value_size, &closed, ferr,
					       sizeof(ferr)) == 0)
			return refuse(
				err, err_size,
				"a finished replay (raw length %u, metadata at file byte %zu) whose events stop "
				"being valid at file byte %llu (%s): repair would drop %zu bytes of its game, so it "
				"leaves the file as it is",
				scan.raw_length, stored_end, (unsigned long long)end, scan.stop_reason,
				stored_end - (size_t)end);
		bool ok = bytes_append(out, slp_header_signature, sizeof(slp_header_signature)) &&
			  bytes_append_u32be(out, (uint32_t)scan.valid_bytes) &&
			  bytes_append(out, file + SLP_HEADER_SIZE, (size_t)scan.valid_bytes) &&
			  slp_meta_encode_footer(&meta, out);
		if (!ok)
			return refuse(err, err_size, "out of memory for %zu bytes", size);
		result->bytes_dropped = size - (size_t)end;
		if (scan.stop == SLP_SCAN_INVALID)
			snprintf(result->stream_error, sizeof(result->stream_error), "%s", scan.stop_reason);
	}
	result->events_kept = scan.valid_events;
	result->bytes_kept = scan.valid_bytes;
	if (!reads_back_finished(out->data, out->len, scan.valid_events)) {
		bytes_clear(out);
		return refuse(err, err_size, "the repaired bytes did not read back as a finished replay of %llu events",
			      (unsigned long long)scan.valid_events);
	}
	return 1;
}

/* The start time a crashed file never got to write: from a Game_YYYYMMDDTHHMMSS name, else its mtime. */
static void guess_start_time(const char *const names[2], const struct stat *st, struct timespec *out)
{
	*out = st->st_mtim;
	for (int i = 0; i < 2; i++) {
		const char *base = strrchr(names[i], '/');
		base = base ? base + 1 : names[i];
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		if (sscanf(base, "Game_%4d%2d%2dT%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			   &tm.tm_min, &tm.tm_sec) != 6)
			continue;
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		tm.tm_isdst = -1;
		time_t t = mktime(&tm);
		if (t != (time_t)-1) {
			out->tv_sec = t;
			out->tv_nsec = 0;
			return;
		}
	}
}

/* Opens the file to repair: read-write where allowed, as an exclusive lock over NFS needs a writable descriptor. */
static int open_for_repair(const char *path)
{
	int fd = open_nonblocking(path, O_RDWR);
	if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS || errno == EISDIR || errno == ETXTBSY))
		fd = open_nonblocking(path, O_RDONLY);
	return fd;
}

/* Takes the writer's lock without waiting. Returns 0 (taken, or the file system has no locks), or -1 with err. */
static int lock_for_repair(int fd, const char *path, char *err, size_t err_size)
{
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return refuse(
				err, err_size,
				"%s: is being written by another process (it holds the file's lock); not repaired",
				path);
		if (errno == ENOLCK || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)
			return 0; /* no locks here: a writer could not have taken one either */
		return refuse(err, err_size, "%s: cannot lock the file: %s", path, strerror(errno));
	}
}

static void sync_directory_of(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return;
	*(slash == dir ? slash + 1 : slash) = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int write_beside_and_replace(const char *path, const char *target, const struct stat *st,
				    const struct bytes *content, char *err, size_t err_size)
{
	char tmp[PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s.repair-XXXXXX", target);
	int fd = mkstemp(tmp);
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fd < 0)
		return refuse(err, err_size, "%s: cannot create a temporary file beside %s: %s", path, target,
			      strerror(errno));
	fchmod(fd, st->st_mode & 07777);
	if (write_all(fd, content->data, content->len) < 0 || fsync(fd) < 0) {
		refuse(err, err_size, "%s: cannot write the repaired file: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	/* the name must still be the file that was read and locked */
	struct stat now;
	if (stat(target, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
		unlink(tmp);
		return refuse(err, err_size, "%s: was replaced while it was being repaired; not repaired", path);
	}
	if (rename(tmp, target) < 0) {
		refuse(err, err_size, "%s: cannot replace the file: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	sync_directory_of(target);
	return 0;
}

int slp_file_repair(const char *path, struct slp_repair_result *result, char *err, size_t err_size)
{
	memset(result, 0, sizeof(*result));
	/* a symlink's target is repaired, and the link stays a link */
	char target[PATH_MAX];
	if (!realpath(path, target))
		return refuse(err, err_size, "%s: %s", path, strerror(errno));
	int fd = open_for_repair(target);
	if (fd < 0)
		return refuse(err, err_size, "%s: %s", path, strerror(errno));
	struct stat st;
	struct bytes file;
	bytes_init(&file, 0);
	int rc = -1;
	if (check_regular(fd, path, &st, err, err_size) < 0 || lock_for_repair(fd, path, err, err_size) < 0)
		goto out;
	clear_nonblocking(fd);
	if (read_whole_fd(fd, path, st.st_size, (size_t)1 << 31, &file, err, err_size) < 0)
		goto out;
	struct timespec start;
	const char *names[2] = {target, path};
	guess_start_time(names, &st, &start);
	struct bytes repaired;
	bytes_init(&repaired, 0);
	char why[384];
	int decision = slp_file_repair_buffer(file.data, file.len, &start, &repaired, result, why, sizeof(why));
	if (decision < 0)
		refuse(err, err_size, "%s: %s", path, why);
	else if (decision == 0)
		rc = 0;
	else
		rc = write_beside_and_replace(path, target, &st, &repaired, err, err_size);
	bytes_free(&repaired);
out:
	bytes_free(&file);
	close(fd); /* lets go of the lock, after the rename */
	return rc;
}
