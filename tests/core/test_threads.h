/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* How many of this process's threads have this name (/proc/self/task/N/comm); -1 without /proc. */
int tu_threads_named(const char *name);
/* The same, for threads that were joined: pthread_join returns once the thread's exit has cleared its id, a moment
 * before the kernel takes it off /proc/self/task, so this waits (up to 2 s) for the count to reach 0. */
int tu_threads_named_after_join(const char *name);
