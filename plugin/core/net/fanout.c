/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The caller and the helper thread take jobs from one shared counter, one at a time, until none is left: if the
 * helper is slow to wake or is preempted, the caller simply makes more of the sends itself, and it never waits for
 * more than the one send the helper is making when the batch runs out.
 *
 * The counter holds the batch number in its high 32 bits and the next job's index in its low 32 bits, so a helper
 * that wakes late for a batch that is already over cannot claim a job of the next one (whose job array it has not
 * seen). A job claimed is always finished before net_fanout_send returns.
 */
#include "fanout.h"
#include "loop.h"
#include "sock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

struct net_fanout {
	pthread_t thread;
	pthread_mutex_t mutex;
	pthread_cond_t work; /* a new batch, or quit */
	pthread_cond_t done; /* the helper finished a batch's last job */
	bool quit;
	uint32_t batch; /* under mutex: the current batch and its jobs */
	struct net_fanout_job *jobs;
	size_t n;
	_Atomic uint64_t claim; /* batch << 32 | next job */
	atomic_size_t finished;
};

/* Makes jobs of `batch` until none is left. Returns true if this thread finished the batch's last job. */
static bool work(struct net_fanout *f, uint32_t batch, struct net_fanout_job *jobs, size_t n)
{
	bool last = false;
	uint64_t v = atomic_load(&f->claim);
	for (;;) {
		if ((uint32_t)(v >> 32) != batch || (uint32_t)v >= n)
			return last;
		if (!atomic_compare_exchange_weak(&f->claim, &v, v + 1))
			continue; /* v now holds the counter's current value */
		struct net_fanout_job *j = &jobs[(uint32_t)v];
		j->result = net_write(j->fd, j->data, j->len);
		last = atomic_fetch_add(&f->finished, 1) + 1 == n;
		v++;
	}
}

static void *helper(void *arg)
{
	struct net_fanout *f = arg;
	uint32_t seen = 0;
	net_thread_name("andross: fanout");
	pthread_mutex_lock(&f->mutex);
	for (;;) {
		while (!f->quit && f->batch == seen)
			pthread_cond_wait(&f->work, &f->mutex);
		if (f->quit)
			break;
		seen = f->batch;
		struct net_fanout_job *jobs = f->jobs;
		size_t n = f->n;
		pthread_mutex_unlock(&f->mutex);
		bool last = work(f, seen, jobs, n);
		pthread_mutex_lock(&f->mutex);
		if (last)
			pthread_cond_signal(&f->done);
	}
	pthread_mutex_unlock(&f->mutex);
	return NULL;
}

struct net_fanout *net_fanout_create(void)
{
	struct net_fanout *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	pthread_mutex_init(&f->mutex, NULL);
	pthread_cond_init(&f->work, NULL);
	pthread_cond_init(&f->done, NULL);
	atomic_init(&f->claim, 0);
	atomic_init(&f->finished, 0);
	if (pthread_create(&f->thread, NULL, helper, f) != 0) {
		pthread_mutex_destroy(&f->mutex);
		pthread_cond_destroy(&f->work);
		pthread_cond_destroy(&f->done);
		free(f);
		return NULL;
	}
	return f;
}

void net_fanout_destroy(struct net_fanout *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mutex);
	f->quit = true;
	pthread_cond_signal(&f->work);
	pthread_mutex_unlock(&f->mutex);
	pthread_join(f->thread, NULL);
	pthread_mutex_destroy(&f->mutex);
	pthread_cond_destroy(&f->work);
	pthread_cond_destroy(&f->done);
	free(f);
}

void net_fanout_send(struct net_fanout *f, struct net_fanout_job *jobs, size_t n)
{
	if (!f || n < NET_FANOUT_MIN_JOBS || n > UINT32_MAX) {
		for (size_t i = 0; i < n; i++)
			jobs[i].result = net_write(jobs[i].fd, jobs[i].data, jobs[i].len);
		return;
	}
	pthread_mutex_lock(&f->mutex);
	uint32_t batch = ++f->batch;
	if (!batch)
		batch = ++f->batch; /* 0 is the helper's "seen nothing yet" */
	f->jobs = jobs;
	f->n = n;
	atomic_store(&f->finished, 0);
	atomic_store(&f->claim, (uint64_t)batch << 32);
	pthread_cond_signal(&f->work);
	pthread_mutex_unlock(&f->mutex);
	work(f, batch, jobs, n);
	if (atomic_load(&f->finished) == n)
		return;
	/* the helper is making the last send(s) */
	pthread_mutex_lock(&f->mutex);
	while (atomic_load(&f->finished) != n)
		pthread_cond_wait(&f->done, &f->mutex);
	pthread_mutex_unlock(&f->mutex);
}
