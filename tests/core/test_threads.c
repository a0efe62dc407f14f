/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Counting a process's threads by name, for the tests that check a thread is named and joined (no other test
 * helper needed, so the TSan builds take this file alone). */
#include "test_threads.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int tu_threads_named(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], comm[64] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* a thread that just ended */
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = 0;
			n += !strcmp(comm, name);
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

int tu_threads_named_after_join(const char *name)
{
	int n = tu_threads_named(name);
	for (int i = 0; i < 400 && n > 0; i++) {
		usleep(5000);
		n = tu_threads_named(name);
	}
	return n;
}
