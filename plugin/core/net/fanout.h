/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parallel sends for a fan-out: on loopback and LANs a TCP send costs the sender several microseconds of kernel
 * time per socket, so one thread serving many clients is bound by the kernel. net_fanout_send splits a batch of
 * non-blocking sends between the calling thread and one helper thread, and returns when all are done. Only the
 * send(2) calls run on the helper; everything else stays with the caller.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct net_fanout_job {
	int fd;
	const uint8_t *data;
	size_t len;
	ssize_t result; /* what net_write returned: bytes sent, 0 (would block) or -1 (failed) */
};

struct net_fanout;

/* Returns NULL when the helper thread cannot be started (net_fanout_send then still works, on one thread). */
struct net_fanout *net_fanout_create(void);
void net_fanout_destroy(struct net_fanout *f);
/* Makes every job's send. Batches smaller than NET_FANOUT_MIN_JOBS, or a NULL f, use the calling thread only. */
void net_fanout_send(struct net_fanout *f, struct net_fanout_job *jobs, size_t n);

#define NET_FANOUT_MIN_JOBS 16

#ifdef __cplusplus
}
#endif
