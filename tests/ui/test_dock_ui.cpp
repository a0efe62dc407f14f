/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Slippi dock's models and widgets, offscreen, against the fake provider: every state of a card in words and
 * colour, a gap, a game and the menus, 0 and 256 relay clients (the card and the client list), the card's actions
 * (connect, the relay switch and its refusal, copy, open folder, remove only after the question), a change in the
 * module reaching the card at the next refresh, and the add/edit dialog: each field's error beside it, nothing saved
 * while one is wrong, a real port in use, the warning for a relay on a non-loopback address, the consoles found on
 * the network, the module's own refusal. Every text comes from data/locale/en-US.ini; a missing key fails.
 */
#include "fake_provider.hpp"
#include "rules_view.hpp"
#include "score_view.hpp"
#include "validate.hpp"
#include "view.hpp"
#include "widgets.hpp"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QTest>
#include <QToolButton>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace andross_dock;

/* JSON written as it is, as a string (not a raw string literal: Qt 5's moc cannot read those) */
#define JSON(...) #__VA_ARGS__

static void setPlayer(game_player_snapshot &p, int port, int character, const char *name, const char *code, int stocks,
		      float percent)
{
	p.present = true;
	p.port = (uint8_t)port;
	p.character_id = (uint8_t)character;
	qstrncpy(p.name, name, sizeof(p.name));
	qstrncpy(p.connect_code, code, sizeof(p.connect_code));
	p.start_stocks = 4;
	p.stocks_remaining = (uint8_t)stocks;
	p.percent = percent;
}

/* A relay serving n clients; the status lists the first ENGINE_STATUS_CLIENTS_MAX, as the engine's does. */
static void setClients(Status &st, size_t n)
{
	st.running = true;
	st.s.relay_on = true;
	qstrncpy(st.s.relay_address, "127.0.0.1:53742", sizeof(st.s.relay_address));
	st.s.relay_clients = n;
	st.s.relay_clients_listed = n < ENGINE_STATUS_CLIENTS_MAX ? n : ENGINE_STATUS_CLIENTS_MAX;
	for (size_t i = 0; i < st.s.relay_clients_listed; i++) {
		relay_client_status &c = st.s.clients[i];
		qsnprintf(c.address, sizeof(c.address), "127.0.0.1:%zu", 40000 + i);
		c.mode = i % 2 ? RELAY_MODE_RAW : RELAY_MODE_CONSOLE;
		c.behind_bytes = i * 100;
	}
}

template<typename W> static W *child(QObject *parent, const char *name)
{
	W *w = parent->findChild<W *>(QString::fromLatin1(name));
	if (!w)
		qFatal("no child %s", name);
	return w;
}

class TestDock : public QObject {
	Q_OBJECT

private:
	FakeProvider *p = nullptr;
	Text t;
	QString tx(const char *key) { return p->text(key); }

private Q_SLOTS:
	void init()
	{
		p = new FakeProvider();
		QVERIFY2(!p->locale.isEmpty(), ANDROSS_LOCALE_FILE);
		t = [this](const char *k) {
			return p->text(k);
		};
	}
	void cleanup()
	{
		QVERIFY2(p->missing.isEmpty(), qPrintable(QStringList(p->missing.values()).join(QStringLiteral(", "))));
		QCOMPARE(p->discoveryUsers, 0); /* every dialog that listened stopped */
		delete p;
	}

	void everyState()
	{
		Status &st = p->put(1, QStringLiteral("Station 1"),
				    QStringLiteral("console://192.168.1.20:51441?idle_ms=3000"));
		CardView v = makeCardView(st, t);
		QCOMPARE(v.state, CardState::Disconnected);
		QCOMPARE(v.stateText, tx("Dock.State.Off"));
		QCOMPARE(v.connectText, tx("Dock.Connect"));
		QVERIFY(v.gameText.isEmpty());

		st.running = true;
		st.s.state = SOURCE_CONNECTING;
		v = makeCardView(st, t);
		QCOMPARE(v.state, CardState::Connecting);
		QCOMPARE(v.stateText, QStringLiteral("Connecting to 192.168.1.20:51441…"));
		QCOMPARE(v.connectText, tx("Dock.Disconnect"));
		QColor connecting = v.stateColor;

		st.s.state = SOURCE_CONNECTED;
		qstrncpy(st.s.console_nick, "Station 1", sizeof(st.s.console_nick));
		v = makeCardView(st, t);
		QCOMPARE(v.state, CardState::Connected);
		QCOMPARE(v.stateText, QStringLiteral("Connected to “Station 1” at 192.168.1.20:51441"));
		QCOMPARE(v.gameText, tx("Dock.InMenus"));
		QColor connected = v.stateColor;

		st.s.state = SOURCE_WAITING;
		st.s.reconnect_in_ms = 2400;
		qstrncpy(st.s.reason, "connection refused", sizeof(st.s.reason));
		v = makeCardView(st, t);
		QCOMPARE(v.state, CardState::Reconnecting);
		QCOMPARE(v.stateText, QStringLiteral("Reconnecting in 3 s: connection refused"));
		QVERIFY(v.gameText.isEmpty());
		QColor waiting = v.stateColor;

		st.s.state = SOURCE_DISCONNECTED;
		st.s.reconnect_in_ms = -1;
		v = makeCardView(st, t);
		QCOMPARE(v.stateText, QStringLiteral("Disconnected: connection refused"));
		QColor down = v.stateColor;

		st.s.source_ended = true;
		qstrncpy(st.s.reason, "the file ended", sizeof(st.s.reason));
		v = makeCardView(st, t);
		QCOMPARE(v.state, CardState::Ended);
		QCOMPARE(v.stateText, QStringLiteral("Ended: the file ended"));

		/* four states, four colours */
		QSet<QRgb> colours{connecting.rgb(), connected.rgb(), waiting.rgb(), down.rgb()};
		QCOMPARE(colours.size(), 4);

		/* the demo says where it is */
		Status &demo = p->put(2, QStringLiteral("Demo"), QStringLiteral("demo://"));
		demo.running = true;
		demo.s.state = SOURCE_CONNECTED;
		v = makeCardView(demo, t);
		QCOMPARE(v.stateText, tx("Dock.State.Connected").arg(tx("Dock.DemoAddress")));
	}

