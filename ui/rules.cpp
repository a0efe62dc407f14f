/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule dialogs: a connection's list (RulesDialog) and one rule's fields (RuleDialog). */
#include "widgets.hpp"

#include <QCheckBox>
#include <QColor>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace andross_dock {

static const char *const ruleEvents[] = {"game_start", "game_end",        "stock_lost",      "last_stock", "combo",
					 "set_end",    "connection_lost", "connection_back", "menus"};
static const char *const ruleActions[] = {"switch_scene",       "show_source",         "hide_source",
					  "start_recording",    "stop_recording",      "pause_recording",
					  "unpause_recording",  "start_replay_buffer", "stop_replay_buffer",
					  "save_replay_buffer", "set_text_template"};
static const char *const endMethodNames[] = {"game", "time", "quit", "incomplete", "other"};
static const int CHARACTERS = 26; /* the ones Melee's character select has, by external id */

static bool hasPlayers(const QString &e)
{
	return e == QLatin1String("game_start") || e == QLatin1String("game_end") || e == QLatin1String("stock_lost") ||
	       e == QLatin1String("last_stock") || e == QLatin1String("combo");
}

static bool usesScene(const QString &a)
{
	return a == QLatin1String("switch_scene") || a == QLatin1String("show_source") ||
	       a == QLatin1String("hide_source");
}

static bool usesSource(const QString &a)
{
	return a == QLatin1String("show_source") || a == QLatin1String("hide_source") ||
	       a == QLatin1String("set_text_template");
}

/* A number when the text reads as one, else the text: the parser says what is wrong with it. */
static QJsonValue numberOrText(const QString &text)
{
	bool ok = false;
	double d = text.trimmed().toDouble(&ok);
	return ok ? QJsonValue(d) : QJsonValue(text);
}

static QString numberText(const QJsonValue &v)
{
	return v.isDouble() ? QString::number(v.toDouble(), 'g', 12) : v.toString();
}

/* ---- one rule ---- */

