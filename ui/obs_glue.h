/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dock's way into the module, in C: plugin/andross-obs.h uses C11 atomics, which C++ cannot include, so these
 * few functions (obs_glue.c) pass its calls through with plain structs. UI thread, except where said.
 */
#pragma once

#include "engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dock_glue_settings {
	char name[ENGINE_NAME_MAX];
	char url[ENGINE_URL_MAX];
	bool relay_enabled;
	char relay_listen[ENGINE_ADDRESS_MAX]; /* "" : the module's default */
	char folder[ENGINE_PATH_MAX];          /* "" : the module's default */
	bool auto_connect;
};

struct dock_glue_status {
	struct dock_glue_settings c;
	bool running;
	struct engine_session_status s;
};

bool dock_glue_ready(void); /* the module runs (its engine started) */
size_t dock_glue_ids(uint32_t *ids, size_t max);
bool dock_glue_get_status(uint32_t id, struct dock_glue_status *out);
uint32_t dock_glue_add(const struct dock_glue_settings *s, char *err, size_t err_size);
int dock_glue_update(uint32_t id, const struct dock_glue_settings *s, char *err, size_t err_size);
int dock_glue_remove(uint32_t id, char *err, size_t err_size);
int dock_glue_set_relay(uint32_t id, bool on, char *err, size_t err_size);
int dock_glue_set_connected(uint32_t id, bool on, char *err, size_t err_size);
int dock_glue_discovery_start(char *err, size_t err_size);
void dock_glue_discovery_stop(void);
size_t dock_glue_discovered(struct discovery_console *out, size_t max);
const char *dock_glue_text(const char *key);
/* A connection's rules as GetRules answers them (JSON, free with dock_glue_free; NULL: none), and SetRules's change
 * ({rules, recordGames}): the same C functions the vendor requests call. */
char *dock_glue_rules(uint32_t id);
int dock_glue_set_rules(uint32_t id, const char *json, char *err, size_t err_size);
void dock_glue_free(void *p);
/* A connection's set score as GetScore answers it, or after ResetScore / SwapScore (the requests' own functions,
 * called here on the UI thread). JSON to free with dock_glue_free; NULL with err when refused. */
enum dock_glue_score_op { DOCK_GLUE_SCORE_GET, DOCK_GLUE_SCORE_RESET, DOCK_GLUE_SCORE_SWAP };
char *dock_glue_score(uint32_t id, enum dock_glue_score_op op, char *err, size_t err_size);

/* obs-websocket's vendor request GetDock (what the dock shows, for tests and tools): registered on the module's
 * vendor once OBS has loaded, unregistered at exit. The dock hands its latest JSON to dock_glue_set_dump on each
 * refresh; the request (on obs-websocket's threads) answers a copy. */
void dock_glue_vendor_register(void);
void dock_glue_vendor_unregister(void);
void dock_glue_set_dump(const char *json);
/* GetDock {resetHeartbeat: true} asked to start the UI thread's heartbeat measure again: true once per asking. */
bool dock_glue_take_reset(void);

#ifdef __cplusplus
}
#endif
