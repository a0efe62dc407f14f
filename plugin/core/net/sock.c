/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int net_parse_host_port(const char *text, uint16_t default_port, char *host, size_t host_size, uint16_t *port)
{
	const char *colon;
	size_t host_len;
	if (!text || !*text)
		return -1;
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end)
			return -1;
		host_len = (size_t)(end - text - 1);
		text++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return -1;
	} else {
		colon = strrchr(text, ':');
		if (colon && strchr(text, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		host_len = colon ? (size_t)(colon - text) : strlen(text);
	}
	if (host_len == 0 || host_len >= host_size)
		return -1;
	memcpy(host, text, host_len);
	host[host_len] = 0;
	*port = default_port;
	if (colon) {
		char *end = NULL;
		long p = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || p < 0 || p > 65535)
			return -1;
		*port = (uint16_t)p;
	}
	return 0;
}

static int resolve(const char *host, uint16_t port, int socktype, bool passive, struct addrinfo **out, char *err,
		   size_t err_size)
{
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	int rc = getaddrinfo(host, service, &hints, out);
	if (rc != 0) {
		snprintf(err, err_size, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	return 0;
}

int net_set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int net_set_nodelay(int fd, bool on)
{
	int v = on ? 1 : 0;
	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
}

int net_tcp_connect_addr(const struct sockaddr *addr, socklen_t addr_len, char *err, size_t err_size)
{
	int fd = socket(addr->sa_family, SOCK_STREAM, 0);
	if (fd < 0 || net_set_nonblocking(fd) < 0) {
		snprintf(err, err_size, "cannot make a socket: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	net_set_nodelay(fd, true);
	if (connect(fd, addr, addr_len) == 0 || errno == EINPROGRESS)
		return fd;
	snprintf(err, err_size, "%s", strerror(errno));
	close(fd);
	return -1;
}

int net_tcp_connect_start(const char *host, uint16_t port, char *err, size_t err_size)
{
	struct addrinfo *ai = NULL;
	if (resolve(host, port, SOCK_STREAM, false, &ai, err, err_size) < 0)
		return -1;
	int fd = -1;
	char why[160] = "no address";
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next)
		fd = net_tcp_connect_addr(a->ai_addr, a->ai_addrlen, why, sizeof(why));
	freeaddrinfo(ai);
	if (fd < 0)
		snprintf(err, err_size, "cannot connect to %s:%u: %s", host, port, why);
	return fd;
}

int net_tcp_connect_result(int fd, char *err, size_t err_size)
{
	int so_error = 0;
	socklen_t len = sizeof(so_error);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
		so_error = errno;
	if (so_error) {
		snprintf(err, err_size, "%s", strerror(so_error));
		return -1;
	}
	return 0;
}

/* A non-blocking socket bound to host:port (SO_REUSEADDR; SO_BROADCAST too when asked), listening when backlog
 * is above 0. Tries each address the host resolves to. Returns the fd, or -1 with err. */
static int bound_socket(const char *host, uint16_t port, int socktype, int backlog, bool broadcast, char *err,
			size_t err_size)
{
	struct addrinfo *ai = NULL;
	if (resolve(host, port, socktype, true, &ai, err, err_size) < 0)
		return -1;
	int fd = -1;
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (broadcast)
			setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
		if (net_set_nonblocking(fd) == 0 && bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
		    (backlog <= 0 || listen(fd, backlog) == 0))
			break;
		snprintf(err, err_size, "cannot %s %s:%u: %s", backlog > 0 ? "listen on" : "bind UDP", host, port,
			 strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int net_tcp_listen(const char *host, uint16_t port, int backlog, uint16_t *bound_port, char *err, size_t err_size)
{
	int fd = bound_socket(host, port, SOCK_STREAM, backlog > 0 ? backlog : 1, false, err, err_size);
	if (fd >= 0 && bound_port) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		*bound_port = port;
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
			*bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
								     : ((struct sockaddr_in *)&ss)->sin_port);
	}
	return fd;
}

void net_sockaddr_name(const struct sockaddr *addr, char *out, size_t out_size)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(out, out_size, "%s:%u", ip, ntohs(a->sin_port));
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(out, out_size, "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		snprintf(out, out_size, "?");
	}
}

int net_tcp_accept(int listen_fd, char *peer, size_t peer_size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept(listen_fd, (struct sockaddr *)&ss, &len);
	if (fd < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED ? -1 : -2;
	if (net_set_nonblocking(fd) < 0) {
		close(fd);
		return -1;
	}
	if (peer && peer_size)
		net_sockaddr_name((const struct sockaddr *)&ss, peer, peer_size);
	return fd;
}

void net_peer_name(int fd, char *out, size_t out_size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
		snprintf(out, out_size, "?");
		return;
	}
	net_sockaddr_name((const struct sockaddr *)&ss, out, out_size);
}

int net_udp_bind(const char *host, uint16_t port, bool broadcast, char *err, size_t err_size)
{
	return bound_socket(host, port, SOCK_DGRAM, 0, broadcast, err, err_size);
}

ssize_t net_read(int fd, void *buf, size_t len, bool *closed)
{
	if (closed)
		*closed = false;
	for (;;) {
		ssize_t n = recv(fd, buf, len, 0);
		if (n > 0)
			return n;
		if (n == 0) {
			if (closed)
				*closed = true;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
}

ssize_t net_write(int fd, const void *buf, size_t len)
{
	for (;;) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
}

void net_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

ssize_t net_udp_recv(int fd, void *buf, size_t len, char *from_ip, size_t from_ip_size)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	for (;;) {
		ssize_t n = recvfrom(fd, buf, len, 0, (struct sockaddr *)&ss, &sl);
		if (n >= 0) {
			if (from_ip && from_ip_size) {
				const void *a = &((struct sockaddr_in *)&ss)->sin_addr;
				if (ss.ss_family == AF_INET6)
					a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
				if (!inet_ntop(ss.ss_family, a, from_ip, (socklen_t)from_ip_size))
					snprintf(from_ip, from_ip_size, "?");
			}
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
}

ssize_t net_udp_send_to(int fd, const char *host, uint16_t port, const void *buf, size_t len)
{
	struct addrinfo *ai = NULL;
	char err[128];
	if (resolve(host, port, SOCK_DGRAM, false, &ai, err, sizeof(err)) < 0)
		return -1;
	ssize_t n = -1;
	for (struct addrinfo *a = ai; a && n < 0; a = a->ai_next)
		n = sendto(fd, buf, len, MSG_NOSIGNAL, a->ai_addr, a->ai_addrlen);
	freeaddrinfo(ai);
	return n;
}

int net_set_send_buffer(int fd, int bytes)
{
	return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}