RuleDialog::RuleDialog(Provider *p, const Text &t, const QJsonObject &r, Apply apply, QWidget *parent)
	: QDialog(parent),
	  p_(p),
	  t_(t),
	  apply_(std::move(apply))
{
	setObjectName(QStringLiteral("andross-rule"));
	setWindowTitle(t_(r.isEmpty() ? "Rules.AddTitle" : "Rules.EditTitle"));
	form_ = new QFormLayout();
	auto row = [this](const char *label, const char *name, QWidget *w) {
		QLabel *err = errorLabel(this, (QByteArray(name) + "Error").constData());
		errors_.insert(QString::fromLatin1(name), err);
		QWidget *box = withError(w, err);
		box->setObjectName(QString::fromLatin1(name) + QStringLiteral("Row"));
		form_->addRow(label ? t_(label) : QString(), box);
	};

	event_ = new QComboBox(this);
	event_->setObjectName(QStringLiteral("event"));
	for (const char *e : ruleEvents)
		event_->addItem(t_((QByteArray("Rules.Event.") + e).constData()), QString::fromLatin1(e));
	row("Rules.When", "event", event_);
	seconds_ = new QLineEdit(this);
	seconds_->setObjectName(QStringLiteral("seconds"));
	row("Rules.Seconds", "seconds", seconds_);
	port_ = new QComboBox(this);
	port_->setObjectName(QStringLiteral("port"));
	port_->addItem(t_("Rules.Any"), 0);
	for (int i = 1; i <= 4; i++)
		port_->addItem(t_("Rules.Words.Port").arg(i), i);
	row("Rules.Condition.port", "port", port_);
	code_ = new QLineEdit(this);
	code_->setObjectName(QStringLiteral("connectCode"));
	code_->setPlaceholderText(t_("Rules.Any"));
	row("Rules.Condition.connectCode", "connectCode", code_);
	character_ = new QComboBox(this);
	character_->setObjectName(QStringLiteral("character"));
	character_->addItem(t_("Rules.Any"), -1);
	for (int i = 0; i < CHARACTERS; i++)
		character_->addItem(characterName(t_, (unsigned)i), i);
	row("Rules.Condition.character", "character", character_);
	minDamage_ = new QLineEdit(this);
	minDamage_->setObjectName(QStringLiteral("minDamage"));
	row("Rules.Condition.minDamage", "minDamage", minDamage_);
	kill_ = new QCheckBox(t_("Rules.Condition.kill"), this);
	kill_->setObjectName(QStringLiteral("kill"));
	row(nullptr, "kill", kill_);
	endBox_ = new QWidget(this);
	endBox_->setObjectName(QStringLiteral("endMethods"));
	auto *eh = new QHBoxLayout(endBox_);
	eh->setContentsMargins(0, 0, 0, 0);
	for (const char *m : endMethodNames) {
		auto *c = new QCheckBox(t_((QByteArray("Rules.EndMethod.") + m).constData()), endBox_);
		c->setObjectName(QStringLiteral("end_") + QString::fromLatin1(m));
		c->setProperty("method", QString::fromLatin1(m));
		endMethods_ << c;
		eh->addWidget(c);
	}
	row("Rules.Condition.endMethods", "endMethods", endBox_);

	action_ = new QComboBox(this);
	action_->setObjectName(QStringLiteral("action"));
	for (const char *a : ruleActions)
		action_->addItem(t_((QByteArray("Rules.Action.") + a).constData()), QString::fromLatin1(a));
	row("Rules.Then", "action", action_);
	scene_ = new QComboBox(this);
	scene_->setObjectName(QStringLiteral("scene"));
	scene_->setEditable(true);
	scene_->setInsertPolicy(QComboBox::NoInsert);
	scene_->addItems(p_->scenes());
	sceneWarning_ = errorLabel(this, "sceneWarning", "#d08010");
	auto *sceneBox = new QWidget(this);
	auto *sv = new QVBoxLayout(sceneBox);
	sv->setContentsMargins(0, 0, 0, 0);
	sv->setSpacing(2);
	sv->addWidget(scene_);
	sv->addWidget(sceneWarning_);
	row("Rules.Scene", "scene", sceneBox);
	source_ = new QComboBox(this);
	source_->setObjectName(QStringLiteral("source"));
	source_->setEditable(true);
	source_->setInsertPolicy(QComboBox::NoInsert);
	sourceWarning_ = errorLabel(this, "sourceWarning", "#d08010");
	auto *srcBox = new QWidget(this);
	auto *srv = new QVBoxLayout(srcBox);
	srv->setContentsMargins(0, 0, 0, 0);
	srv->setSpacing(2);
	srv->addWidget(source_);
	srv->addWidget(sourceWarning_);
	row("Rules.Source", "source", srcBox);
	template_ = new QLineEdit(this);
	template_->setObjectName(QStringLiteral("template"));
	row("Rules.Template", "template", template_);
	toPreview_ = new QCheckBox(t_("Rules.Action.toPreview"), this);
	toPreview_->setObjectName(QStringLiteral("toPreview"));
	row(nullptr, "toPreview", toPreview_);
	delay_ = new QLineEdit(this);
	delay_->setObjectName(QStringLiteral("delayMs"));
	delay_->setPlaceholderText(QStringLiteral("0"));
	row("Rules.After", "delayMs", delay_);
	enabled_ = new QCheckBox(t_("Rules.Enabled"), this);
	enabled_->setObjectName(QStringLiteral("enabled"));
	enabled_->setChecked(true);
	form_->addRow(QString(), enabled_);
	optional_ = new QCheckBox(t_("Rules.Optional"), this);
	optional_->setObjectName(QStringLiteral("optional"));
	form_->addRow(QString(), optional_);

	dialogFoot(this, form_, t_, &saveError_, &save_, &cancel_);

	/* the rule being edited into the fields */
	if (!r.isEmpty()) {
		event_->setCurrentIndex(event_->findData(r.value(QStringLiteral("event")).toString()));
		action_->setCurrentIndex(action_->findData(r.value(QStringLiteral("action")).toString()));
		if (r.contains(QStringLiteral("seconds")))
			seconds_->setText(numberText(r.value(QStringLiteral("seconds"))));
		port_->setCurrentIndex(qMax(0, port_->findData(r.value(QStringLiteral("port")).toInt())));
		code_->setText(r.value(QStringLiteral("connectCode")).toString());
		character_->setCurrentIndex(
			qMax(0, character_->findData(r.value(QStringLiteral("character")).toInt(-1))));
		if (r.contains(QStringLiteral("minDamage")))
			minDamage_->setText(numberText(r.value(QStringLiteral("minDamage"))));
		kill_->setChecked(r.value(QStringLiteral("kill")).toBool());
		QStringList ends = r.value(QStringLiteral("endMethods")).toString().split(QLatin1Char(','));
		for (QCheckBox *c : endMethods_)
			c->setChecked(ends.contains(c->property("method").toString()));
		scene_->setCurrentText(r.value(QStringLiteral("scene")).toString());
		template_->setText(r.value(QStringLiteral("template")).toString());
		toPreview_->setChecked(r.value(QStringLiteral("toPreview")).toBool());
		if (r.value(QStringLiteral("delayMs")).toDouble() > 0)
			delay_->setText(numberText(r.value(QStringLiteral("delayMs"))));
		enabled_->setChecked(r.value(QStringLiteral("enabled")).toBool(true));
		optional_->setChecked(r.value(QStringLiteral("optional")).toBool());
	}
	shape();
	fillSources();
	if (!r.isEmpty())
		source_->setCurrentText(r.value(QStringLiteral("source")).toString());

	/* checked as it is edited, from here on */
	auto check = [this] {
		validate();
	};
	connect(event_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this, check] {
		shape();
		check();
	});
	connect(action_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this, check] {
		shape();
		fillSources();
		check();
	});
	connect(scene_, &QComboBox::currentTextChanged, this, [this, check] {
		fillSources();
		check();
	});
	connect(source_, &QComboBox::currentTextChanged, this, check);
	for (QLineEdit *e : {seconds_, code_, minDamage_, template_, delay_})
		connect(e, &QLineEdit::textEdited, this, check);
	for (QComboBox *c : {port_, character_})
		connect(c, QOverload<int>::of(&QComboBox::currentIndexChanged), this, check);
	for (QCheckBox *c : endMethods_)
		connect(c, &QCheckBox::toggled, this, check);
	connect(kill_, &QCheckBox::toggled, this, check);
	connect(save_, &QPushButton::clicked, this, [this] { save(); });
	connect(cancel_, &QPushButton::clicked, this, &QDialog::reject);
	event_->setFocus();
}

