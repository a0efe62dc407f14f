/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One worker thread per loop takes names from a queue, in order, and hands each answer back through the loop's
 * posted functions (net_loop_post_node, with the node inside the request: handing an answer back cannot fail).
 *
 * Who owns a request: the loop's thread makes it and links it into r->live (for cancel); a name also goes into
 * r->queue, where the worker takes it. Whoever answers fills in the answer, then posts it; `answer` (loop thread)
 * unlinks it, calls fn unless it was cancelled, and frees it. The only requests never posted are those left in the
 * queue when the resolver closes: net_resolver_close frees them after joining the worker.
 */
#include "resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct request {
	struct net_post post; /* the answer, handed to the loop */
	struct net_resolver *r;
	uint64_t id;
	net_resolve_fn fn;
	void *ud;
	uint16_t port;
	int family;
	bool cancelled;               /* r->lock */
	struct request *prev, *next;  /* r->live (r->lock) */
	struct request *queue_next;   /* r->queue (r->lock) */
	struct sockaddr_storage addr; /* the answer: written by whoever answers, read after the post */
	socklen_t addr_len;           /* 0: failed, see error */
	bool other_family_only;
	char error[384];
	char host[];
};

struct net_resolver {
	struct net_loop *loop;
	/* the owner's (the loop's thread, or the thread that destroys the loop) */
	uint64_t next_id;
	bool closed;
	bool started;
	pthread_t thread;
	/* shared with the worker */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct request *live; /* every request not answered yet, newest first */
	struct request *queue_head, *queue_tail;
	bool quit;
};

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

static void answer(void *ud)
{
	struct request *q = ud;
	struct net_resolver *r = q->r;
	pthread_mutex_lock(&r->lock);
	bool cancelled = q->cancelled;
	if (q->prev)
		q->prev->next = q->next;
	else
		r->live = q->next;
	if (q->next)
		q->next->prev = q->prev;
	pthread_mutex_unlock(&r->lock);
	if (!cancelled) {
		struct net_resolve_answer a = {
			.addr = q->addr_len ? (const struct sockaddr *)&q->addr : NULL,
			.addr_len = q->addr_len,
			.error = q->addr_len ? NULL : q->error,
			.other_family_only = q->other_family_only,
		};
		q->fn(q->ud, &a);
	}
	free(q);
}

/* A numeric address needs no lookup: answers it into q. Returns false for a name. */
static bool answer_numeric(struct request *q)
{
	struct in_addr a4;
	struct in6_addr a6;
	int family;
	if (inet_pton(AF_INET, q->host, &a4) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, q->host, &a6) == 1)
		family = AF_INET6;
	else
		return false;
	if (q->family != AF_UNSPEC && q->family != family) {
		q->other_family_only = true;
		snprintf(q->error, sizeof(q->error), "%s is an %s address, where an %s address is needed", q->host,
			 family_name(family), family_name(q->family));
		return true;
	}
	memset(&q->addr, 0, sizeof(q->addr));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&q->addr;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(q->port);
		sin->sin_addr = a4;
		q->addr_len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&q->addr;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(q->port);
		sin6->sin6_addr = a6;
		q->addr_len = sizeof(*sin6);
	}
	return true;
}

/* On the worker: the system's lookup, which may block for the resolver's whole timeout. */
static void lookup(struct request *q)
{
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;     /* even when one family is asked: to tell "only IPv6" from "no such name" */
	hints.ai_socktype = SOCK_STREAM; /* one entry per address (the address is the same for UDP) */
	hints.ai_flags = AI_NUMERICSERV;
	char service[8];
	snprintf(service, sizeof(service), "%u", q->port);
	struct addrinfo *ai = NULL;
	int rc = getaddrinfo(q->host, service, &hints, &ai);
	if (rc != 0) {
		snprintf(q->error, sizeof(q->error), "cannot resolve %s: %s", q->host,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return;
	}
	bool other = false;
	for (const struct addrinfo *a = ai; a; a = a->ai_next) {
		if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
			continue;
		if (q->family != AF_UNSPEC && a->ai_family != q->family) {
			other = true;
			continue;
		}
		if (a->ai_addrlen > sizeof(q->addr))
			continue;
		memcpy(&q->addr, a->ai_addr, a->ai_addrlen);
		q->addr_len = (socklen_t)a->ai_addrlen;
		break;
	}
	freeaddrinfo(ai);
	if (q->addr_len)
		return;
	q->other_family_only = other;
	if (other)
		snprintf(q->error, sizeof(q->error), "cannot resolve %s to an %s address: it has %s addresses only",
			 q->host, family_name(q->family), family_name(q->family == AF_INET ? AF_INET6 : AF_INET));
	else
		snprintf(q->error, sizeof(q->error), "cannot resolve %s: no IPv4 or IPv6 address", q->host);
}

static void *worker_main(void *arg)
{
	struct net_resolver *r = arg;
	net_thread_name(NET_RESOLVE_THREAD_NAME);
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->quit && !r->queue_head)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->quit)
			break;
		struct request *q = r->queue_head;
		r->queue_head = q->queue_next;
		if (!r->queue_head)
			r->queue_tail = NULL;
		bool cancelled = q->cancelled;
		pthread_mutex_unlock(&r->lock);
		if (!cancelled)
			lookup(q);
		/* a cancelled request is posted too: `answer` frees it on the loop's thread, where it was made */
		net_loop_post_node(r->loop, &q->post, answer, q);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static bool start_worker(struct net_resolver *r)
{
	/* the worker takes no asynchronous signal: a Ctrl-C goes to a thread that can act on it, and no lookup is
	 * interrupted by one */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&r->thread, NULL, worker_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	r->started = rc == 0;
	return r->started;
}

