// SPDX-License-Identifier: GPL-2.0-or-later
// Every core header from C++ (the OBS dock is C++): each compiles there, and calls from C++ link to the C library,
// which only works when the declarations sit inside extern "C". Prints what it called and exits 0.
#include "base64.h"
#include "bytes.h"
#include "console_log.h"
#include "console_proto.h"
#include "console_server.h"
#include "discovery.h"
#include "dolphin_proto.h"
#include "engine.h"
#include "game_mailbox.h"
#include "json_reader.h"
#include "json_writer.h"
#include "melee_names.h"
#include "overlay_text.h"
#include "relay.h"
#include "set_score.h"
#include "sim_console.h"
#include "sim_dolphin.h"
#include "sim_replay.h"
#include "sjis.h"
#include "slp_combo.h"
#include "slp_file.h"
#include "slp_frames.h"
#include "slp_game.h"
#include "slp_meta.h"
#include "slp_reader.h"
#include "slp_recorder.h"
#include "slp_recorder_thread.h"
#include "slp_splitter.h"
#include "source.h"
#include "ubjson.h"
#include "utf8.h"
#include "net/fanout.h"
#include "net/loop.h"
#include "net/resolve.h"
#include "net/sock.h"

#include <cstdio>
#include <cstring>

int main()
{
	struct bytes b;
	bytes_init(&b, 64);
	bool appended = bytes_append(&b, reinterpret_cast<const uint8_t *>("abc"), 3);
	bytes_free(&b);

	char name[16];
	slp_file_safe_name(name, sizeof(name), "a/b", "x");
	char cut[8];
	utf8_truncate(cut, sizeof(cut), "abcdef\xc3\xa9");

	struct engine_session_options so;
	engine_session_options_init(&so);
	struct relay_options ro;
	relay_options_init(&ro);
	struct sim_console_options sco;
	sim_console_options_init(&sco);

	struct game_mailbox *m = game_mailbox_create(4, nullptr, nullptr);
	bool have_mailbox = m != nullptr;
	game_mailbox_destroy(m);
	struct net_loop *loop = net_loop_create();
	net_loop_destroy(loop);

	uint64_t rng = 1;
	uint32_t token = console_token_next(&rng);
	struct slp_splitter sp;
	slp_splitter_init(&sp);
	slp_splitter_free(&sp);
	static struct slp_combo_detector combos;
	bool present[SLP_COMBO_PLAYERS] = {true, false, true, false};
	slp_combo_init(&combos, present);

	struct overlay_text_input oti;
	overlay_text_input_init(&oti);
	char text[32];
	overlay_text_render("{stage}{p1.name}", &oti, text, sizeof(text));
	struct set_score ss;
	set_score_init(&ss, 3);
	const char *fox = melee_character_name(2);

	std::printf("bytes %d, safe name '%s', cut '%s', relay port %u, state '%s', change '%s', token %s, now %s\n",
		    appended, name, cut, ro.port, source_state_name(SOURCE_CONNECTED),
		    discovery_change_name(DISCOVERY_LOST), token ? "non-zero" : "zero", net_now_ms() ? "ok" : "zero");
	bool ok = appended && !std::strcmp(name, "a_b") && !std::strcmp(cut, "abcdef") &&
		  ro.port == RELAY_PORT_DEFAULT && token != 0 && have_mailbox && combos.enabled && !text[0] &&
		  set_score_wins_needed(&ss) == 2 && fox && !std::strcmp(fox, "Fox");
	return ok ? 0 : 1;
}
