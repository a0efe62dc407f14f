/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the dock reads and changes, behind an interface: the real provider (obs_provider.cpp) calls the module's C
 * glue (plugin/andross-obs.h), the same functions obs-websocket's vendor requests call; the tests use a fake one.
 * Every call is made on the UI thread and returns at once: status() copies what the engine last published, and
 * the changes wait at most for the engine's loop to run them, never for the network.
 */
#pragma once

#include "engine.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <memory>
#include <vector>

namespace andross_dock {

/* A connection's settings, as the dialog edits them. */
struct Settings {
	QString name;
	QString url;
	bool relayEnabled = false;
	QString relayListen; /* HOST:PORT; "" : the module picks 127.0.0.1 and a free port from 53742 */
	QString folder;      /* "" : the module's default (OBS's recording folder) */
	bool autoConnect = true;
};

/* A connection's settings and a copy of its session's status. Large (relay clients, the game): allocate it. */
struct Status {
	uint32_t id = 0;
	Settings c;
	bool running = false;           /* connected or trying to: it has a session */
	struct engine_session_status s; /* valid when running */
};

class Provider {
public:
	virtual ~Provider() = default;
	/* The ids of every connection, in the order they were added. */
	virtual std::vector<uint32_t> ids() = 0;
	/* false: no such connection (any more). */
	virtual bool status(uint32_t id, Status &out) = 0;
	/* Each returns false with err (in the module's words) when nothing changed. */
	virtual uint32_t add(const Settings &s, QString &err) = 0;
	virtual bool update(uint32_t id, const Settings &s, QString &err) = 0;
	virtual bool remove(uint32_t id, QString &err) = 0;
	virtual bool setRelay(uint32_t id, bool on, QString &err) = 0;
	virtual bool setConnected(uint32_t id, bool on, QString &err) = 0;
	/* Consoles announcing themselves, while a dialog wants them (one start, one stop). */
	virtual bool discoveryStart(QString &err) = 0;
	virtual void discoveryStop() = 0;
	virtual std::vector<discovery_console> discovered() = 0;
	/* A connection's rules as GetRules answers them ({id, rules, recordGames, broken}); false: no such connection.
	 * setRules replaces them ({rules, recordGames}) as SetRules does: false with err when refused. */
	virtual bool rules(uint32_t id, QByteArray &json) = 0;
	virtual bool setRules(uint32_t id, const QByteArray &json, QString &err) = 0;
	/* For the rule dialog's pickers: OBS's scenes, the sources in a scene (and in its groups), the Slippi Text
	 * sources. */
	virtual QStringList scenes() = 0;
	virtual QStringList sceneSources(const QString &scene) = 0;
	virtual QStringList textSources() = 0;
	/* A connection's set score as GetScore answers it ({id, bestOf, ..., sides: [{score, players: [{port, key}]}]});
	 * and ResetScore, SwapScore: true with the score after it, false with err. */
	virtual bool score(uint32_t id, QByteArray &json) = 0;
	virtual bool resetScore(uint32_t id, QString &err) = 0;
	virtual bool swapScore(uint32_t id, QString &err) = 0;
	/* The user-visible text of a data/locale key ("Dock.Title"). */
	virtual QString text(const char *key) = 0;
	/* Opens a folder in the desktop's file manager. */
	virtual void openFolder(const QString &path) = 0;
};

} // namespace andross_dock