uint64_t net_loop_resolve(struct net_loop *loop, const char *host, uint16_t port, int family, net_resolve_fn fn,
			  void *ud)
{
	struct net_resolver *r = net_loop_resolver(loop);
	if (!r || r->closed || !host || !fn || (family != AF_UNSPEC && family != AF_INET && family != AF_INET6))
		return 0;
	size_t len = strlen(host);
	struct request *q = calloc(1, sizeof(*q) + len + 1);
	if (!q)
		return 0;
	memcpy(q->host, host, len + 1);
	q->r = r;
	q->id = ++r->next_id;
	q->fn = fn;
	q->ud = ud;
	q->port = port;
	q->family = family;
	pthread_mutex_lock(&r->lock);
	q->next = r->live;
	if (r->live)
		r->live->prev = q;
	r->live = q;
	pthread_mutex_unlock(&r->lock);
	if (answer_numeric(q)) {
		net_loop_post_node(loop, &q->post, answer, q);
		return q->id;
	}
	if (!r->started && !start_worker(r)) {
		/* answered as a failed lookup: the caller's usual path (a retry, for a source) tries again later */
		snprintf(q->error, sizeof(q->error), "cannot resolve %s: cannot start the resolver's thread", host);
		net_loop_post_node(loop, &q->post, answer, q);
		return q->id;
	}
	pthread_mutex_lock(&r->lock);
	if (r->queue_tail)
		r->queue_tail->queue_next = q;
	else
		r->queue_head = q;
	r->queue_tail = q;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return q->id;
}

void net_loop_resolve_cancel(struct net_loop *loop, uint64_t id)
{
	struct net_resolver *r = net_loop_resolver(loop);
	if (!r || !id)
		return;
	pthread_mutex_lock(&r->lock);
	for (struct request *q = r->live; q; q = q->next) {
		if (q->id == id) {
			q->cancelled = true;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
}

struct net_resolver *net_resolver_create(struct net_loop *loop)
{
	struct net_resolver *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->loop = loop;
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return NULL;
	}
	if (pthread_cond_init(&r->cond, NULL) != 0) {
		pthread_mutex_destroy(&r->lock);
		free(r);
		return NULL;
	}
	return r;
}

void net_resolver_close(struct net_resolver *r)
{
	if (!r || r->closed)
		return;
	r->closed = true;
	pthread_mutex_lock(&r->lock);
	r->quit = true;
	for (struct request *q = r->live; q; q = q->next)
		q->cancelled = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (r->started)
		pthread_join(r->thread, NULL); /* waits for a lookup in progress, if any */
	r->started = false;
	/* the names the worker never took were never posted: free them here */
	pthread_mutex_lock(&r->lock);
	while (r->queue_head) {
		struct request *q = r->queue_head;
		r->queue_head = q->queue_next;
		if (q->prev)
			q->prev->next = q->next;
		else
			r->live = q->next;
		if (q->next)
			q->next->prev = q->prev;
		free(q);
	}
	r->queue_tail = NULL;
	pthread_mutex_unlock(&r->lock);
}

void net_resolver_free(struct net_resolver *r)
{
	if (!r)
		return;
	net_resolver_close(r);
	/* every other request was posted, and net_loop_destroy ran what was posted before this */
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