	void gapGameAndReplay()
	{
		Status &st = p->put(1, QStringLiteral("Wii"), QStringLiteral("console://10.0.0.5"));
		st.running = true;
		st.s.state = SOURCE_CONNECTED;
		QVERIFY(makeCardView(st, t).gapText.isEmpty());
		st.s.gaps = 2;
		st.s.lost_bytes = 1234;
		QCOMPARE(makeCardView(st, t).gapText, QStringLiteral("Data lost: 2 gap(s), 1234 bytes"));

		st.s.game.in_game = true;
		st.s.game.stage_id = 31;
		setPlayer(st.s.game.players[0], 1, 2, "Mango", "MANG#0", 4, 37.4f);
		setPlayer(st.s.game.players[1], 2, 9, "", "ZAIN#0", 3, 112.6f);
		CardView v = makeCardView(st, t);
		QCOMPARE(v.gameText, QStringLiteral("Battlefield"));
		QCOMPARE(v.players.size(), 2);
		QCOMPARE(v.players[0], QStringLiteral("P1 Fox · Mango · 4 stocks · 37%"));
		QCOMPARE(v.players[1], QStringLiteral("P2 Marth · ZAIN#0 · 3 stocks · 113%"));
		st.s.game.stage_id = 250; /* a stage the locale does not name */
		QCOMPARE(makeCardView(st, t).gameText, QStringLiteral("Stage 250"));

		qstrncpy(st.s.last_file, "/tmp/replays/Game_20260101T120000.slp", sizeof(st.s.last_file));
		v = makeCardView(st, t);
		QCOMPARE(v.lastReplay, QStringLiteral("Game_20260101T120000.slp"));
		QCOMPARE(v.lastReplayFolder, QStringLiteral("/tmp/replays"));
	}

	void zeroAnd256Clients()
	{
		Status &st = p->put(1, QStringLiteral("Wii"), QStringLiteral("console://10.0.0.5"));
		setClients(st, 0);
		CardView v = makeCardView(st, t);
		QCOMPARE(v.clientsText, QStringLiteral("0 clients"));
		QVERIFY(clientRows(st, t).empty());
		setClients(st, 1);
		QCOMPARE(makeCardView(st, t).clientsText, QStringLiteral("1 client"));
		setClients(st, 256);
		v = makeCardView(st, t);
		QCOMPARE(v.clientsText, QStringLiteral("256 clients"));
		std::vector<ClientRow> rows = clientRows(st, t);
		QCOMPARE(rows.size(), (size_t)ENGINE_STATUS_CLIENTS_MAX + 1);
		QCOMPARE(rows[0].address, QStringLiteral("127.0.0.1:40000"));
		QCOMPARE(rows[0].mode, tx("Dock.Mode.Console"));
		QCOMPARE(rows[3].mode, tx("Dock.Mode.Raw"));
		QCOMPARE(rows[3].behind, QStringLiteral("300"));
		QCOMPARE(rows.back().address, QStringLiteral("… and 192 more"));

		/* the same through the dock: the card's button opens the list, refreshed while open */
		Dock dock(p);
		dock.resize(400, 600);
		dock.show();
		QVERIFY(QTest::qWaitForWindowExposed(&dock));
		Card *card = dock.card(1);
		QVERIFY(card);
		QCOMPARE(child<QPushButton>(card, "clients")->text(), QStringLiteral("256 clients"));
		QTest::mouseClick(child<QPushButton>(card, "clients"), Qt::LeftButton);
		QVERIFY(dock.clientsDialog());
		QCOMPARE(dock.clientsDialog()->rows(), ENGINE_STATUS_CLIENTS_MAX + 1);
		setClients(*p->conns.at(1), 0);
		dock.refresh();
		QCOMPARE(dock.clientsDialog()->rows(), 0);
		QCOMPARE(child<QPushButton>(card, "clients")->text(), QStringLiteral("0 clients"));
	}

	void dockFollowsTheModule()
	{
		p->put(1, QStringLiteral("A"), QStringLiteral("console://10.0.0.1"));
		p->put(2, QStringLiteral("B"), QStringLiteral("demo://"));
		Dock dock(p);
		dock.show();
		QCOMPARE(dock.cardCount(), 2);
		QVERIFY(!child<QLabel>(&dock, "empty")->isVisible());
		/* a change made elsewhere (obs-websocket) reaches the card with the polling alone */
		Status &b = *p->conns.at(2);
		b.running = true;
		b.s.state = SOURCE_CONNECTED;
		QTRY_COMPARE_WITH_TIMEOUT(child<QLabel>(dock.card(2), "state")->text(),
					  tx("Dock.State.Connected").arg(tx("Dock.DemoAddress")), 2000);
		p->put(3, QStringLiteral("C"), QStringLiteral("relay://10.0.0.3"));
		QTRY_COMPARE_WITH_TIMEOUT(dock.cardCount(), 3, 2000);
		QString err;
		p->remove(1, err);
		p->remove(2, err);
		p->remove(3, err);
		QTRY_COMPARE_WITH_TIMEOUT(dock.cardCount(), 0, 2000);
		QVERIFY(child<QLabel>(&dock, "empty")->isVisible());
		QVERIFY(dock.maxGapMs() > 0); /* the heartbeat ran */
	}