QWidget *RuleDialog::field(const char *name) const
{
	return findChild<QWidget *>(QString::fromLatin1(name) + QStringLiteral("Row"));
}

/* Only the fields of the event and action chosen are shown (and go into the rule). */
void RuleDialog::shape()
{
	QString e = event_->currentData().toString(), a = action_->currentData().toString();
	auto show = [this](const char *name, bool on) {
		QWidget *w = field(name);
		w->setVisible(on);
		if (QWidget *label = form_->labelForField(w))
			label->setVisible(on);
	};
	show("seconds", e == QLatin1String("menus"));
	show("port", hasPlayers(e));
	show("connectCode", hasPlayers(e));
	show("character", hasPlayers(e));
	show("minDamage", e == QLatin1String("combo"));
	show("kill", e == QLatin1String("combo"));
	show("endMethods", e == QLatin1String("game_end"));
	show("scene", usesScene(a));
	show("source", usesSource(a));
	show("template", a == QLatin1String("set_text_template"));
	show("toPreview", a == QLatin1String("switch_scene"));
	adjustSize();
}

/* The source picker: the sources in the scene chosen (show, hide), or the Slippi Text sources. */
void RuleDialog::fillSources()
{
	QString a = action_->currentData().toString();
	QStringList names = a == QLatin1String("set_text_template") ? p_->textSources()
			    : usesScene(a)                          ? p_->sceneSources(scene_->currentText())
								    : QStringList();
	QString keep = source_->currentText();
	QSignalBlocker block(source_);
	source_->clear();
	source_->addItems(names);
	source_->setCurrentText(keep);
}

