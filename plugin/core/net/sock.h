/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Non-blocking socket helpers: the platform-specific half of the network layer (POSIX here). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NET_ADDR_MAX 64

/* "HOST:PORT", "HOST" (with default_port) or "[v6]:PORT" into host and port. Returns 0 or -1. */
int net_parse_host_port(const char *text, uint16_t default_port, char *host, size_t host_size, uint16_t *port);
/* Starts a non-blocking TCP connect to a resolved address (net/resolve.h). Returns the fd, or -1 with the reason
 * in err (strerror's words: the caller names the peer). Completion is signalled by NET_WRITE; then
 * net_tcp_connect_result tells success. */
int net_tcp_connect_addr(const struct sockaddr *addr, socklen_t addr_len, char *err, size_t err_size);
/* The same to host:port, resolved on the calling thread: a name blocks it for as long as the system's resolver
 * waits, so code on a loop that serves anything else resolves with net_loop_resolve and uses net_tcp_connect_addr.
 * For tests, benchmarks and tools that connect to a numeric address. */
int net_tcp_connect_start(const char *host, uint16_t port, char *err, size_t err_size);
/* An address as "ip:port" ("[ip]:port" for IPv6). */
void net_sockaddr_name(const struct sockaddr *addr, char *out, size_t out_size);
/* 0 when the connect finished, else -1 with the reason in err. */
int net_tcp_connect_result(int fd, char *err, size_t err_size);
/* A listening non-blocking TCP socket (SO_REUSEADDR). Port 0 picks a free one; *bound_port tells which. */
int net_tcp_listen(const char *host, uint16_t port, int backlog, uint16_t *bound_port, char *err, size_t err_size);
/* Accepts one connection as a non-blocking socket, with the peer as "ip:port". -1 when none is waiting; -2 when
 * accepting failed (out of file descriptors or memory, for example): the connection stays queued. */
int net_tcp_accept(int listen_fd, char *peer, size_t peer_size);
int net_set_nodelay(int fd, bool on);
int net_set_nonblocking(int fd);
/* A UDP socket bound to host:port with SO_REUSEADDR (and SO_BROADCAST). Returns the fd or -1 with err. */
int net_udp_bind(const char *host, uint16_t port, bool broadcast, char *err, size_t err_size);
/* Non-blocking read/write: bytes moved, 0 for would-block, -1 for a closed or failed socket. For reads, a peer
 * that closed gives -1 with *closed set (when closed is not NULL). */
ssize_t net_read(int fd, void *buf, size_t len, bool *closed);
ssize_t net_write(int fd, const void *buf, size_t len);
void net_close(int fd);
/* The peer address of a connected socket as "ip:port". */
void net_peer_name(int fd, char *out, size_t out_size);
/* One datagram: bytes received (0 for would-block, -1 on error); the sender's IP (no port) into from_ip. */
ssize_t net_udp_recv(int fd, void *buf, size_t len, char *from_ip, size_t from_ip_size);
/* Sends one datagram to host:port (numeric or a name). Returns the bytes sent, or -1. */
ssize_t net_udp_send_to(int fd, const char *host, uint16_t port, const void *buf, size_t len);
/* Sets SO_SNDBUF (a console-sized send buffer keeps a simulator's cursor close to what the client got). */
int net_set_send_buffer(int fd, int bytes);

#ifdef __cplusplus
}
#endif
