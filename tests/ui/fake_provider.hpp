/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A provider for the dock's tests: connections kept in memory (each change counted, so a test sees what the dock
 * asked for and that nothing was saved), errors to answer on demand, consoles "on the network", and the texts read
 * from the real data/locale/en-US.ini (a key the locale lacks is recorded: the test fails on it).
 */
#pragma once

#include "provider.hpp"
#include "rules.h"
#include "set_score.h"
#include "json_writer.h"

#include <QFile>

#include <cstring>
#include <QHash>
#include <QSet>
#include <QTextStream>

#include <map>
#include <memory>

class FakeProvider : public andross_dock::Provider {
public:
	FakeProvider()
	{
		QFile f(QStringLiteral(ANDROSS_LOCALE_FILE));
		if (f.open(QIODevice::ReadOnly | QIODevice::Text)) {
			for (const QByteArray &raw : f.readAll().split('\n')) {
				QString line = QString::fromUtf8(raw).trimmed();
				int eq = line.indexOf(QLatin1Char('='));
				if (line.startsWith(QLatin1Char('#')) || eq <= 0)
					continue;
				QString v = line.mid(eq + 1);
				if (v.startsWith(QLatin1Char('"')) && v.endsWith(QLatin1Char('"')) && v.size() >= 2)
					v = v.mid(1, v.size() - 2);
				locale.insert(line.left(eq), v);
			}
		}
	}

	/* A connection as the module would have it. Returns its status to shape. */
	andross_dock::Status &put(uint32_t id, const QString &name, const QString &url)
	{
		auto st = std::make_unique<andross_dock::Status>();
		std::memset(&st->s, 0, sizeof(st->s));
		st->id = id;
		st->c.name = name;
		st->c.url = url;
		st->c.relayListen = QStringLiteral("127.0.0.1:%1").arg(53741 + id);
		st->s.reconnect_in_ms = -1;
		andross_dock::Status &ref = *st;
		conns[id] = std::move(st);
		order.push_back(id);
		return ref;
	}