QJsonObject RuleDialog::rule() const
{
	QJsonObject r;
	QString e = event_->currentData().toString(), a = action_->currentData().toString();
	r[QStringLiteral("event")] = e;
	if (e == QLatin1String("menus") && !seconds_->text().trimmed().isEmpty())
		r[QStringLiteral("seconds")] = numberOrText(seconds_->text());
	if (hasPlayers(e)) {
		if (port_->currentData().toInt() > 0)
			r[QStringLiteral("port")] = port_->currentData().toInt();
		if (!code_->text().trimmed().isEmpty())
			r[QStringLiteral("connectCode")] = code_->text().trimmed();
		if (character_->currentData().toInt() >= 0)
			r[QStringLiteral("character")] = character_->currentData().toInt();
	}
	if (e == QLatin1String("combo")) {
		if (!minDamage_->text().trimmed().isEmpty())
			r[QStringLiteral("minDamage")] = numberOrText(minDamage_->text());
		if (kill_->isChecked())
			r[QStringLiteral("kill")] = true;
	}
	if (e == QLatin1String("game_end")) {
		QStringList ends;
		for (QCheckBox *c : endMethods_)
			if (c->isChecked())
				ends << c->property("method").toString();
		if (!ends.isEmpty()) /* none: any way it ends */
			r[QStringLiteral("endMethods")] = ends.join(QLatin1Char(','));
	}
	r[QStringLiteral("action")] = a;
	if (usesScene(a))
		r[QStringLiteral("scene")] = scene_->currentText();
	if (usesSource(a))
		r[QStringLiteral("source")] = source_->currentText();
	if (a == QLatin1String("set_text_template"))
		r[QStringLiteral("template")] = template_->text();
	if (a == QLatin1String("switch_scene") && toPreview_->isChecked())
		r[QStringLiteral("toPreview")] = true;
	if (!delay_->text().trimmed().isEmpty())
		r[QStringLiteral("delayMs")] = numberOrText(delay_->text());
	if (!enabled_->isChecked())
		r[QStringLiteral("enabled")] = false;
	if (optional_->isChecked())
		r[QStringLiteral("optional")] = true;
	return r;
}

bool RuleDialog::validate()
{
	for (QLabel *l : errors_) {
		l->clear();
		l->hide();
	}
	saveError_->hide();
	QString field, message;
	bool ok = checkRule(rule(), &field, &message);
	if (!ok) {
		QLabel *l = errors_.value(field);
		if (l) {
			l->setText(t_((QStringLiteral("Rules.Error.") + field).toUtf8().constData()));
			l->setToolTip(message);
			l->show();
		} else {
			saveError_->setText(t_("Rules.Error.Other").arg(message));
			saveError_->show();
		}
	}
	/* a name OBS does not have (yet): the rule is right, and broken until it has */
	QString a = action_->currentData().toString();
	QString scene = scene_->currentText(), source = source_->currentText();
	bool noScene = usesScene(a) && !scene.isEmpty() && !p_->scenes().contains(scene);
	sceneWarning_->setText(noScene ? t_("Rules.Warning.NoScene").arg(scene) : QString());
	sceneWarning_->setVisible(noScene);
	bool noSource = usesSource(a) && !source.isEmpty() && !noScene &&
			source_->findText(source, Qt::MatchExactly) < 0;
	sourceWarning_->setText(noSource ? t_("Rules.Warning.NoSource").arg(source) : QString());
	sourceWarning_->setVisible(noSource);
	return ok;
}

