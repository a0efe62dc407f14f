/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A connection-breaking TCP proxy for the reconnect tests (runs its own loop on a thread). */
#pragma once

#include "bytes.h"
#include "net/loop.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct conn;
/* Optional: decides the plan of connection number i instead of the RNG. UINT64_MAX means never. */
typedef void (*chaos_plan_fn)(void *ud, uint64_t i, uint64_t *cut_down_at, uint64_t *cut_up_at, uint64_t *stall_at,
			      uint64_t *stall_ms);

struct chaos_proxy {
	struct net_loop *loop;
	pthread_t thread;
	int listen_fd;
	uint16_t port;
	uint16_t upstream_port;
	uint64_t rng;
	uint64_t max_cut_bytes;
	uint64_t max_stall_ms;
	chaos_plan_fn plan_fn;
	void *plan_ud;
	struct conn *active;
	/* counters (read after stop) */
	uint64_t connections, cuts, stalls;
};

/* Listens on 127.0.0.1 (a free port, in p->port), forwarding to 127.0.0.1:upstream_port. */
int chaos_proxy_start(struct chaos_proxy *p, uint16_t upstream_port, uint64_t seed);
int chaos_proxy_run_thread(struct chaos_proxy *p);
void chaos_proxy_stop(struct chaos_proxy *p);