	std::vector<uint32_t> ids() override { return order; }
	bool status(uint32_t id, andross_dock::Status &out) override
	{
		auto it = conns.find(id);
		if (it == conns.end())
			return false;
		out.id = it->second->id;
		out.c = it->second->c;
		out.running = it->second->running;
		out.s = it->second->s;
		return true;
	}
	uint32_t add(const andross_dock::Settings &s, QString &err) override
	{
		adds++;
		if (!refuse.isEmpty()) {
			err = refuse;
			return 0;
		}
		uint32_t id = nextId++;
		andross_dock::Status &st = put(id, s.name, s.url);
		st.c = s;
		st.running = true;
		st.s.state = SOURCE_CONNECTING;
		return id;
	}
	bool update(uint32_t id, const andross_dock::Settings &s, QString &err) override
	{
		updates++;
		if (!refuse.isEmpty()) {
			err = refuse;
			return false;
		}
		auto it = conns.find(id);
		if (it == conns.end()) {
			err = QStringLiteral("no connection %1").arg(id);
			return false;
		}
		it->second->c = s;
		return true;
	}
	bool remove(uint32_t id, QString &err) override
	{
		removes++;
		if (!conns.erase(id)) {
			err = QStringLiteral("no connection %1").arg(id);
			return false;
		}
		order.erase(std::find(order.begin(), order.end(), id));
		return true;
	}
	bool setRelay(uint32_t id, bool on, QString &err) override
	{
		relayCalls++;
		if (!refuse.isEmpty()) {
			err = refuse;
			return false;
		}
		andross_dock::Status &st = *conns.at(id);
		st.c.relayEnabled = on;
		if (st.running) {
			st.s.relay_on = on;
			qstrncpy(st.s.relay_address, on ? st.c.relayListen.toUtf8().constData() : "",
				 sizeof(st.s.relay_address));
		}
		return true;
	}
	bool setConnected(uint32_t id, bool on, QString &err) override
	{
		connectCalls++;
		(void)err;
		andross_dock::Status &st = *conns.at(id);
		st.running = on;
		st.s.state = on ? SOURCE_CONNECTING : SOURCE_DISCONNECTED;
		return true;
	}
	bool discoveryStart(QString &err) override
	{
		if (!discoveryError.isEmpty()) {
			err = discoveryError;
			return false;
		}
		discoveryUsers++;
		return true;
	}
	void discoveryStop() override { discoveryUsers--; }
	std::vector<discovery_console> discovered() override { return consoles; }
	/* Rules as the module keeps them: the core's parser takes or refuses them and its writer gives them back; a rule
	 * naming a scene (or a source in it) that `sceneList`/`sourcesOf` lack is broken, as the module says. */
	bool rules(uint32_t id, QByteArray &json) override
	{
		if (!conns.count(id))
			return false;
		rules_set *s = ruleSets[id].get();
		if (!s) {
			ruleSets[id].reset(new rules_set());
			s = ruleSets[id].get();
			rules_set_init(s);
			rules_set_defaults(s);
		}
		bytes out;
		bytes_init(&out, 0);
		json_writer jw;
		jw_init(&jw, &out);
		jw_object_begin(&jw, nullptr);
		jw_int(&jw, "id", id);
		rules_write(s, &jw);
		jw_array_begin(&jw, "broken");
		for (size_t i = 0; i < s->n; i++) {
			const rule &r = s->rules[i];
			QString scene = QString::fromUtf8(r.scene), source = QString::fromUtf8(r.source);
			QString why;
			if (rule_action_uses_scene(r.action) && !sceneList.contains(scene))
				why = QStringLiteral("no scene named \"%1\"").arg(scene);
			else if (rule_action_uses_scene(r.action) && rule_action_uses_source(r.action) &&
				 !sourcesOf.value(scene).contains(source))
				why = QStringLiteral("scene \"%1\" has no source \"%2\"").arg(scene, source);
			if (why.isEmpty())
				continue;
			jw_object_begin(&jw, nullptr);
			jw_int(&jw, "index", (int64_t)i);
			jw_string(&jw, "reason", why.toUtf8().constData());
			jw_bool(&jw, "optional", r.optional);
			jw_object_end(&jw);
		}
		jw_array_end(&jw);
		jw_object_end(&jw);
		json = QByteArray((const char *)out.data, (int)out.len);
		bytes_free(&out);
		return true;
	}
	bool setRules(uint32_t id, const QByteArray &json, QString &err) override
	{
		setRulesCalls++;
		lastRules = json;
		if (!conns.count(id)) {
			err = QStringLiteral("no connection %1").arg(id);
			return false;
		}
		if (!refuse.isEmpty()) {
			err = refuse;
			return false;
		}
		std::unique_ptr<rules_set> s(new rules_set());
		rules_set_init(s.get());
		char e[256];
		if (rules_parse(s.get(), json.constData(), (size_t)json.size(), e, sizeof(e)) < 0) {
			err = QString::fromUtf8(e);
			return false;
		}
		if (ruleSets[id])
			rules_set_free(ruleSets[id].get());
		ruleSets[id] = std::move(s);
		return true;
	}
	/* Set scores kept by the core's own set_score, written as GetScore answers. */
	bool score(uint32_t id, QByteArray &json) override
	{
		if (!conns.count(id))
			return false;
		set_score &sc = scoreOf(id);
		bytes out;
		bytes_init(&out, 0);
		json_writer jw;
		jw_init(&jw, &out);
		jw_object_begin(&jw, nullptr);
		jw_int(&jw, "id", id);
		set_score_json(&jw, &sc);
		jw_object_end(&jw);
		json = QByteArray((const char *)out.data, (int)out.len);
		bytes_free(&out);
		return true;
	}
	bool resetScore(uint32_t id, QString &err) override
	{
		scoreCalls++;
		if (!conns.count(id) || !refuse.isEmpty()) {
			err = refuse.isEmpty() ? QStringLiteral("no connection %1").arg(id) : refuse;
			return false;
		}
		set_score_reset(&scoreOf(id));
		return true;
	}
	bool swapScore(uint32_t id, QString &err) override
	{
		scoreCalls++;
		if (!conns.count(id) || !refuse.isEmpty()) {
			err = refuse.isEmpty() ? QStringLiteral("no connection %1").arg(id) : refuse;
			return false;
		}
		set_score_swap(&scoreOf(id));
		return true;
	}
	set_score &scoreOf(uint32_t id)
	{
		auto it = scores.find(id);
		if (it == scores.end()) {
			set_score sc;
			set_score_init(&sc, 0);
			it = scores.emplace(id, sc).first;
		}
		return it->second;
	}
	/* A singles game between two ports (codes "" : by port), won by `winner` (a port; 0: no winner). */
	void playGame(uint32_t id, int portA, const char *codeA, int portB, const char *codeB, int winner)
	{
		set_score_player players[SLP_MAX_PLAYERS] = {};
		players[0].present = players[1].present = true;
		players[0].port = (uint8_t)portA;
		players[1].port = (uint8_t)portB;
		qstrncpy(players[0].connect_code, codeA, sizeof(players[0].connect_code));
		qstrncpy(players[1].connect_code, codeB, sizeof(players[1].connect_code));
		set_score_game_start(&scoreOf(id), players, false);
		uint8_t w = (uint8_t)winner;
		set_score_game_end(&scoreOf(id), &w, winner ? 1 : 0, nullptr);
	}
	QStringList scenes() override { return sceneList; }
	QStringList sceneSources(const QString &scene) override { return sourcesOf.value(scene); }
	QStringList textSources() override { return texts; }
	QString text(const char *key) override
	{
		QString k = QString::fromUtf8(key);
		auto it = locale.find(k);
		if (it == locale.end()) {
			/* stage and character names beyond the table fall back to their numbers: not a missing text */
			if (!k.startsWith(QStringLiteral("Dock.Stage.")) &&
			    !k.startsWith(QStringLiteral("Dock.Character.")))
				missing.insert(k);
			return k;
		}
		return it.value();
	}
	void openFolder(const QString &path) override { opened << path; }

	~FakeProvider()
	{
		for (auto &kv : ruleSets)
			if (kv.second)
				rules_set_free(kv.second.get());
	}

	std::map<uint32_t, std::unique_ptr<andross_dock::Status>> conns;
	std::map<uint32_t, std::unique_ptr<rules_set>> ruleSets;
	QStringList sceneList{QStringLiteral("Game"), QStringLiteral("Between games"), QStringLiteral("Starting soon")};
	QHash<QString, QStringList> sourcesOf{
		{QStringLiteral("Game"), {QStringLiteral("Capture"), QStringLiteral("Hype cam")}}};
	QStringList texts{QStringLiteral("Scoreboard")};
	QByteArray lastRules;
	int setRulesCalls = 0;
	std::map<uint32_t, set_score> scores;
	int scoreCalls = 0;
	std::vector<uint32_t> order;
	uint32_t nextId = 100;
	QString refuse;
	QString discoveryError;
	int discoveryUsers = 0;
	std::vector<discovery_console> consoles;
	int adds = 0, updates = 0, removes = 0, relayCalls = 0, connectCalls = 0;
	QStringList opened;
	QHash<QString, QString> locale;
	QSet<QString> missing;
};
