/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a card shows, made from a status copy: plain values and words, no widget, so the tests check them as they
 * are and the card only puts them on screen.
 */
#pragma once

#include "provider.hpp"

#include <QColor>
#include <QString>
#include <QStringList>

#include <functional>

namespace andross_dock {

using Text = std::function<QString(const char *key)>;

enum class CardState { Disconnected, Connecting, Connected, Reconnecting, Ended };

struct CardView {
	uint32_t id = 0;
	QString name;
	CardState state = CardState::Disconnected;
	QString stateText; /* "Connected to “Station 1” at 192.168.1.20", "Reconnecting in 3 s: ..." */
	QColor stateColor;
	QString gapText;     /* "" : no data lost */
	QString gameText;    /* the game in progress, "In menus", or "" when not connected */
	QStringList players; /* one line per player in the game */
	bool relayOn = false;
	QString relayAddress; /* what to give clients, "" while off */
	size_t clients = 0;
	QString clientsText;
	QString lastReplay; /* the file's name, "" when none yet */
	QString lastReplayPath;
	QString lastReplayFolder;
	bool running = false;
	QString connectText; /* the connect / disconnect button's words */
};

/* The address part of a URL ("console://192.168.1.20:51441?idle_ms=3000" -> "192.168.1.20:51441"). */
QString urlAddress(const QString &url);
QString stageName(const Text &t, unsigned stage_id);
QString characterName(const Text &t, unsigned character_id);
CardView makeCardView(const Status &st, const Text &t);
/* The client list's rows: address, mode, bytes behind. */
struct ClientRow {
	QString address, mode, behind;
};
std::vector<ClientRow> clientRows(const Status &st, const Text &t);

} // namespace andross_dock
