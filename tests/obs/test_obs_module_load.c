/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loads the built andross.so into a headless libobs (no frontend, no Qt), the way OBS does at start-up, and checks
 * that it identifies itself, logs its version, unloads on shutdown and leaves no bmem allocation behind.
 * libobs 29's obs_startup() opens the X display for hotkeys, so run under `xvfb-run -a ctest`.
 */
#include <obs.h>
#include <util/base.h>
#include <util/bmem.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#define LOG_CAPTURE_LINES 512
#define LOG_LINE_BYTES 1024

/* Captured log lines live in static storage so that capturing does not disturb bnum_allocs(). */
struct log_capture {
	pthread_mutex_t mutex;
	char lines[LOG_CAPTURE_LINES][LOG_LINE_BYTES];
	size_t count;
	size_t dropped;
};

static struct log_capture captured = {.mutex = PTHREAD_MUTEX_INITIALIZER};

struct harness {
	long allocs_before_startup;
	bool obs_running;
};

static struct harness harness;

static void capture_log(int level, const char *format, va_list args, void *param)
{
	char line[LOG_LINE_BYTES];
	(void)param;

	vsnprintf(line, sizeof(line), format, args);
	fprintf(stderr, "libobs[%d]: %s\n", level, line);

	pthread_mutex_lock(&captured.mutex);
	if (captured.count < LOG_CAPTURE_LINES)
		memcpy(captured.lines[captured.count++], line, sizeof(line));
	else
		captured.dropped++;
	pthread_mutex_unlock(&captured.mutex);
}

static void clear_captured_log(void)
{
	pthread_mutex_lock(&captured.mutex);
	captured.count = 0;
	captured.dropped = 0;
	pthread_mutex_unlock(&captured.mutex);
}

static bool log_has_line_starting_with(const char *prefix)
{
	bool found = false;

	pthread_mutex_lock(&captured.mutex);
	for (size_t i = 0; i < captured.count && !found; i++)
		found = strncmp(captured.lines[i], prefix, strlen(prefix)) == 0;
	pthread_mutex_unlock(&captured.mutex);
	return found;
}

static int start_headless_obs(void **state)
{
	(void)state;

	const char *display = getenv("DISPLAY");
	if (!display || !*display) {
		fprintf(stderr, "test_obs_module_load: no DISPLAY; libobs 29 needs an X server for obs_startup(). "
				"Run the tests as `xvfb-run -a ctest`.\n");
		return -1;
	}

	clear_captured_log();
	base_set_log_handler(capture_log, NULL);

	harness.allocs_before_startup = bnum_allocs();
	/* xvfb-run can hand over a display that does not accept connections yet on a loaded machine: wait for it */
	bool started = false;
	for (int attempt = 0; attempt < 100 && !started; attempt++) {
		started = obs_startup("en-US", NULL, NULL);
		if (!started) {
			struct timespec pause = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
			nanosleep(&pause, NULL);
		}
	}
	if (!started) {
		/* obs_startup() already shut down whatever it had started. */
		fprintf(stderr, "test_obs_module_load: obs_startup failed on DISPLAY=%s\n", display);
		base_set_log_handler(NULL, NULL);
		return -1;
	}
	harness.obs_running = true;
	return 0;
}

static int stop_headless_obs(void **state)
{
	(void)state;

	if (harness.obs_running) {
		obs_shutdown();
		harness.obs_running = false;
	}
	base_set_log_handler(NULL, NULL);
	return 0;
}

static obs_module_t *open_and_init_andross(void)
{
	obs_module_t *module = NULL;

	int result = obs_open_module(&module, ANDROSS_MODULE_PATH, ANDROSS_MODULE_DATA_PATH);
	assert_int_equal(result, MODULE_SUCCESS);
	assert_non_null(module);
	assert_true(obs_init_module(module));
	return module;
}

static void test_andross_module_loads_and_identifies_itself(void **state)
{
	(void)state;

	obs_module_t *module = open_and_init_andross();

	assert_string_equal(obs_get_module_file_name(module), "andross.so");
	assert_string_equal(obs_get_module_name(module), "andross");
	assert_string_equal(obs_get_module_binary_path(module), ANDROSS_MODULE_PATH);
	assert_string_equal(obs_get_module_data_path(module), ANDROSS_MODULE_DATA_PATH);
	assert_ptr_equal(obs_get_module("andross"), module);

	/* The description comes from data/locale/en-US.ini, so this also proves the locale was found and parsed. */
	const char *description = obs_get_module_description(module);
	assert_non_null(description);
	assert_string_not_equal(description, "Andross.Description");
	assert_non_null(strstr(description, "Slippi"));

	char expected[LOG_LINE_BYTES];
	snprintf(expected, sizeof(expected), "[andross] module loaded (version %s, libobs %s)", ANDROSS_VERSION,
		 obs_get_version_string());
	assert_true(log_has_line_starting_with(expected));
}

static void test_andross_module_unloads_and_frees_everything_on_shutdown(void **state)
{
	(void)state;

	open_and_init_andross();
	assert_false(log_has_line_starting_with("[andross] module unloaded"));

	obs_shutdown();
	harness.obs_running = false;

	assert_true(log_has_line_starting_with("[andross] module unloaded"));
	assert_int_equal(bnum_allocs(), harness.allocs_before_startup);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_andross_module_loads_and_identifies_itself, start_headless_obs,
						stop_headless_obs),
		cmocka_unit_test_setup_teardown(test_andross_module_unloads_and_frees_everything_on_shutdown,
						start_headless_obs, stop_headless_obs),
	};
	return cmocka_run_group_tests_name("obs_module_load", tests, NULL, NULL);
}
