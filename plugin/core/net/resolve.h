/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host-name resolution off the loop's thread. getaddrinfo blocks for as long as the system's resolver waits (seconds
 * per server and attempt when DNS does not answer), and one loop thread runs every source and relay of the engine:
 * a console given by a name whose lookup hangs must not stall them all.
 *
 * A numeric address (IPv4 dotted quad, IPv6 without a scope) is answered without a thread, at the loop's next pass.
 * Names go, in the order asked, to one worker thread per loop ("andross: dns"), made at the first name and owned by
 * the loop: net_loop_destroy drops what is pending and joins it. A lookup in progress cannot be interrupted, so
 * net_loop_destroy may wait for it, for at most the system resolver's timeout (resolv.conf's `timeout` times
 * `attempts` per server: 5 s x 2 x servers with glibc's defaults). Everything the worker needs is allocated before
 * it starts or by the caller of each request, so no failed allocation can leave it running or an answer unsent.
 *
 * Every function here runs on the loop's thread (or the owner's thread while no loop runs), like net_loop_timer.
 */
#pragma once

#include "loop.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NET_RESOLVE_THREAD_NAME "andross: dns"

struct net_resolve_answer {
	/* The first address of the family asked, in the order the system prefers, with the port set; NULL when the
	 * lookup failed. Valid during the callback only. */
	const struct sockaddr *addr;
	socklen_t addr_len;
	/* When addr is NULL: why, naming the host ("cannot resolve wii.lan: Name or service not known"). */
	const char *error;
	/* The lookup failed only because every address of the host is of another family than the one asked (an
	 * IPv6-only name for AF_INET). */
	bool other_family_only;
};

typedef void (*net_resolve_fn)(void *ud, const struct net_resolve_answer *answer);

/*
 * Resolves host (a name or a numeric address) for port. family is AF_UNSPEC, AF_INET or AF_INET6. fn runs once,
 * later, on the loop's thread, never inside this call. Answers to names come in the order they were asked; a
 * numeric address is answered at the next pass, without waiting for names asked before it. Returns a non-zero id
 * for net_loop_resolve_cancel, or 0 (fn will not run) when out of memory, for another family, or while the loop is
 * being destroyed.
 */
uint64_t net_loop_resolve(struct net_loop *loop, const char *host, uint16_t port, int family, net_resolve_fn fn,
			  void *ud);
/* fn of that request will not run; a lookup in progress finishes on the worker and its answer is dropped. An id that
 * was answered already, or 0, is ignored. */
void net_loop_resolve_cancel(struct net_loop *loop, uint64_t id);

/* The loop's side (loop.c): a loop makes its resolver when it is created, and net_loop_destroy closes it (drops
 * every request, joins the worker) before it runs what is still posted, then frees it. */
struct net_resolver;
struct net_resolver *net_loop_resolver(struct net_loop *loop);
struct net_resolver *net_resolver_create(struct net_loop *loop);
void net_resolver_close(struct net_resolver *r);
void net_resolver_free(struct net_resolver *r);

#ifdef __cplusplus
}
#endif
