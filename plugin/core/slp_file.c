/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slp_file.h"
#include "slp_reader.h"

#include <errno.h>
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

int slp_file_open(struct slp_file_writer *w, const char *dir, const struct timespec *start, const char *console_nick)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	bytes_init(&w->buffer, WRITE_BUFFER_LIMIT);
	slp_meta_init(&w->meta, start, console_nick, "network");
	struct tm tm;
	time_t secs = start->tv_sec;
	localtime_r(&secs, &tm);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	for (int attempt = 1; attempt < 1000; attempt++) {
		if (attempt == 1)
			snprintf(w->path, sizeof(w->path), "%s/Game_%s.slp", dir, stamp);
		else
			snprintf(w->path, sizeof(w->path), "%s/Game_%s_%d.slp", dir, stamp, attempt);
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

/* ---- repair ---- */

struct repair_scan {
	struct slp_meta meta;
	uint64_t end_of_complete; /* stream offset just past the last complete wire event */
	uint64_t events;
};

static int repair_on_event(void *ud, const struct slp_event *ev)
{
	struct repair_scan *scan = ud;
	if (ev->reassembled)
		return 0;
	scan->end_of_complete = ev->offset + ev->size;
	scan->events++;
	slp_meta_handle(&scan->meta, ev);
	return 0;
}

/* The start time a crashed file never got to write: from its Game_YYYYMMDDTHHMMSS name, else its mtime. */
static void guess_start_time(const char *path, struct timespec *out)
{
	struct stat st;
	out->tv_sec = 0;
	out->tv_nsec = 0;
	if (stat(path, &st) == 0)
		*out = st.st_mtim;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(base, "Game_%4d%2d%2dT%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec) == 6) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		tm.tm_isdst = -1;
		time_t t = mktime(&tm);
		if (t != (time_t)-1) {
			out->tv_sec = t;
			out->tv_nsec = 0;
		}
	}
}

int slp_file_repair(const char *path, struct slp_repair_result *result, char *err, size_t err_size)
{
	memset(result, 0, sizeof(*result));
	struct bytes file;
	if (slp_read_whole_file(path, (size_t)1 << 31, &file, err, err_size) < 0)
		return -1;
	struct slp_container c;
	char cerr[256];
	int rc = slp_container_parse(file.data, file.len, &c, cerr, sizeof(cerr));
	if (rc < 0 && c.events_offset == 0) {
		snprintf(err, err_size, "%s: %s", path, cerr);
		bytes_free(&file);
		return -1;
	}
	if (rc == 0 && !c.in_progress && c.has_metadata) {
		result->already_complete = true;
		result->bytes_kept = c.events_size;
		bytes_free(&file);
		return 0;
	}
	struct repair_scan scan;
	memset(&scan, 0, sizeof(scan));
	struct timespec start;
	guess_start_time(path, &start);
	slp_meta_init(&scan.meta, &start, NULL, "network");
	struct slp_splitter s;
	slp_splitter_init(&s);
	if (slp_splitter_feed(&s, file.data + c.events_offset, c.events_size, repair_on_event, &scan) < 0)
		snprintf(result->stream_error, sizeof(result->stream_error), "%s", s.error);
	slp_splitter_free(&s);
	result->events_kept = scan.events;
	result->bytes_kept = scan.end_of_complete;
	result->bytes_dropped = c.events_size - scan.end_of_complete;
	if (scan.end_of_complete > UINT32_MAX) {
		snprintf(err, err_size, "%s: too many event bytes for a .slp file", path);
		bytes_free(&file);
		return -1;
	}

	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.repair-XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, err_size, "%s: cannot create a temporary file: %s", path, strerror(errno));
		bytes_free(&file);
		return -1;
	}
	struct bytes out;
	bytes_init(&out, 0);
	bool ok = bytes_append(&out, slp_header_signature, sizeof(slp_header_signature)) &&
		  bytes_append_u32be(&out, (uint32_t)scan.end_of_complete) &&
		  bytes_append(&out, file.data + c.events_offset, (size_t)scan.end_of_complete) &&
		  slp_meta_encode_footer(&scan.meta, &out);
	bytes_free(&file);
	struct stat st;
	if (ok && stat(path, &st) == 0)
		fchmod(fd, st.st_mode & 07777);
	if (!ok || write_all(fd, out.data, out.len) < 0 || fsync(fd) < 0) {
		snprintf(err, err_size, "%s: cannot write the repaired file: %s", tmp,
			 ok ? strerror(errno) : "out of memory");
		close(fd);
		unlink(tmp);
		bytes_free(&out);
		return -1;
	}
	close(fd);
	bytes_free(&out);
	if (rename(tmp, path) < 0) {
		snprintf(err, err_size, "%s: cannot replace the file: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
