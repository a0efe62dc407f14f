/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "view.hpp"

#include <QFileInfo>

#include <cmath>

namespace andross_dock {

QString urlAddress(const QString &url)
{
	QString a = url;
	int scheme = a.indexOf(QStringLiteral("://"));
	if (scheme >= 0)
		a = a.mid(scheme + 3);
	int query = a.indexOf(QLatin1Char('?'));
	if (query >= 0)
		a = a.left(query);
	return a;
}

/* Names are looked up in the locale (Dock.Stage.N, Dock.Character.N); an id the locale does not name is shown as
 * its number, so a game on a stage added by a mod still reads. */
static QString named(const Text &t, const char *prefix, unsigned id, const char *fallback)
{
	QByteArray key = QByteArray(prefix) + QByteArray::number(id);
	QString s = t(key.constData());
	if (s.isEmpty() || s == QString::fromUtf8(key))
		return t(fallback).arg(id);
	return s;
}

QString stageName(const Text &t, unsigned stage_id)
{
	return named(t, "Dock.Stage.", stage_id, "Dock.StageNumber");
}

QString characterName(const Text &t, unsigned character_id)
{
	return named(t, "Dock.Character.", character_id, "Dock.CharacterNumber");
}

static QString playerLine(const Text &t, const game_player_snapshot &p)
{
	QString who = QString::fromUtf8(p.name);
	if (who.isEmpty())
		who = QString::fromUtf8(p.connect_code);
	QString line = t("Dock.Player").arg(p.port).arg(characterName(t, p.character_id));
	if (!who.isEmpty())
		line += QStringLiteral(" · ") + who;
	if (p.start_stocks)
		line += QStringLiteral(" · ") + t("Dock.Stocks").arg(p.stocks_remaining);
	line += QStringLiteral(" · ") + t("Dock.Percent").arg((int)std::lround(p.percent));
	return line;
}

CardView makeCardView(const Status &st, const Text &t)
{
	CardView v;
	v.id = st.id;
	v.name = st.c.name;
	v.running = st.running;
	v.connectText = t(st.running ? "Dock.Disconnect" : "Dock.Connect");
	const engine_session_status &s = st.s;
	QString address = urlAddress(st.c.url);
	if (st.c.url.startsWith(QStringLiteral("demo://")))
		address = t("Dock.DemoAddress");
	QString reason = QString::fromUtf8(s.reason);

	if (!st.running) {
		v.state = CardState::Disconnected;
		v.stateText = t("Dock.State.Off");
		v.stateColor = QColor(0x80, 0x80, 0x80);
	} else if (s.source_ended) {
		v.state = CardState::Ended;
		v.stateText = reason.isEmpty() ? t("Dock.State.Ended") : t("Dock.State.EndedReason").arg(reason);
		v.stateColor = QColor(0x80, 0x80, 0x80);
	} else if (s.state == SOURCE_CONNECTED) {
		v.state = CardState::Connected;
		QString nick = QString::fromUtf8(s.console_nick);
		v.stateText = nick.isEmpty() ? t("Dock.State.Connected").arg(address)
					     : t("Dock.State.ConnectedNick").arg(nick, address);
		v.stateColor = QColor(0x2e, 0xa0, 0x43);
	} else if (s.state == SOURCE_WAITING) {
		v.state = CardState::Reconnecting;
		long secs = s.reconnect_in_ms < 0 ? 0 : (long)((s.reconnect_in_ms + 999) / 1000);
		v.stateText = t("Dock.State.Reconnecting").arg(secs);
		if (!reason.isEmpty())
			v.stateText += QStringLiteral(": ") + reason;
		v.stateColor = QColor(0xd0, 0x80, 0x10);
	} else if (s.state == SOURCE_CONNECTING) {
		v.state = CardState::Connecting;
		v.stateText = t("Dock.State.Connecting").arg(address);
		v.stateColor = QColor(0xc0, 0xa0, 0x10);
	} else {
		v.state = CardState::Disconnected;
		v.stateText = reason.isEmpty() ? t("Dock.State.Disconnected")
					       : t("Dock.State.DisconnectedReason").arg(reason);
		v.stateColor = QColor(0xc0, 0x30, 0x30);
	}

	if (st.running && s.gaps)
		v.gapText = t("Dock.Gap").arg(QString::number(s.gaps), QString::number(s.lost_bytes));

	if (v.state == CardState::Connected) {
		const game_snapshot &g = s.game;
		if (g.in_game) {
			v.gameText = stageName(t, g.stage_id);
			for (const game_player_snapshot &p : g.players)
				if (p.present)
					v.players << playerLine(t, p);
		} else {
			v.gameText = t("Dock.InMenus");
		}
	}

	v.relayOn = st.running ? s.relay_on : false;
	v.relayAddress = v.relayOn ? QString::fromUtf8(s.relay_address) : QString();
	v.clients = v.relayOn ? s.relay_clients : 0;
	v.clientsText = t(v.clients == 1 ? "Dock.Clients.One" : "Dock.Clients.Many").arg(v.clients);

	if (st.running && s.last_file[0]) {
		QFileInfo f(QString::fromUtf8(s.last_file));
		v.lastReplayPath = f.filePath();
		v.lastReplay = f.fileName();
		v.lastReplayFolder = f.absolutePath();
	}
	return v;
}

std::vector<ClientRow> clientRows(const Status &st, const Text &t)
{
	std::vector<ClientRow> rows;
	if (!st.running || !st.s.relay_on)
		return rows;
	size_t listed = st.s.relay_clients_listed;
	if (listed > ENGINE_STATUS_CLIENTS_MAX)
		listed = ENGINE_STATUS_CLIENTS_MAX;
	for (size_t i = 0; i < listed; i++) {
		const relay_client_status &c = st.s.clients[i];
		const char *mode = c.mode == RELAY_MODE_CONSOLE ? "Dock.Mode.Console"
				   : c.mode == RELAY_MODE_RAW   ? "Dock.Mode.Raw"
								: "Dock.Mode.Pending";
		rows.push_back({QString::fromUtf8(c.address), t(mode), QString::number(c.behind_bytes)});
	}
	if (st.s.relay_clients > listed)
		rows.push_back({t("Dock.Clients.More").arg(st.s.relay_clients - listed), QString(), QString()});
	return rows;
}

} // namespace andross_dock