bool RuleDialog::save()
{
	if (!validate())
		return false;
	QString err;
	if (!apply_(rule(), err)) {
		saveError_->setText(t_("Dock.Error.Save").arg(err));
		saveError_->show();
		return false;
	}
	accept();
	return true;
}

QJsonObject RuleDialog::dump() const
{
	QJsonObject o;
	o[QStringLiteral("title")] = windowTitle();
	o[QStringLiteral("rule")] = rule();
	QJsonObject errors;
	for (auto it = errors_.begin(); it != errors_.end(); ++it)
		if (it.value()->isVisible())
			errors[it.key()] = it.value()->text();
	o[QStringLiteral("errors")] = errors;
	o[QStringLiteral("sceneWarning")] = sceneWarning_->isVisible() ? sceneWarning_->text() : QString();
	o[QStringLiteral("sourceWarning")] = sourceWarning_->isVisible() ? sourceWarning_->text() : QString();
	o[QStringLiteral("saveError")] = saveError_->isVisible() ? saveError_->text() : QString();
	QJsonArray scenes;
	for (int i = 0; i < scene_->count(); i++)
		scenes.append(QJsonObject{{QStringLiteral("name"), scene_->itemText(i)}});
	o[QStringLiteral("scenes")] = scenes;
	QJsonObject at;
	at[QStringLiteral("event")] = screenCentre(event_);
	at[QStringLiteral("action")] = screenCentre(action_);
	at[QStringLiteral("scene")] = screenCentre(scene_);
	at[QStringLiteral("source")] = screenCentre(source_);
	at[QStringLiteral("delayMs")] = screenCentre(delay_);
	at[QStringLiteral("save")] = screenCentre(save_);
	at[QStringLiteral("cancel")] = screenCentre(cancel_);
	o[QStringLiteral("at")] = at;
	return o;
}

/* ---- the list ---- */

RulesDialog::RulesDialog(Provider *p, const Text &t, uint32_t id, QWidget *parent)
	: QDialog(parent),
	  p_(p),
	  t_(t),
	  id_(id)
{
	setObjectName(QStringLiteral("andross-rules"));
	auto st = std::make_unique<Status>();
	QString name = p_->status(id_, *st) ? st->c.name : QString();
	setWindowTitle(t_("Rules.DialogTitle").arg(name));
	auto *v = new QVBoxLayout(this);
	title_ = new QLabel(t_("Rules.DialogTitle").arg(name), this);
	title_->setObjectName(QStringLiteral("title"));
	v->addWidget(title_);
	auto *h = new QHBoxLayout();
	list_ = new QListWidget(this);
	list_->setObjectName(QStringLiteral("list"));
	list_->setWordWrap(true);
	list_->setMinimumWidth(380);
	h->addWidget(list_, 1);
	auto *bv = new QVBoxLayout();
	auto button = [this, bv](const char *text, const char *name) {
		auto *b = new QPushButton(t_(text), this);
		b->setObjectName(QString::fromLatin1(name));
		bv->addWidget(b);
		return b;
	};
	add_ = button("Rules.Add", "add");
	edit_ = button("Rules.Edit", "edit");
	remove_ = button("Rules.Remove", "remove");
	up_ = button("Rules.Up", "up");
	down_ = button("Rules.Down", "down");
	bv->addStretch(1);
	h->addLayout(bv);
	v->addLayout(h);

	auto *rh = new QHBoxLayout();
	record_ = new QCheckBox(t_("Rules.RecordGames"), this);
	record_->setObjectName(QStringLiteral("recordGames"));
	rh->addWidget(record_);
	rh->addWidget(new QLabel(t_("Rules.RecordGames.StopAfter"), this));
	stopAfter_ = new QLineEdit(this);
	stopAfter_->setObjectName(QStringLiteral("stopAfter"));
	stopAfter_->setMaximumWidth(90);
	rh->addWidget(stopAfter_);
	rh->addStretch(1);
	v->addLayout(rh);
	stopError_ = errorLabel(this, "stopError");
	v->addWidget(stopError_);
	error_ = errorLabel(this, "error");
	v->addWidget(error_);
	close_ = new QPushButton(t_("Dock.Close"), this);
	close_->setObjectName(QStringLiteral("close"));
	auto *ch = new QHBoxLayout();
	ch->addStretch(1);
	ch->addWidget(close_);
	v->addLayout(ch);

	connect(add_, &QPushButton::clicked, this, [this] { openRule(-1); });
	connect(edit_, &QPushButton::clicked, this, [this] { openRule(list_->currentRow()); });
	connect(list_, &QListWidget::itemDoubleClicked, this, [this] { openRule(list_->currentRow()); });
	connect(remove_, &QPushButton::clicked, this, [this] { removeRule(list_->currentRow()); });
	connect(up_, &QPushButton::clicked, this, [this] { moveRule(list_->currentRow(), -1); });
	connect(down_, &QPushButton::clicked, this, [this] { moveRule(list_->currentRow(), 1); });
	connect(list_, &QListWidget::currentRowChanged, this, &RulesDialog::selectionChanged);
	connect(record_, &QCheckBox::clicked, this, &RulesDialog::recordChanged);
	connect(stopAfter_, &QLineEdit::editingFinished, this, &RulesDialog::recordChanged);
	connect(close_, &QPushButton::clicked, this, &QDialog::accept);
	refresh();
	selectionChanged();
}

