/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* How many of this process's threads have this name (/proc/self/task/N/comm); -1 without /proc. */
int tu_threads_named(const char *name);
