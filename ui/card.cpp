/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "widgets.hpp"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace andross_dock {

/* Where a widget's centre is on the screen, [x, y], or null while it is hidden: for tests that click through X. */
QJsonValue screenCentre(const QWidget *w)
{
	if (!w || !w->isVisible())
		return QJsonValue();
	QPoint c = w->mapToGlobal(w->rect().center());
	/* an object, not an array: obs_data (GetDock's answer) keeps arrays of objects only */
	return QJsonObject{{QStringLiteral("x"), c.x()}, {QStringLiteral("y"), c.y()}};
}

static QLabel *wrapped(QWidget *parent, const char *name)
{
	auto *l = new QLabel(parent);
	l->setObjectName(QString::fromLatin1(name));
	l->setWordWrap(true);
	l->setTextInteractionFlags(Qt::TextSelectableByMouse);
	return l;
}

Card::Card(uint32_t id, const Text &t, QWidget *parent) : QFrame(parent), id_(id), t_(t)
{
	setObjectName(QStringLiteral("card-%1").arg(id));
	setFrameShape(QFrame::StyledPanel);
	auto *v = new QVBoxLayout(this);
	v->setContentsMargins(8, 6, 8, 6);
	v->setSpacing(3);

	name_ = new QLabel(this);
	name_->setObjectName(QStringLiteral("name"));
	QFont bold = name_->font();
	bold.setBold(true);
	name_->setFont(bold);
	v->addWidget(name_);
	state_ = wrapped(this, "state");
	v->addWidget(state_);
	gap_ = wrapped(this, "gap");
	gap_->setStyleSheet(QStringLiteral("color: #c03030;"));
	v->addWidget(gap_);
	game_ = wrapped(this, "game");
	v->addWidget(game_);
	players_ = wrapped(this, "players");
	v->addWidget(players_);

	auto *relay = new QHBoxLayout();
	relay_ = new QCheckBox(t_("Dock.Relay"), this);
	relay_->setObjectName(QStringLiteral("relay"));
	relay_->setToolTip(t_("Dock.Relay.Tip"));
	relay->addWidget(relay_);
	address_ = new QLabel(this);
	address_->setObjectName(QStringLiteral("address"));
	address_->setTextInteractionFlags(Qt::TextSelectableByMouse);
	relay->addWidget(address_, 1);
	copy_ = new QToolButton(this);
	copy_->setObjectName(QStringLiteral("copy"));
	copy_->setText(t_("Dock.Copy"));
	copy_->setToolTip(t_("Dock.Copy.Tip"));
	relay->addWidget(copy_);
	clients_ = new QPushButton(this);
	clients_->setObjectName(QStringLiteral("clients"));
	clients_->setFlat(true);
	clients_->setToolTip(t_("Dock.Clients.Tip"));
	relay->addWidget(clients_);
	v->addLayout(relay);

	auto *replay = new QHBoxLayout();
	replay_ = wrapped(this, "replay");
	replay->addWidget(replay_, 1);
	folder_ = new QPushButton(t_("Dock.OpenFolder"), this);
	folder_->setObjectName(QStringLiteral("folder"));
	replay->addWidget(folder_);
	v->addLayout(replay);

	actions_ = new QHBoxLayout();
	connect_ = new QPushButton(this);
	connect_->setObjectName(QStringLiteral("connect"));
	actions_->addWidget(connect_);
	edit_ = new QPushButton(t_("Dock.Edit"), this);
	edit_->setObjectName(QStringLiteral("edit"));
	actions_->addWidget(edit_);
	remove_ = new QPushButton(t_("Dock.Remove"), this);
	remove_->setObjectName(QStringLiteral("remove"));
	actions_->addWidget(remove_);
	actions_->addStretch(1);
	v->addLayout(actions_);
	error_ = wrapped(this, "error");
	error_->setStyleSheet(QStringLiteral("color: #c03030;"));
	error_->hide();
	v->addWidget(error_);
	sections_ = new QVBoxLayout();
	v->addLayout(sections_);
	/* the set score, with its Swap and Reset buttons */
	auto *sh = new QHBoxLayout();
	score_ = wrapped(this, "score");
	sh->addWidget(score_, 1);
	scoreSwap_ = new QPushButton(t_("Dock.Score.Swap"), this);
	scoreSwap_->setObjectName(QStringLiteral("scoreSwap"));
	scoreSwap_->setToolTip(t_("Dock.Score.Swap.Tip"));
	sh->addWidget(scoreSwap_);
	scoreReset_ = new QPushButton(t_("Dock.Score.Reset"), this);
	scoreReset_->setObjectName(QStringLiteral("scoreReset"));
	scoreReset_->setToolTip(t_("Dock.Score.Reset.Tip"));
	sh->addWidget(scoreReset_);
	sections_->addLayout(sh);
	score_->setText(t_("Dock.Score.None"));
	/* the rule list: a title and a line per rule, below it the reason of a broken one */
	rulesTitle_ = new QLabel(t_("Rules.Title"), this);
	rulesTitle_->setObjectName(QStringLiteral("rulesTitle"));
	rulesTitle_->setFont(bold);
	rulesButton_ = new QPushButton(t_("Dock.Rules"), this);
	rulesButton_->setObjectName(QStringLiteral("rules"));
	rulesButton_->setToolTip(t_("Dock.Rules.Tip"));
	auto *rh = new QHBoxLayout();
	rh->addWidget(rulesTitle_, 1);
	rh->addWidget(rulesButton_);
	sections_->addLayout(rh);
	rulesBox_ = new QWidget(this);
	rulesBox_->setObjectName(QStringLiteral("rulesBox"));
	auto *rv = new QVBoxLayout(rulesBox_);
	rv->setContentsMargins(8, 0, 0, 0);
	rv->setSpacing(1);
	sections_->addWidget(rulesBox_);

	connect(connect_, &QPushButton::clicked, this, [this] { Q_EMIT connectClicked(id_, !view_.running); });
	connect(relay_, &QCheckBox::clicked, this, [this](bool on) { Q_EMIT relayToggled(id_, on); });
	connect(copy_, &QToolButton::clicked, this, [this] { Q_EMIT copyClicked(id_); });
	connect(clients_, &QPushButton::clicked, this, [this] { Q_EMIT clientsClicked(id_); });
	connect(folder_, &QPushButton::clicked, this, [this] { Q_EMIT folderClicked(id_); });
	connect(edit_, &QPushButton::clicked, this, [this] { Q_EMIT editClicked(id_); });
	connect(remove_, &QPushButton::clicked, this, [this] { Q_EMIT removeClicked(id_); });
	connect(rulesButton_, &QPushButton::clicked, this, [this] { Q_EMIT rulesClicked(id_); });
	connect(scoreReset_, &QPushButton::clicked, this, [this] { Q_EMIT scoreResetClicked(id_); });
	connect(scoreSwap_, &QPushButton::clicked, this, [this] { Q_EMIT scoreSwapClicked(id_); });
}

void Card::applyScore(const ScoreView &v)
{
	scoreView_ = v;
	if (score_->text() != v.text)
		score_->setText(v.text);
	scoreSwap_->setEnabled(v.hasPair);
}

void Card::applyRules(const QByteArray &json)
{
	if (json == rulesJson_)
		return;
	rulesJson_ = json;
	rules_ = readRules(json, t_);
	QLayout *l = rulesBox_->layout();
	while (QLayoutItem *it = l->takeAt(0)) {
		delete it->widget();
		delete it;
	}
	if (rules_.rows.empty()) {
		QLabel *none = wrapped(rulesBox_, "rule");
		none->setText(t_("Rules.None"));
		l->addWidget(none);
	}
	for (const RuleRow &r : rules_.rows) {
		QLabel *line = wrapped(rulesBox_, "rule");
		line->setText(r.words);
		l->addWidget(line);
		if (r.broken) {
			QLabel *why = wrapped(rulesBox_, "ruleBroken");
			why->setText(t_(r.optional ? "Rules.Skipped" : "Rules.Broken").arg(r.reason));
			why->setStyleSheet(r.optional ? QStringLiteral("color: #808080;")
						      : QStringLiteral("color: #c03030;"));
			l->addWidget(why);
		}
	}
	if (rules_.recordGames) {
		QLabel *rec = wrapped(rulesBox_, "ruleRecord");
		rec->setText(t_("Rules.Words.RecordGames").arg(QString::number(rules_.stopAfterMs / 1000.0, 'g', 8)));
		l->addWidget(rec);
	}
}

void Card::apply(const CardView &v, bool relaySetting)
{
	if (v.stateColor != view_.stateColor || state_->styleSheet().isEmpty()) /* a new style sheet restyles */
		state_->setStyleSheet(QStringLiteral("color: %1;").arg(v.stateColor.name()));
	view_ = v;
	name_->setText(v.name);
	state_->setText(v.stateText);
	gap_->setText(v.gapText);
	gap_->setVisible(!v.gapText.isEmpty());
	game_->setText(v.gameText);
	game_->setVisible(!v.gameText.isEmpty());
	players_->setText(v.players.join(QLatin1Char('\n')));
	players_->setVisible(!v.players.isEmpty());
	if (relay_->isChecked() != relaySetting)
		relay_->setChecked(relaySetting); /* setChecked emits no `clicked`: no loop back to the module */
	address_->setText(v.relayAddress);
	copy_->setVisible(v.relayOn);
	clients_->setText(v.clientsText);
	clients_->setVisible(v.relayOn);
	replay_->setText(v.lastReplay.isEmpty() ? t_("Dock.NoReplay") : t_("Dock.LastReplay").arg(v.lastReplay));
	replay_->setToolTip(v.lastReplayPath);
	folder_->setEnabled(!v.lastReplayFolder.isEmpty());
	connect_->setText(v.connectText);
}

void Card::showError(const QString &message)
{
	error_->setText(message);
	error_->setVisible(!message.isEmpty());
}

QJsonObject Card::dump() const
{
	QJsonObject o;
	o[QStringLiteral("id")] = (qint64)id_;
	o[QStringLiteral("name")] = name_->text();
	static const char *states[] = {"disconnected", "connecting", "connected", "reconnecting", "ended"};
	o[QStringLiteral("state")] = QString::fromLatin1(states[(int)view_.state]);
	o[QStringLiteral("stateText")] = state_->text();
	o[QStringLiteral("stateColor")] = view_.stateColor.name();
	o[QStringLiteral("gap")] = gap_->isVisible() ? gap_->text() : QString();
	o[QStringLiteral("game")] = game_->isVisible() ? game_->text() : QString();
	QJsonArray players; /* objects: obs_data (GetDock's answer) keeps arrays of objects only */
	for (const QString &line : view_.players)
		players.append(QJsonObject{{QStringLiteral("text"), line}});
	o[QStringLiteral("players")] = players;
	o[QStringLiteral("relaySwitch")] = relay_->isChecked();
	o[QStringLiteral("relayAddress")] = address_->text();
	o[QStringLiteral("clients")] = (qint64)view_.clients;
	o[QStringLiteral("clientsText")] = clients_->isVisible() ? clients_->text() : QString();
	o[QStringLiteral("replay")] = replay_->text();
	o[QStringLiteral("connectText")] = connect_->text();
	o[QStringLiteral("error")] = error_->isVisible() ? error_->text() : QString();
	QJsonArray rules;
	for (const RuleRow &r : rules_.rows)
		rules.append(QJsonObject{{QStringLiteral("text"), r.words},
					 {QStringLiteral("broken"), r.broken && !r.optional},
					 {QStringLiteral("skipped"), r.broken && r.optional},
					 {QStringLiteral("reason"), r.reason}});
	o[QStringLiteral("rules")] = rules;
	o[QStringLiteral("recordGames")] = rules_.recordGames;
	QJsonArray sides;
	for (int k = 0; scoreView_.hasPair && k < 2; k++)
		sides.append(QJsonObject{{QStringLiteral("name"), scoreView_.sides[k].name},
					 {QStringLiteral("points"), (qint64)scoreView_.sides[k].points}});
	o[QStringLiteral("score")] =
		QJsonObject{{QStringLiteral("text"), score_->text()}, {QStringLiteral("sides"), sides}};
	QJsonObject at;
	at[QStringLiteral("connect")] = screenCentre(connect_);
	at[QStringLiteral("relay")] = screenCentre(relay_);
	at[QStringLiteral("copy")] = screenCentre(copy_);
	at[QStringLiteral("clients")] = screenCentre(clients_);
	at[QStringLiteral("folder")] = screenCentre(folder_);
	at[QStringLiteral("edit")] = screenCentre(edit_);
	at[QStringLiteral("remove")] = screenCentre(remove_);
	at[QStringLiteral("rules")] = screenCentre(rulesButton_);
	at[QStringLiteral("scoreReset")] = screenCentre(scoreReset_);
	at[QStringLiteral("scoreSwap")] = screenCentre(scoreSwap_);
	o[QStringLiteral("at")] = at;
	return o;
}

} // namespace andross_dock