RulesDialog::~RulesDialog()
{
	delete rule_;
}

void RulesDialog::refresh()
{
	QByteArray json;
	if (!p_->rules(id_, json) || json == json_)
		return;
	json_ = json;
	view_ = readRules(json, t_);
	int row = list_->currentRow();
	QSignalBlocker block(list_);
	list_->clear();
	for (const RuleRow &r : view_.rows) {
		QString text = r.words;
		if (r.broken)
			text += QLatin1Char('\n') + t_(r.optional ? "Rules.Skipped" : "Rules.Broken").arg(r.reason);
		auto *item = new QListWidgetItem(text, list_);
		if (r.broken && !r.optional)
			item->setForeground(QColor(0xc0, 0x30, 0x30));
	}
	list_->setCurrentRow(qMin(row, list_->count() - 1));
	record_->setChecked(view_.recordGames);
	if (!stopAfter_->hasFocus())
		stopAfter_->setText(QString::number(view_.stopAfterMs));
	block.unblock();
	selectionChanged();
}

void RulesDialog::selectionChanged()
{
	int row = list_->currentRow();
	edit_->setEnabled(row >= 0);
	remove_->setEnabled(row >= 0);
	up_->setEnabled(row > 0);
	down_->setEnabled(row >= 0 && row + 1 < list_->count());
}

std::vector<QJsonObject> RulesDialog::current() const
{
	std::vector<QJsonObject> list;
	for (const RuleRow &r : view_.rows)
		list.push_back(r.rule);
	return list;
}

bool RulesDialog::setRules(const std::vector<QJsonObject> &rules, bool recordGames, qint64 stopAfterMs, QString *err)
{
	QString e;
	bool ok = p_->setRules(id_, rulesJson(rules, recordGames, stopAfterMs), e);
	error_->setText(ok ? QString() : t_("Dock.Error.Save").arg(e));
	error_->setVisible(!ok);
	if (err)
		*err = e;
	refresh();
	return ok;
}

void RulesDialog::openRule(int index)
{
	refresh();
	if (index >= (int)view_.rows.size())
		return;
	delete rule_;
	QJsonObject r = index >= 0 ? view_.rows[(size_t)index].rule : QJsonObject();
	rule_ = new RuleDialog(
		p_, t_, r,
		[this, index](const QJsonObject &rule, QString &err) {
			refresh(); /* the module's list as it is now: a change made elsewhere meanwhile stays */
			std::vector<QJsonObject> list = current();
			if (index >= 0 && index < (int)list.size())
				list[(size_t)index] = rule;
			else
				list.push_back(rule);
			bool ok = setRules(list, view_.recordGames, view_.stopAfterMs, &err);
			if (ok)
				list_->setCurrentRow(index >= 0 ? index : list_->count() - 1);
			return ok;
		},
		this);
	rule_->setAttribute(Qt::WA_DeleteOnClose);
	rule_->open();
}

