/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "score_view.hpp"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace andross_dock {

/* A player of a side: the key (a connect code, or "port N" when the player had none), with the Slippi name of the
 * player on that port in the latest game when it has one. */
static QString playerName(const QJsonObject &p, const Status &st, const Text &t)
{
	QString key = p.value(QStringLiteral("key")).toString();
	int port = p.value(QStringLiteral("port")).toInt();
	static const QRegularExpression portKey(QStringLiteral("^port ([1-4])$"));
	QRegularExpressionMatch m = portKey.match(key);
	if (m.hasMatch())
		key = t("Dock.Score.Port").arg(m.captured(1));
	for (const game_player_snapshot &gp : st.s.game.players) {
		if (!gp.present || gp.port != port || !gp.name[0])
			continue;
		QString name = QString::fromUtf8(gp.name);
		return name == key ? name : t("Dock.Score.NameCode").arg(name, key);
	}
	return key;
}

ScoreView makeScoreView(const QByteArray &json, const Status &st, const Text &t)
{
	ScoreView v;
	QJsonParseError pe;
	QJsonDocument d = QJsonDocument::fromJson(json, &pe);
	if (pe.error != QJsonParseError::NoError || !d.isObject())
		return v;
	v.ok = true;
	QJsonObject o = d.object();
	QJsonArray sides = o.value(QStringLiteral("sides")).toArray();
	if (sides.size() != 2) {
		v.text = t("Dock.Score.None");
		return v;
	}
	v.hasPair = true;
	for (int k = 0; k < 2; k++) {
		QJsonObject s = sides[k].toObject();
		QStringList names;
		for (const QJsonValue &p : s.value(QStringLiteral("players")).toArray())
			names << playerName(p.toObject(), st, t);
		v.sides[k].name = names.join(QStringLiteral(" & "));
		v.sides[k].points = (unsigned)s.value(QStringLiteral("score")).toInt();
	}
	v.text = t("Dock.Score.Line")
			 .arg(v.sides[0].name, QString::number(v.sides[0].points), QString::number(v.sides[1].points),
			      v.sides[1].name);
	int bestOf = o.value(QStringLiteral("bestOf")).toInt();
	if (bestOf > 0)
		v.text = t("Dock.Score.BestOf").arg(v.text, QString::number(bestOf));
	if (o.value(QStringLiteral("ended")).toBool())
		v.text = t("Dock.Score.Ended").arg(v.text);
	return v;
}

} // namespace andross_dock
