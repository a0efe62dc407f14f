/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fanout.h"
#include "sock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct net_fanout {
	pthread_t thread;
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	bool quit;
	uint64_t posted; /* batches handed to the helper */
	uint64_t done;   /* batches the helper finished */
	struct net_fanout_job *jobs;
	size_t n;
};

static void send_jobs(struct net_fanout_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		jobs[i].result = net_write(jobs[i].fd, jobs[i].data, jobs[i].len);
}

static void *helper(void *arg)
{
	struct net_fanout *f = arg;
	pthread_mutex_lock(&f->mutex);
	for (;;) {
		while (!f->quit && f->done == f->posted)
			pthread_cond_wait(&f->cond, &f->mutex);
		if (f->quit)
			break;
		struct net_fanout_job *jobs = f->jobs;
		size_t n = f->n;
		pthread_mutex_unlock(&f->mutex);
		send_jobs(jobs, n);
		pthread_mutex_lock(&f->mutex);
		f->done = f->posted;
		pthread_cond_broadcast(&f->cond);
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
	pthread_cond_init(&f->cond, NULL);
	if (pthread_create(&f->thread, NULL, helper, f) != 0) {
		pthread_mutex_destroy(&f->mutex);
		pthread_cond_destroy(&f->cond);
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
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mutex);
	pthread_join(f->thread, NULL);
	pthread_mutex_destroy(&f->mutex);
	pthread_cond_destroy(&f->cond);
	free(f);
}

void net_fanout_send(struct net_fanout *f, struct net_fanout_job *jobs, size_t n)
{
	if (!f || n < NET_FANOUT_MIN_JOBS) {
		send_jobs(jobs, n);
		return;
	}
	/* the helper takes the second half, this thread the first */
	size_t half = n / 2;
	pthread_mutex_lock(&f->mutex);
	f->jobs = jobs + half;
	f->n = n - half;
	f->posted++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mutex);
	send_jobs(jobs, half);
	pthread_mutex_lock(&f->mutex);
	while (f->done != f->posted)
		pthread_cond_wait(&f->cond, &f->mutex);
	pthread_mutex_unlock(&f->mutex);
}