void RulesDialog::removeRule(int index)
{
	refresh();
	std::vector<QJsonObject> list = current();
	if (index < 0 || index >= (int)list.size())
		return;
	list.erase(list.begin() + index);
	setRules(list, view_.recordGames, view_.stopAfterMs);
}

void RulesDialog::moveRule(int index, int by)
{
	refresh();
	std::vector<QJsonObject> list = current();
	int to = index + by;
	if (index < 0 || index >= (int)list.size() || to < 0 || to >= (int)list.size())
		return;
	std::swap(list[(size_t)index], list[(size_t)to]);
	if (setRules(list, view_.recordGames, view_.stopAfterMs))
		list_->setCurrentRow(to);
}

void RulesDialog::recordChanged()
{
	bool ok = false;
	qint64 ms = stopAfter_->text().trimmed().toLongLong(&ok);
	stopError_->setText(ok ? QString() : t_("Rules.Error.stopAfterMs"));
	stopError_->setVisible(!ok);
	if (!ok)
		return;
	refresh();
	if (record_->isChecked() == view_.recordGames && ms == view_.stopAfterMs)
		return;
	QString err;
	if (!setRules(current(), record_->isChecked(), ms, &err)) {
		/* the parser's range: shown beside the field, not as a failed save */
		error_->hide();
		stopError_->setText(t_("Rules.Error.stopAfterMs"));
		stopError_->setToolTip(err);
		stopError_->show();
	}
}

QJsonObject RulesDialog::dump() const
{
	QJsonObject o;
	o[QStringLiteral("id")] = (qint64)id_;
	o[QStringLiteral("title")] = title_->text();
	QJsonArray rows;
	for (const RuleRow &r : view_.rows)
		rows.append(QJsonObject{{QStringLiteral("text"), r.words},
					{QStringLiteral("broken"), r.broken && !r.optional},
					{QStringLiteral("reason"), r.reason}});
	o[QStringLiteral("rows")] = rows;
	o[QStringLiteral("selected")] = list_->currentRow();
	o[QStringLiteral("recordGames")] = record_->isChecked();
	o[QStringLiteral("stopAfter")] = stopAfter_->text();
	o[QStringLiteral("error")] = error_->isVisible() ? error_->text() : QString();
	o[QStringLiteral("stopError")] = stopError_->isVisible() ? stopError_->text() : QString();
	QJsonObject at;
	at[QStringLiteral("add")] = screenCentre(add_);
	at[QStringLiteral("edit")] = screenCentre(edit_);
	at[QStringLiteral("remove")] = screenCentre(remove_);
	at[QStringLiteral("up")] = screenCentre(up_);
	at[QStringLiteral("down")] = screenCentre(down_);
	at[QStringLiteral("close")] = screenCentre(close_);
	at[QStringLiteral("recordGames")] = screenCentre(record_);
	QJsonArray rowsAt;
	for (int i = 0; i < list_->count(); i++) {
		QRect r = list_->visualItemRect(list_->item(i));
		QPoint c = list_->viewport()->mapToGlobal(r.center());
		rowsAt.append(QJsonObject{{QStringLiteral("x"), c.x()}, {QStringLiteral("y"), c.y()}});
	}
	at[QStringLiteral("rows")] = rowsAt;
	o[QStringLiteral("at")] = at;
	o[QStringLiteral("rule")] = rule_ && rule_->isVisible() ? QJsonValue(rule_->dump()) : QJsonValue();
	return o;
}

} // namespace andross_dock