	void cardActions()
	{
		Status &st = p->put(1, QStringLiteral("Wii"), QStringLiteral("console://10.0.0.5"));
		Dock dock(p);
		dock.setPolling(false); /* each step refreshes itself */
		dock.show();
		Card *card = dock.card(1);
		QTest::mouseClick(child<QPushButton>(card, "connect"), Qt::LeftButton);
		QCOMPARE(p->connectCalls, 1);
		QVERIFY(st.running);
		QCOMPARE(child<QPushButton>(card, "connect")->text(), tx("Dock.Disconnect"));

		QCheckBox *relay = child<QCheckBox>(card, "relay");
		QTest::mouseClick(relay, Qt::LeftButton);
		QCOMPARE(p->relayCalls, 1);
		QVERIFY(st.s.relay_on);
		QVERIFY(relay->isChecked());
		QCOMPARE(child<QLabel>(card, "address")->text(), QStringLiteral("127.0.0.1:53742"));
		QTest::mouseClick(child<QToolButton>(card, "copy"), Qt::LeftButton);
		QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("127.0.0.1:53742"));

		/* the module refuses: the switch shows the truth again, the reason beside the buttons */
		p->refuse = QStringLiteral("127.0.0.1:53742: address already in use");
		QTest::mouseClick(relay, Qt::LeftButton);
		QVERIFY(relay->isChecked());
		QCOMPARE(child<QLabel>(card, "error")->text(), tx("Dock.Error.Relay").arg(p->refuse));
		p->refuse.clear();
		QTest::mouseClick(relay, Qt::LeftButton);
		QVERIFY(!relay->isChecked());
		QVERIFY(!st.s.relay_on);
		QVERIFY(!child<QLabel>(card, "error")->isVisible());

		/* open folder: only with a replay */
		QVERIFY(!child<QPushButton>(card, "folder")->isEnabled());
		qstrncpy(st.s.last_file, "/tmp/x/Game_1.slp", sizeof(st.s.last_file));
		dock.refresh();
		QTest::mouseClick(child<QPushButton>(card, "folder"), Qt::LeftButton);
		QCOMPARE(p->opened, QStringList{QStringLiteral("/tmp/x")});

