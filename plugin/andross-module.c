/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * andross OBS module entry points: the thin layer libobs loads. It registers nothing yet; sources, the relay and
 * the dock hang off obs_module_load() as they arrive. The Slippi engine itself lives in plugin/core/.
 */
#include <obs-module.h>

#ifndef ANDROSS_VERSION
#error "ANDROSS_VERSION must come from the build (plugin/CMakeLists.txt passes the CMake project version)"
#endif

OBS_DECLARE_MODULE()
OBS_MODULE_USE_DEFAULT_LOCALE("andross", "en-US")

MODULE_EXPORT const char *obs_module_name(void)
{
	return "andross";
}

MODULE_EXPORT const char *obs_module_description(void)
{
	return obs_module_text("Andross.Description");
}

bool obs_module_load(void)
{
	blog(LOG_INFO, "[andross] module loaded (version %s, libobs %s)", ANDROSS_VERSION, obs_get_version_string());
	return true;
}

void obs_module_unload(void)
{
	blog(LOG_INFO, "[andross] module unloaded");
}
