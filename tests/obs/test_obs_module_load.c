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
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

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
	const char *config_dir; /* libobs's module config folder for the next start; NULL: none */
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
		started = obs_startup("en-US", harness.config_dir, NULL);
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

/* ---- the saved connections (the module's config folder: <config dir>/andross/connections.json) ---- */

static char config_dir[512];

static void write_settings(const char *text)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/andross", config_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/andross/connections.json", config_dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_settings(void)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/andross/connections.json", config_dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char text[65536];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	return text;
}

/* How many files in the module's config folder start with connections.json.damaged. */
static int damaged_copies(void)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/andross", config_dir);
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += !strncmp(e->d_name, "connections.json.damaged", 24);
	if (d)
		closedir(d);
	return n;
}

static int start_with_config(void **state)
{
	(void)state;
	snprintf(config_dir, sizeof(config_dir), "%s/obs-config-%d", ANDROSS_TEST_TMP, (int)getpid());
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", config_dir, config_dir);
	assert_int_equal(system(cmd), 0);
	harness.config_dir = config_dir;
	return 0;
}

static int stop_and_forget_config(void **state)
{
	stop_headless_obs(state);
	harness.config_dir = NULL;
	return 0;
}

static const char *state_of(long long id)
{
	static char json[4096];
	calldata_t cd = {0};
	calldata_set_int(&cd, "connection", id);
	assert_true(proc_handler_call(obs_get_proc_handler(), "andross_get_state", &cd));
	snprintf(json, sizeof(json), "%s", calldata_string(&cd, "json"));
	calldata_free(&cd);
	return json;
}

static void test_saved_connections_come_back(void **state)
{
	/* replays go to the test's folder, never the home folder (a headless libobs has no recording folder) */
	char settings[2048];
	snprintf(settings, sizeof(settings),
		 "{\"version\":1,\"connections\":["
		 "{\"name\":\"Demo\",\"url\":\"demo://\",\"relay\":{\"enabled\":false,\"listen\":\"127.0.0.1:0\"},"
		 "\"folder\":\"%s\",\"autoConnect\":true},"
		 "{\"name\":\"Setup 2\",\"url\":\"console://127.0.0.1:1\",\"folder\":\"%s\",\"autoConnect\":false}]}",
		 config_dir, config_dir);
	write_settings(settings);
	assert_int_equal(start_headless_obs(state), 0);
	open_and_init_andross();
	assert_true(log_has_line_starting_with("[andross] engine started: 2 connections"));
	/* the demo console plays in real time: within a few seconds its game is going on */
	bool in_game = false;
	for (int i = 0; i < 100 && !in_game; i++) {
		in_game = strstr(state_of(1), "\"inGame\":true") != NULL;
		if (!in_game) {
			struct timespec pause = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
			nanosleep(&pause, NULL);
		}
	}
	assert_true(in_game);
	assert_string_equal(state_of(2), "null"); /* saved, not connected at start-up */
	assert_string_equal(state_of(99), "null");
	obs_shutdown();
	harness.obs_running = false;
	assert_true(log_has_line_starting_with("[andross] engine stopped in "));
	assert_int_equal(bnum_allocs(), harness.allocs_before_startup);
	assert_int_equal(damaged_copies(), 0);
}

static void test_damaged_settings_are_kept_aside(void **state)
{
	write_settings("{\"connections\": [ this is not JSON");
	assert_int_equal(start_headless_obs(state), 0);
	open_and_init_andross();
	assert_true(log_has_line_starting_with("[andross] engine started: 0 connections"));
	assert_int_equal(damaged_copies(), 1);
	obs_shutdown();
	harness.obs_running = false;
	assert_int_equal(bnum_allocs(), harness.allocs_before_startup);
}

static void test_wrong_values_take_their_defaults(void **state)
{
	char settings[2048];
	snprintf(settings, sizeof(settings),
		 "{\"connections\":[{\"url\":\"demo://\",\"name\":5,\"relay\":{\"enabled\":\"yes\"},"
		 "\"folder\":\"%s\",\"autoConnect\":false},{\"name\":\"no url\"}]}",
		 config_dir);
	write_settings(settings);
	assert_int_equal(start_headless_obs(state), 0);
	open_and_init_andross();
	assert_true(log_has_line_starting_with("[andross] engine started: 1 connection"));
	/* one warning names everything that was wrong */
	bool warned = false;
	pthread_mutex_lock(&captured.mutex);
	for (size_t i = 0; i < captured.count; i++)
		warned |= strstr(captured.lines[i],
				 "wrong values took their defaults (name, enabled, a connection without "
				 "a url (left out))") != NULL;
	pthread_mutex_unlock(&captured.mutex);
	assert_true(warned);
	assert_int_equal(damaged_copies(), 1);
	obs_shutdown();
	harness.obs_running = false;
	/* saved again with the defaults (written off the UI thread, at the latest when the module unloads): the url as
	 * its name, the relay off */
	const char *saved = read_settings();
	assert_non_null(saved);
	assert_non_null(strstr(saved, "\"name\":\"demo://\""));
	assert_non_null(strstr(saved, "\"enabled\":false"));
	assert_int_equal(bnum_allocs(), harness.allocs_before_startup);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_andross_module_loads_and_identifies_itself, start_headless_obs,
						stop_headless_obs),
		cmocka_unit_test_setup_teardown(test_andross_module_unloads_and_frees_everything_on_shutdown,
						start_headless_obs, stop_headless_obs),
		cmocka_unit_test_setup_teardown(test_saved_connections_come_back, start_with_config,
						stop_and_forget_config),
		cmocka_unit_test_setup_teardown(test_damaged_settings_are_kept_aside, start_with_config,
						stop_and_forget_config),
		cmocka_unit_test_setup_teardown(test_wrong_values_take_their_defaults, start_with_config,
						stop_and_forget_config),
	};
	return cmocka_run_group_tests_name("obs_module_load", tests, NULL, NULL);
}
