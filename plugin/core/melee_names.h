/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The English names of Melee's characters (external, character-select ids) and stages, as the Slippi tools show
 * them, for overlays and the tool. */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The character's name, or NULL for an id Melee does not have (above 32). */
const char *melee_character_name(unsigned external_id);
/* The stage's name, or NULL for an id with no stage. */
const char *melee_stage_name(unsigned stage_id);

#ifdef __cplusplus
}
#endif
