/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A connection's set score as the card shows it, from GetScore's answer: no widget, so the tests check the words. */
#pragma once

#include "view.hpp"

#include <QByteArray>
#include <QString>

namespace andross_dock {

struct ScoreSide {
	QString name; /* "Mango (MANG#0)", "ZAIN#0", "P3"; doubles: two joined */
	unsigned points = 0;
};

struct ScoreView {
	bool ok = false;      /* the answer could be read */
	bool hasPair = false; /* two sides played since the reset */
	ScoreSide sides[2];
	QString text; /* "Mango (MANG#0) 2 – 1 ZAIN#0 (best of 5)", or "no set yet" */
};

/* st: the connection's status, for the players' names in its latest game. */
ScoreView makeScoreView(const QByteArray &json, const Status &st, const Text &t);

} // namespace andross_dock