		/* remove asks first: "no" keeps it, "yes" removes it */
		QTest::mouseClick(child<QPushButton>(card, "remove"), Qt::LeftButton);
		QVERIFY(dock.removeQuestion());
		QVERIFY(dock.removeQuestion()->text().contains(QStringLiteral("“Wii”")));
		QCOMPARE(p->removes, 0);
		QTest::mouseClick(child<QPushButton>(dock.removeQuestion(), "no"), Qt::LeftButton);
		QCOMPARE(p->removes, 0);
		QCOMPARE(dock.cardCount(), 1);
		QTest::mouseClick(child<QPushButton>(dock.card(1), "remove"), Qt::LeftButton);
		QTest::mouseClick(child<QPushButton>(dock.removeQuestion(), "yes"), Qt::LeftButton);
		QCOMPARE(p->removes, 1);
		QCOMPARE(dock.cardCount(), 0);
	}

	/* ---- rules ---- */

	void rulesInWords()
	{
		p->put(1, QStringLiteral("Setup 1"), QStringLiteral("demo://"));
		QByteArray json;
		QVERIFY(p->rules(1, json)); /* the core's defaults, written by the core */
		RulesView v = readRules(json, t);
		QVERIFY(v.ok);
		QCOMPARE(v.rows.size(), (size_t)2);
		QCOMPARE(v.rows[0].words, QStringLiteral("Game start → switch to scene Game"));
		QCOMPARE(v.rows[1].words,
			 QStringLiteral("Game end (GAME!, Time) → switch to scene Between games after 3 s"));
		auto words = [this](const char *json) {
			return ruleWords(QJsonDocument::fromJson(json).object(), t);
		};
		QCOMPARE(words(JSON({
				 "event": "combo",
				 "port": 1,
				 "minDamage": 60,
				 "kill": true,
				 "action": "save_replay_buffer"
			 })),
			 QStringLiteral("Combo (P1, at least 60% or a kill) → save the replay buffer"));
		QCOMPARE(words(JSON({
				 "event": "last_stock",
				 "connectCode": "ABCD#123",
				 "character": 2,
				 "action": "show_source",
				 "scene": "Game",
				 "source": "Hype cam",
				 "delayMs": 500
			 })),
			 QStringLiteral("Last stock (ABCD#123, Fox) → show Hype cam in Game after 0.5 s"));
		QCOMPARE(
			words(JSON({
				"event": "menus",
				"seconds": 60,
				"action": "switch_scene",
				"scene": "Starting soon",
				"toPreview": true,
				"enabled": false
			})),
			QStringLiteral("In the menus for 60 s → switch to scene Starting soon (to the preview) (off)"));
		QCOMPARE(words(JSON({
				 "event": "set_end",
				 "action": "set_text_template",
				 "source": "Scoreboard",
				 "template": "{p1.name} wins!"
			 })),
			 QStringLiteral("Set end → set Scoreboard's template to “{p1.name} wins!”"));
		QCOMPARE(words(JSON({"event": "connection_lost", "action": "stop_recording"})),
			 QStringLiteral("Connection lost → stop recording"));
	}

	void cardShowsRulesAndBroken()
	{
		p->put(1, QStringLiteral("Setup 1"), QStringLiteral("demo://"));
		p->sceneList =
			QStringList{QStringLiteral("Game")}; /* no "Between games": the optional default is skipped */
		Dock dock(p);
		dock.show();
		Card *card = dock.card(1);
		QList<QLabel *> lines = card->findChildren<QLabel *>(QStringLiteral("rule"));
		QCOMPARE(lines.size(), 2);
		QCOMPARE(lines[0]->text(), QStringLiteral("Game start → switch to scene Game"));
		QList<QLabel *> why = card->findChildren<QLabel *>(QStringLiteral("ruleBroken"));
		QCOMPARE(why.size(), 1);
		QCOMPARE(why[0]->text(), tx("Rules.Skipped").arg(QStringLiteral("no scene named \"Between games\"")));

		/* a change made elsewhere (SetRules over obs-websocket) reaches the card with the polling alone */
		QString err;
		QVERIFY(p->setRules(1, JSON({
					    "rules": [
						    {"event": "game_start", "action": "switch_scene", "scene": "Nope"}, {
							    "event": "game_end",
							    "action": "hide_source",
							    "scene": "Game",
							    "source": "Gone"
						    }
					    ],
					    "recordGames": {"enabled": true, "stopAfterMs": 4000}
				    }),
				    err));
		QTRY_COMPARE_WITH_TIMEOUT(card->findChildren<QLabel *>(QStringLiteral("rule")).first()->text(),
					  QStringLiteral("Game start → switch to scene Nope"), 2000);
		why = card->findChildren<QLabel *>(QStringLiteral("ruleBroken"));
		QCOMPARE(why.size(), 2);
		QCOMPARE(why[0]->text(), tx("Rules.Broken").arg(QStringLiteral("no scene named \"Nope\"")));
		QCOMPARE(why[1]->text(),
			 tx("Rules.Broken").arg(QStringLiteral("scene \"Game\" has no source \"Gone\"")));
		QVERIFY(why[0]->styleSheet().contains(QStringLiteral("#c03030")));
		QCOMPARE(child<QLabel>(card, "ruleRecord")->text(),
			 tx("Rules.Words.RecordGames").arg(QStringLiteral("4")));
		QJsonArray dumped = card->dump().value(QStringLiteral("rules")).toArray();
		QCOMPARE(dumped.size(), 2);
		QVERIFY(dumped[0].toObject().value(QStringLiteral("broken")).toBool());

		/* the scene appears: the rule works again */
		p->sceneList << QStringLiteral("Nope");
		p->sourcesOf[QStringLiteral("Game")] << QStringLiteral("Gone");
		QTRY_COMPARE_WITH_TIMEOUT(card->findChildren<QLabel *>(QStringLiteral("ruleBroken")).size(), 0, 2000);
		/* none at all */
		QVERIFY(p->setRules(1, JSON({"rules": []}), err));
		QTRY_COMPARE_WITH_TIMEOUT(card->findChildren<QLabel *>(QStringLiteral("rule")).first()->text(),
					  tx("Rules.None"), 2000);
	}

	void ruleDialogValidates()
	{
		QJsonObject applied;
		int applies = 0;
		QString refusal;
		RuleDialog dlg(p, t, QJsonObject(), [&](const QJsonObject &r, QString &err) {
			applies++;
			if (!refusal.isEmpty()) {
				err = refusal;
				return false;
			}
			applied = r;
			return true;
		});
		dlg.show();
		QCOMPARE(dlg.windowTitle(), tx("Rules.AddTitle"));
		/* the scene pickers are OBS's (the provider's) */
		QComboBox *scene = child<QComboBox>(&dlg, "scene");
		QCOMPARE(scene->count(), 3);
		QCOMPARE(scene->itemText(0), QStringLiteral("Game"));
		/* a switch without a scene: refused by the parser, the error beside the scene */
		scene->setCurrentText(QString());
		QVERIFY(!dlg.save());
		QCOMPARE(applies, 0);
		QLabel *sceneError = child<QLabel>(&dlg, "sceneError");
		QVERIFY(sceneError->isVisible());
		QCOMPARE(sceneError->text(), tx("Rules.Error.scene"));
		QVERIFY(sceneError->toolTip().contains(QStringLiteral("scene is required")));
		/* a delay that is not a whole number, then one out of range */
		scene->setCurrentText(QStringLiteral("Game"));
		QLineEdit *delay = child<QLineEdit>(&dlg, "delayMs");
		QTest::keyClicks(delay, QStringLiteral("abc"));
		QVERIFY(child<QLabel>(&dlg, "delayMsError")->isVisible());
		QVERIFY(!sceneError->isVisible());
		delay->clear();
		QTest::keyClicks(delay, QStringLiteral("3600001"));
		QCOMPARE(child<QLabel>(&dlg, "delayMsError")->text(), tx("Rules.Error.delayMs"));
		QVERIFY(!dlg.save());
		delay->clear();
		QTest::keyClicks(delay, QStringLiteral("2500"));
		QVERIFY(!child<QLabel>(&dlg, "delayMsError")->isVisible());
		/* menus needs its seconds, and only menus shows the field */
		QComboBox *event = child<QComboBox>(&dlg, "event");
		QVERIFY(!child<QWidget>(&dlg, "secondsRow")->isVisible());
		event->setCurrentIndex(event->findData(QStringLiteral("menus")));
		QVERIFY(child<QWidget>(&dlg, "secondsRow")->isVisible());
		QVERIFY(!child<QWidget>(&dlg, "portRow")->isVisible()); /* no player in the menus */
		QVERIFY(child<QLabel>(&dlg, "secondsError")->isVisible());
		QTest::keyClicks(child<QLineEdit>(&dlg, "seconds"), QStringLiteral("0"));
		QVERIFY(child<QLabel>(&dlg, "secondsError")->isVisible()); /* 1 to 3600 */
		child<QLineEdit>(&dlg, "seconds")->setText(QStringLiteral("90"));
		QVERIFY(dlg.validate());
		/* a scene OBS does not have: right, with a warning that it is broken until it has */
		scene->setCurrentText(QStringLiteral("Later"));
		QVERIFY(dlg.validate());
		QCOMPARE(child<QLabel>(&dlg, "sceneWarning")->text(),
			 tx("Rules.Warning.NoScene").arg(QStringLiteral("Later")));
		scene->setCurrentText(QStringLiteral("Starting soon"));
		QVERIFY(!child<QLabel>(&dlg, "sceneWarning")->isVisible());
		/* the module refuses: kept open with its reason */
		refusal = QStringLiteral("out of memory");
		QVERIFY(!dlg.save());
		QCOMPARE(child<QLabel>(&dlg, "saveError")->text(), tx("Dock.Error.Save").arg(refusal));
		refusal.clear();
		QVERIFY(dlg.save());
		QCOMPARE(applied, QJsonDocument::fromJson(JSON({
					  "event": "menus",
					  "seconds": 90,
					  "action": "switch_scene",
					  "scene": "Starting soon",
					  "delayMs": 2500
				  }))
					  .object());

		/* the source picker: the scene's sources for show/hide, the Slippi Text sources for a template */
		RuleDialog d2(p, t,
			      QJsonDocument::fromJson(JSON({
				      "event": "combo",
				      "minDamage": 60,
				      "kill": true,
				      "action": "show_source",
				      "scene": "Game",
				      "source": "Hype cam",
				      "optional": true
			      }))
				      .object(),
			      [](const QJsonObject &, QString &) { return true; });
		QComboBox *source = child<QComboBox>(&d2, "source");
		QCOMPARE(source->count(), 2);
		QCOMPARE(source->currentText(), QStringLiteral("Hype cam"));
		QCOMPARE(child<QLineEdit>(&d2, "minDamage")->text(), QStringLiteral("60"));
		QVERIFY(child<QCheckBox>(&d2, "kill")->isChecked());
		QCOMPARE(d2.rule(), QJsonDocument::fromJson(JSON({
					    "event": "combo",
					    "minDamage": 60,
					    "kill": true,
					    "action": "show_source",
					    "scene": "Game",
					    "source": "Hype cam",
					    "optional": true
				    }))
					    .object());
		QComboBox *action = child<QComboBox>(&d2, "action");
		action->setCurrentIndex(action->findData(QStringLiteral("set_text_template")));
		QCOMPARE(source->count(), 1);
		QCOMPARE(source->itemText(0), QStringLiteral("Scoreboard"));
		QVERIFY(!child<QWidget>(&d2, "sceneRow")->isVisibleTo(&d2));
		QVERIFY(child<QWidget>(&d2, "templateRow")->isVisibleTo(&d2));
		/* minDamage typed wrong: the parser's minDamage error */
		child<QLineEdit>(&d2, "minDamage")->setText(QStringLiteral("-5"));
		QVERIFY(!d2.validate());
		QCOMPARE(child<QLabel>(&d2, "minDamageError")->text(), tx("Rules.Error.minDamage"));
	}

	void rulesDialogEdits()
	{
		p->put(1, QStringLiteral("Setup 1"), QStringLiteral("demo://"));
		Dock dock(p);
		dock.setPolling(false);
		dock.show();
		QTest::mouseClick(child<QPushButton>(dock.card(1), "rules"), Qt::LeftButton);
		RulesDialog *rd = dock.rulesDialog();
		QVERIFY(rd && rd->isVisible());
		QListWidget *list = child<QListWidget>(rd, "list");
		QCOMPARE(list->count(), 2);
		/* add: game start, port 2 -> start recording */
		QTest::mouseClick(child<QPushButton>(rd, "add"), Qt::LeftButton);
		RuleDialog *rule = rd->ruleDialog();
		QVERIFY(rule);
		QComboBox *port = child<QComboBox>(rule, "port");
		port->setCurrentIndex(2);
		QComboBox *action = child<QComboBox>(rule, "action");
		action->setCurrentIndex(action->findData(QStringLiteral("start_recording")));
		QVERIFY(!child<QWidget>(rule, "sceneRow")->isVisibleTo(rule));
		QTest::mouseClick(child<QPushButton>(rule, "save"), Qt::LeftButton);
		QCOMPARE(p->setRulesCalls, 1);
		QByteArray json;
		QVERIFY(p->rules(1, json));
		RulesView v = readRules(json, t);
		QCOMPARE(v.rows.size(), (size_t)3);
		QCOMPARE(v.rows[2].rule, QJsonDocument::fromJson(JSON({
						 "event": "game_start",
						 "port": 2,
						 "action": "start_recording",
						 "delayMs": 0,
						 "enabled": true,
						 "optional": false
					 }))
						 .object());
		QCOMPARE(v.rows[2].words, QStringLiteral("Game start (P2) → start recording"));
		QCOMPARE(list->count(), 3);
		dock.refresh();
		QCOMPARE(dock.card(1)->findChildren<QLabel *>(QStringLiteral("rule")).size(), 3);
		/* edit the first: its delay */
		list->setCurrentRow(0);
		QTest::mouseClick(child<QPushButton>(rd, "edit"), Qt::LeftButton);
		rule = rd->ruleDialog();
		QCOMPARE(rule->windowTitle(), tx("Rules.EditTitle"));
		QCOMPARE(child<QComboBox>(rule, "scene")->currentText(), QStringLiteral("Game"));
		QTest::keyClicks(child<QLineEdit>(rule, "delayMs"), QStringLiteral("1500"));
		QTest::mouseClick(child<QPushButton>(rule, "save"), Qt::LeftButton);
		QVERIFY(p->rules(1, json));
		QCOMPARE(readRules(json, t).rows[0].words,
			 QStringLiteral("Game start → switch to scene Game after 1.5 s"));
		/* move it down, then remove the (new) first */
		list->setCurrentRow(0);
		QTest::mouseClick(child<QPushButton>(rd, "down"), Qt::LeftButton);
		QVERIFY(p->rules(1, json));
		v = readRules(json, t);
		QCOMPARE(v.rows[1].words, QStringLiteral("Game start → switch to scene Game after 1.5 s"));
		QCOMPARE(list->currentRow(), 1);
		QVERIFY(child<QPushButton>(rd, "up")->isEnabled());
		list->setCurrentRow(0);
		QVERIFY(!child<QPushButton>(rd, "up")->isEnabled());
		QTest::mouseClick(child<QPushButton>(rd, "remove"), Qt::LeftButton);
		QVERIFY(p->rules(1, json));
		v = readRules(json, t);
		QCOMPARE(v.rows.size(), (size_t)2);
		QCOMPARE(v.rows[0].words, QStringLiteral("Game start → switch to scene Game after 1.5 s"));
		/* the per-game recording: a bad stop time stays beside the field, a good one is set */
		int calls = p->setRulesCalls;
		QLineEdit *stop = child<QLineEdit>(rd, "stopAfter");
		stop->setText(QStringLiteral("soon"));
		Q_EMIT stop->editingFinished();
		QVERIFY(child<QLabel>(rd, "stopError")->isVisible());
		QCOMPARE(p->setRulesCalls, calls);
		stop->setText(QStringLiteral("99999999"));
		Q_EMIT stop->editingFinished();
		QCOMPARE(child<QLabel>(rd, "stopError")->text(),
			 tx("Rules.Error.stopAfterMs")); /* the parser's range */
		stop->setText(QStringLiteral("7000"));
		Q_EMIT stop->editingFinished();
		QVERIFY(!child<QLabel>(rd, "stopError")->isVisible());
		QTest::mouseClick(child<QCheckBox>(rd, "recordGames"), Qt::LeftButton);
		QVERIFY(p->ruleSets[1]->record_games);
		QCOMPARE(p->ruleSets[1]->record_stop_ms, 7000u);
		QCOMPARE(p->ruleSets[1]->n, (size_t)2); /* the rules stay */
		/* the module's refusal shows in the list's dialog */
		p->refuse = QStringLiteral("no connection 1");
		list->setCurrentRow(0);
		QTest::mouseClick(child<QPushButton>(rd, "remove"), Qt::LeftButton);
		QCOMPARE(child<QLabel>(rd, "error")->text(), tx("Dock.Error.Save").arg(p->refuse));
		p->refuse.clear();
		QJsonObject d = dock.dump().value(QStringLiteral("rules")).toObject();
		QCOMPARE(d.value(QStringLiteral("rows")).toArray().size(), 2);
		QCOMPARE(d.value(QStringLiteral("recordGames")).toBool(), true);
	}

	void scoreRow()
	{
		Status &st = p->put(1, QStringLiteral("Setup 1"), QStringLiteral("console://10.0.0.5"));
		Dock dock(p);
		dock.setPolling(false);
		dock.show();
		Card *card = dock.card(1);
		QLabel *score = child<QLabel>(card, "score");
		QCOMPARE(score->text(), tx("Dock.Score.None"));
		QVERIFY(!child<QPushButton>(card, "scoreSwap")->isEnabled());
		/* two games between the same players (the core's set_score): 2 - 0 for the first side */
		p->playGame(1, 1, "MANG#0", 2, "", 1);
		p->playGame(1, 1, "MANG#0", 2, "", 1);
		st.running = true;
		st.s.state = SOURCE_CONNECTED;
		st.s.game.in_game = true;
		setPlayer(st.s.game.players[0], 1, 2, "Mango", "MANG#0", 4, 0);
		dock.refresh();
		QCOMPARE(score->text(), QStringLiteral("Mango (MANG#0) 2 – 0 P2"));
		QVERIFY(child<QPushButton>(card, "scoreSwap")->isEnabled());
		/* Swap: the sides trade places */
		QTest::mouseClick(child<QPushButton>(card, "scoreSwap"), Qt::LeftButton);
		QCOMPARE(score->text(), QStringLiteral("P2 0 – 2 Mango (MANG#0)"));
		/* a best-of, and the set over */
		char err[160];
		QCOMPARE(set_score_set_best_of(&p->scoreOf(1), 3, err, sizeof(err)), 0);
		dock.refresh();
		QCOMPARE(score->text(), QStringLiteral("P2 0 – 2 Mango (MANG#0) (best of 3): set over"));
		/* Reset: both to 0, the players stay */
		QTest::mouseClick(child<QPushButton>(card, "scoreReset"), Qt::LeftButton);
		QCOMPARE(p->scoreCalls, 2);
		QCOMPARE(score->text(), QStringLiteral("P2 0 – 0 Mango (MANG#0) (best of 3)"));
		QJsonObject d = card->dump().value(QStringLiteral("score")).toObject();
		QCOMPARE(d.value(QStringLiteral("sides")).toArray().size(), 2);
		QCOMPARE(
			d.value(QStringLiteral("sides")).toArray()[1].toObject().value(QStringLiteral("name")).toString(),
			QStringLiteral("Mango (MANG#0)"));
		/* the module refuses: the reason below the buttons */
		p->refuse = QStringLiteral("andross is not running");
		QTest::mouseClick(child<QPushButton>(card, "scoreReset"), Qt::LeftButton);
		QCOMPARE(child<QLabel>(card, "error")->text(), p->refuse);
		p->refuse.clear();
		/* doubles: two players a side */
		ScoreView v = makeScoreView(
			JSON({
				"id": 1,
				"bestOf": 0,
				"ended": false,
				"sides": [
					{
						"score": 1,
						"players": [{"port": 1, "key": "AAAA#1"}, {"port": 3, "key": "CCCC#3"}]
					},
					{
						"score": 0,
						"players": [{"port": 2, "key": "port 2"}, {"port": 4, "key": "DDDD#4"}]
					}
				]
			}),
			st, t);
		QCOMPARE(v.text,
			 QStringLiteral("Mango (AAAA#1) & CCCC#3 1 – 0 P2 & DDDD#4")); /* port 1 is Mango in the game */
		QVERIFY(!makeScoreView("not json", st, t).ok);
	}

	void checks()
	{
		QCOMPARE(QString::fromLatin1(checkHost(QStringLiteral("192.168.1.20"))), QString());
		QCOMPARE(QString::fromLatin1(checkHost(QStringLiteral("wii.local"))), QString());
		QCOMPARE(QString::fromLatin1(checkHost(QStringLiteral("[fd00::20]"))), QString());
		QCOMPARE(QString::fromLatin1(checkHost(QStringLiteral("300.1.2.3"))),
			 QStringLiteral("Dock.Error.AddressBad"));
		QCOMPARE(QString::fromLatin1(checkHost(QStringLiteral("1.2.3"))),
			 QStringLiteral("Dock.Error.AddressBad"));
		QCOMPARE(QString::fromLatin1(checkHost(QStringLiteral("my wii!"))),
			 QStringLiteral("Dock.Error.AddressBad"));
		QCOMPARE(QString::fromLatin1(checkHost(QStringLiteral("console://x"))),
			 QStringLiteral("Dock.Error.AddressBad"));
		QCOMPARE(QString::fromLatin1(checkHost(QStringLiteral(" "))),
			 QStringLiteral("Dock.Error.AddressEmpty"));
		QCOMPARE(QString::fromLatin1(checkPort(QStringLiteral("0"))), QStringLiteral("Dock.Error.PortBad"));
		QCOMPARE(QString::fromLatin1(checkPort(QStringLiteral("65536"))), QStringLiteral("Dock.Error.PortBad"));
		QCOMPARE(QString::fromLatin1(checkPort(QStringLiteral("51441"))), QString());
		QCOMPARE(QString::fromLatin1(checkListen(QStringLiteral("localhost:53742"))),
			 QStringLiteral("Dock.Error.ListenBad"));
		QCOMPARE(QString::fromLatin1(checkListen(QStringLiteral("127.0.0.1"))),
			 QStringLiteral("Dock.Error.ListenBad"));
		QCOMPARE(QString::fromLatin1(checkListen(QStringLiteral("[::1]:53742"))), QString());
		QVERIFY(listenIsPublic(QStringLiteral("0.0.0.0:53742")));
		QVERIFY(listenIsPublic(QStringLiteral("192.168.1.2:53742")));
		QVERIFY(!listenIsPublic(QStringLiteral("127.0.0.1:53742")));
		QVERIFY(!listenIsPublic(QStringLiteral("[::1]:53742")));
		UrlParts u = parseUrl(QStringLiteral("dolphin://[fd00::20]:51442?idle_ms=3000"));
		QCOMPARE(u.kind, Kind::Dolphin);
		QCOMPARE(u.host, QStringLiteral("[fd00::20]"));
		QCOMPARE(u.port, QStringLiteral("51442"));
		QCOMPARE(makeUrl(u), QStringLiteral("dolphin://[fd00::20]:51442?idle_ms=3000"));
		QCOMPARE(makeUrl(parseUrl(QStringLiteral("demo://"))), QStringLiteral("demo://"));
	}

	void addDialogValidates()
	{
		/* a port in use on this machine, for real */
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		QCOMPARE(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0);
		QCOMPARE(listen(fd, 1), 0);
		socklen_t len = sizeof(a);
		getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
		QString busy = QStringLiteral("127.0.0.1:%1").arg(ntohs(a.sin_port));

		Dock dock(p);
		dock.show();
		QTest::mouseClick(dock.addButton(), Qt::LeftButton);
		EditDialog *d = dock.editDialog();
		QVERIFY(d);
		QCOMPARE(d->windowTitle(), tx("Dock.AddTitle"));
		auto *save = child<QPushButton>(d, "save");
		QTest::mouseClick(save, Qt::LeftButton);
		QCOMPARE(child<QLabel>(d, "nameError")->text(), tx("Dock.Error.NameEmpty"));
		QCOMPARE(child<QLabel>(d, "addressError")->text(), tx("Dock.Error.AddressEmpty"));

		QTest::keyClicks(child<QLineEdit>(d, "name"), QStringLiteral("Station 1"));
		QVERIFY(!child<QLabel>(d, "nameError")->isVisible());
		QTest::keyClicks(child<QLineEdit>(d, "address"), QStringLiteral("300.1.2.3"));
		QCOMPARE(child<QLabel>(d, "addressError")->text(), tx("Dock.Error.AddressBad")); /* as typed */
		QTest::keyClicks(child<QLineEdit>(d, "port"), QStringLiteral("99999"));
		QCOMPARE(child<QLabel>(d, "portError")->text(), tx("Dock.Error.PortBad"));
		QTest::keyClicks(child<QLineEdit>(d, "listen"), busy);
		QCOMPARE(child<QLabel>(d, "listenError")->text(), tx("Dock.Error.ListenInUse"));
		QTest::keyClicks(child<QLineEdit>(d, "folder"), QStringLiteral("/no/such/folder"));
		QCOMPARE(child<QLabel>(d, "folderError")->text(), tx("Dock.Error.FolderMissing"));
		QTest::mouseClick(save, Qt::LeftButton);
		QCOMPARE(p->adds, 0); /* nothing saved while a field is wrong */
		QVERIFY(d->isVisible());

		child<QLineEdit>(d, "address")->clear();
		QTest::keyClicks(child<QLineEdit>(d, "address"), QStringLiteral("192.168.1.20"));
		child<QLineEdit>(d, "port")->clear();
		QTest::keyClicks(child<QLineEdit>(d, "port"), QStringLiteral("51441"));
		child<QLineEdit>(d, "listen")->clear();
		QTest::keyClicks(child<QLineEdit>(d, "listen"), QStringLiteral("192.0.2.1:53742"));
		QCOMPARE(child<QLabel>(d, "listenError")->text(), tx("Dock.Error.ListenNotHere"));
		child<QLineEdit>(d, "listen")->clear();
		QTest::keyClicks(child<QLineEdit>(d, "listen"), QStringLiteral("0.0.0.0:0"));
		QVERIFY(!child<QLabel>(d, "listenError")->isVisible());
		QVERIFY(child<QLabel>(d, "listenWarning")->isVisible());
		QCOMPARE(child<QLabel>(d, "listenWarning")->text(),
			 tx("Dock.Warning.Public").arg(QStringLiteral("0.0.0.0")));
		QTest::mouseClick(save, Qt::LeftButton);
		QCOMPARE(p->adds, 0); /* the folder is still wrong */
		child<QLineEdit>(d, "folder")->clear();
		QTest::keyClicks(child<QLineEdit>(d, "folder"), QDir::tempPath());

		/* the module refuses: the dialog stays, with its reason */
		p->refuse = QStringLiteral("0.0.0.0:0: cannot listen");
		QTest::mouseClick(save, Qt::LeftButton);
		QCOMPARE(p->adds, 1);
		QVERIFY(d->isVisible());
		QCOMPARE(child<QLabel>(d, "saveError")->text(), tx("Dock.Error.Save").arg(p->refuse));
		p->refuse.clear();
		QTest::mouseClick(save, Qt::LeftButton);
		QCOMPARE(p->adds, 2);
		QTRY_VERIFY(!dock.editDialog());
		QCOMPARE(dock.cardCount(), 1);
		const Settings &c = p->conns.at(100)->c;
		QCOMPARE(c.name, QStringLiteral("Station 1"));
		QCOMPARE(c.url, QStringLiteral("console://192.168.1.20:51441"));
		QCOMPARE(c.relayListen, QStringLiteral("0.0.0.0:0"));
		QCOMPARE(c.folder, QDir::tempPath());
		QVERIFY(c.autoConnect);
		::close(fd);
	}

	void editDialogKeepsTheRest()
	{
		Status &st =
			p->put(7, QStringLiteral("Netplay"), QStringLiteral("dolphin://127.0.0.1:51442?idle_ms=3000"));
		st.c.relayListen = QStringLiteral("127.0.0.1:0");
		p->put(8, QStringLiteral("Other"), QStringLiteral("console://10.0.0.8")).c.relayListen =
			QStringLiteral("127.0.0.1:53999");
		Dock dock(p);
		dock.show();
		QTest::mouseClick(child<QPushButton>(dock.card(7), "edit"), Qt::LeftButton);
		EditDialog *d = dock.editDialog();
		QCOMPARE(d->windowTitle(), tx("Dock.EditTitle"));
		QCOMPARE(child<QComboBox>(d, "kind")->currentIndex(), 1);
		QCOMPARE(child<QLineEdit>(d, "address")->text(), QStringLiteral("127.0.0.1"));
		QCOMPARE(child<QLineEdit>(d, "port")->text(), QStringLiteral("51442"));
		/* another connection's relay address is refused */
		child<QLineEdit>(d, "listen")->clear();
		QTest::keyClicks(child<QLineEdit>(d, "listen"), QStringLiteral("127.0.0.1:53999"));
		QCOMPARE(child<QLabel>(d, "listenError")->text(), tx("Dock.Error.ListenTaken"));
		child<QLineEdit>(d, "listen")->clear();
		QTest::keyClicks(child<QLineEdit>(d, "listen"), QStringLiteral("127.0.0.1:0"));
		child<QLineEdit>(d, "name")->clear();
		QTest::keyClicks(child<QLineEdit>(d, "name"), QStringLiteral("Netplay 2"));
		/* the demo needs no address */
		child<QComboBox>(d, "kind")->setCurrentIndex(3);
		QVERIFY(!child<QLineEdit>(d, "address")->isEnabled());
		child<QComboBox>(d, "kind")->setCurrentIndex(1);
		QTest::mouseClick(child<QPushButton>(d, "save"), Qt::LeftButton);
		QCOMPARE(p->updates, 1);
		QCOMPARE(st.c.name, QStringLiteral("Netplay 2"));
		QCOMPARE(st.c.url, QStringLiteral("dolphin://127.0.0.1:51442?idle_ms=3000"));
	}

	void consolesOnTheNetwork()
	{
		discovery_console c{};
		qstrncpy(c.ip, "192.168.1.20", sizeof(c.ip));
		qstrncpy(c.nick, "Station 1", sizeof(c.nick));
		Dock dock(p);
		dock.show();
		dock.openAdd();
		EditDialog *d = dock.editDialog();
		QCOMPARE(p->discoveryUsers, 1);
		auto *list = child<QListWidget>(d, "consoles");
		QCOMPARE(list->count(), 0);
		QCOMPARE(child<QLabel>(d, "consolesLabel")->text(), tx("Dock.Consoles.None"));
		p->consoles.push_back(c); /* a Wii announces itself: listed live */
		QTRY_COMPARE_WITH_TIMEOUT(list->count(), 1, 3000);
		QCOMPARE(list->item(0)->text(), QStringLiteral("Station 1 (192.168.1.20)"));
		QCOMPARE(child<QLabel>(d, "consolesLabel")->text(), tx("Dock.Consoles.Some"));
		QRect r = list->visualItemRect(list->item(0));
		QTest::mouseClick(list->viewport(), Qt::LeftButton, Qt::NoModifier, r.center());
		QCOMPARE(child<QLineEdit>(d, "address")->text(), QStringLiteral("192.168.1.20"));
		QCOMPARE(child<QLineEdit>(d, "name")->text(), QStringLiteral("Station 1"));
		QTest::mouseClick(child<QPushButton>(d, "cancel"), Qt::LeftButton);
		QTRY_VERIFY(!dock.editDialog());
		QCOMPARE(p->discoveryUsers, 0);
		QCOMPARE(p->adds, 0);

		p->discoveryError = QStringLiteral("0.0.0.0:20582: permission denied");
		dock.openAdd();
		QCOMPARE(child<QLabel>(dock.editDialog(), "consolesLabel")->text(),
			 tx("Dock.Consoles.Off").arg(p->discoveryError));
	}
};

QTEST_MAIN(TestDock)
#include "test_dock_ui.moc"
