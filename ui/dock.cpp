/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "widgets.hpp"

#include <QApplication>
#include <QClipboard>
#include <QJsonArray>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QTimer>
#include <QVBoxLayout>

namespace andross_dock {

/* At most 10 status reads a second (the engine refreshes its copies every 100 ms): a change made anywhere shows
 * within about 200 ms. */
static const int POLL_MS = 100;
static const int BEAT_MS = 20;

Dock::Dock(Provider *p, QWidget *parent) : QWidget(parent), p_(p), st_(new Status())
{
	setObjectName(QStringLiteral("andross-dock"));
	t_ = [p](const char *key) {
		return p->text(key);
	};
	auto *v = new QVBoxLayout(this);
	v->setContentsMargins(4, 4, 4, 4);
	add_ = new QPushButton(t_("Dock.Add"), this);
	add_->setObjectName(QStringLiteral("add"));
	v->addWidget(add_);
	auto *scroll = new QScrollArea(this);
	scroll->setWidgetResizable(true);
	scroll->setFrameShape(QFrame::NoFrame);
	auto *inner = new QWidget(scroll);
	list_ = new QVBoxLayout(inner);
	list_->setContentsMargins(0, 0, 0, 0);
	empty_ = new QLabel(t_("Dock.Empty"), inner);
	empty_->setObjectName(QStringLiteral("empty"));
	empty_->setWordWrap(true);
	list_->addWidget(empty_);
	list_->addStretch(1);
	scroll->setWidget(inner);
	v->addWidget(scroll, 1);
	connect(add_, &QPushButton::clicked, this, &Dock::openAdd);

	clock_.start();
	poll_ = new QTimer(this);
	poll_->setInterval(POLL_MS);
	connect(poll_, &QTimer::timeout, this, &Dock::refresh);
	beat_ = new QTimer(this);
	beat_->setTimerType(Qt::PreciseTimer);
	beat_->setInterval(BEAT_MS);
	connect(beat_, &QTimer::timeout, this, &Dock::heartbeat);
	setPolling(true);
	refresh();
}

Dock::~Dock()
{
	setPolling(false);
	delete edit_;
	delete clientsDlg_;
	delete question_;
	delete rulesDlg_;
}

void Dock::setPolling(bool on)
{
	if (on) {
		poll_->start();
		beat_->start();
		lastBeat_ = -1;
	} else {
		poll_->stop();
		beat_->stop();
	}
}

void Dock::heartbeat()
{
	qint64 now = clock_.nsecsElapsed();
	if (lastBeat_ >= 0) {
		double gap = (now - lastBeat_) / 1e6;
		if (gap > maxGapMs_)
			maxGapMs_ = gap;
	}
	lastBeat_ = now;
	beats_++;
}

void Dock::resetHeartbeat()
{
	maxGapMs_ = 0;
	maxRefreshMs_ = 0;
	lastBeat_ = -1;
	beats_ = 0;
	refreshes_ = 0;
}

void Dock::refresh()
{
	qint64 t0 = clock_.nsecsElapsed();
	std::vector<uint32_t> ids = p_->ids();
	/* cards of removed connections go */
	for (auto it = cards_.begin(); it != cards_.end();) {
		if (std::find(ids.begin(), ids.end(), it.key()) == ids.end()) {
			delete it.value();
			it = cards_.erase(it);
		} else {
			++it;
		}
	}
	int index = 0;
	for (uint32_t id : ids) {
		if (!p_->status(id, *st_))
			continue;
		Card *c = cards_.value(id);
		if (!c) {
			c = new Card(id, t_, this);
			cards_.insert(id, c);
			connect(c, &Card::connectClicked, this, [this](uint32_t cid, bool on) {
				QString err;
				Card *card = cards_.value(cid);
				if (card)
					card->showError(p_->setConnected(cid, on, err) ? QString() : err);
				refresh();
			});
			connect(c, &Card::relayToggled, this, [this](uint32_t cid, bool on) {
				QString err;
				Card *card = cards_.value(cid);
				bool ok = p_->setRelay(cid, on, err);
				if (card)
					card->showError(ok ? QString() : t_("Dock.Error.Relay").arg(err));
				refresh();
			});
			connect(c, &Card::copyClicked, this, [this](uint32_t cid) {
				Card *card = cards_.value(cid);
				if (card && !card->view().relayAddress.isEmpty())
					QApplication::clipboard()->setText(card->view().relayAddress);
			});
			connect(c, &Card::clientsClicked, this, &Dock::openClients);
			connect(c, &Card::folderClicked, this, [this](uint32_t cid) {
				Card *card = cards_.value(cid);
				if (card && !card->view().lastReplayFolder.isEmpty())
					p_->openFolder(card->view().lastReplayFolder);
			});
			connect(c, &Card::editClicked, this, &Dock::openEdit);
			connect(c, &Card::removeClicked, this, &Dock::askRemove);
			connect(c, &Card::rulesClicked, this, &Dock::openRules);
			auto scoreOp = [this](uint32_t cid, bool reset) {
				QString err;
				bool ok = reset ? p_->resetScore(cid, err) : p_->swapScore(cid, err);
				if (Card *card = cards_.value(cid))
					card->showError(ok ? QString() : err);
				refresh();
			};
			connect(c, &Card::scoreResetClicked, this, [scoreOp](uint32_t cid) { scoreOp(cid, true); });
			connect(c, &Card::scoreSwapClicked, this, [scoreOp](uint32_t cid) { scoreOp(cid, false); });
		}
		if (list_->indexOf(c) != index) {
			list_->removeWidget(c);
			list_->insertWidget(index, c);
		}
		index++;
		bool relaySetting = st_->running ? st_->s.relay_on : st_->c.relayEnabled;
		c->apply(makeCardView(*st_, t_), relaySetting);
		if (clientsDlg_ && clientsDlg_->id() == id)
			clientsDlg_->apply(*st_);
		QByteArray score;
		if (p_->score(id, score))
			c->applyScore(makeScoreView(score, *st_, t_));
		QByteArray rules;
		if (p_->rules(id, rules))
			c->applyRules(rules);
		if (rulesDlg_ && rulesDlg_->id() == id)
			rulesDlg_->refresh();
	}
	empty_->setVisible(cards_.isEmpty());
	if (clientsDlg_ && !cards_.contains(clientsDlg_->id()))
		clientsDlg_->close();
	if (rulesDlg_ && !cards_.contains(rulesDlg_->id()))
		rulesDlg_->close();
	double ms = (clock_.nsecsElapsed() - t0) / 1e6;
	if (ms > maxRefreshMs_)
		maxRefreshMs_ = ms;
	refreshes_++;
}

void Dock::openAdd()
{
	if (edit_) {
		edit_->raise();
		edit_->activateWindow();
		return;
	}
	edit_ = new EditDialog(p_, t_, 0, this);
	edit_->setAttribute(Qt::WA_DeleteOnClose);
	connect(edit_, &QDialog::accepted, this, &Dock::refresh);
	edit_->open(); /* window-modal, and the timers keep running: the cards stay live behind it */
}

void Dock::openEdit(uint32_t id)
{
	if (edit_)
		edit_->close();
	edit_ = new EditDialog(p_, t_, id, this);
	edit_->setAttribute(Qt::WA_DeleteOnClose);
	connect(edit_, &QDialog::accepted, this, &Dock::refresh);
	edit_->open();
}

void Dock::askRemove(uint32_t id)
{
	Card *c = cards_.value(id);
	if (!c)
		return;
	delete question_;
	question_ = new QMessageBox(QMessageBox::Question, t_("Dock.RemoveTitle"),
				    t_("Dock.RemoveQuestion").arg(c->view().name), QMessageBox::NoButton, this);
	question_->setObjectName(QStringLiteral("andross-remove"));
	QPushButton *yes = question_->addButton(t_("Dock.Remove"), QMessageBox::DestructiveRole);
	yes->setObjectName(QStringLiteral("yes"));
	QPushButton *no = question_->addButton(t_("Dock.Cancel"), QMessageBox::RejectRole);
	no->setObjectName(QStringLiteral("no"));
	question_->setDefaultButton(no);
	question_->setAttribute(Qt::WA_DeleteOnClose);
	connect(question_, &QMessageBox::buttonClicked, this, [this, id, yes](QAbstractButton *b) {
		if (b != yes)
			return;
		QString err;
		if (!p_->remove(id, err)) {
			if (Card *card = cards_.value(id))
				card->showError(err);
		}
		refresh();
	});
	question_->open();
}

void Dock::openRules(uint32_t id)
{
	if (!cards_.contains(id))
		return;
	if (!rulesDlg_ || rulesDlg_->id() != id) {
		delete rulesDlg_;
		rulesDlg_ = new RulesDialog(p_, t_, id, this);
		rulesDlg_->setAttribute(Qt::WA_DeleteOnClose);
	}
	rulesDlg_->show();
	rulesDlg_->raise();
	rulesDlg_->activateWindow();
}

void Dock::openClients(uint32_t id)
{
	if (!clientsDlg_ || clientsDlg_->id() != id) {
		delete clientsDlg_;
		clientsDlg_ = new ClientsDialog(t_, id, this);
		clientsDlg_->setAttribute(Qt::WA_DeleteOnClose);
	}
	if (p_->status(id, *st_))
		clientsDlg_->apply(*st_);
	clientsDlg_->show();
	clientsDlg_->raise();
}

QJsonObject Dock::dump() const
{
	QJsonObject o;
	QJsonArray cards;
	for (int i = 0; i < list_->count(); i++) {
		auto *c = qobject_cast<Card *>(list_->itemAt(i)->widget());
		if (c)
			cards.append(c->dump());
	}
	o[QStringLiteral("cards")] = cards;
	o[QStringLiteral("empty")] = empty_->isVisible();
	o[QStringLiteral("visible")] = isVisible();
	QJsonObject at;
	at[QStringLiteral("add")] = screenCentre(add_);
	o[QStringLiteral("at")] = at;
	QPoint tl = mapToGlobal(QPoint(0, 0));
	o[QStringLiteral("rect")] = QJsonObject{{QStringLiteral("x"), tl.x()},
						{QStringLiteral("y"), tl.y()},
						{QStringLiteral("width"), width()},
						{QStringLiteral("height"), height()}};
	o[QStringLiteral("dialog")] = edit_ && edit_->isVisible() ? QJsonValue(edit_->dump()) : QJsonValue();
	if (question_ && question_->isVisible()) {
		QJsonObject q;
		q[QStringLiteral("text")] = question_->text();
		q[QStringLiteral("yes")] = screenCentre(question_->findChild<QPushButton *>(QStringLiteral("yes")));
		q[QStringLiteral("no")] = screenCentre(question_->findChild<QPushButton *>(QStringLiteral("no")));
		o[QStringLiteral("question")] = q;
	}
	if (clientsDlg_ && clientsDlg_->isVisible()) {
		QJsonObject c;
		c[QStringLiteral("id")] = (qint64)clientsDlg_->id();
		c[QStringLiteral("rows")] = clientsDlg_->rows();
		c[QStringLiteral("close")] =
			screenCentre(clientsDlg_->findChild<QPushButton *>(QStringLiteral("close")));
		o[QStringLiteral("clientList")] = c;
	}
	if (rulesDlg_ && rulesDlg_->isVisible())
		o[QStringLiteral("rules")] = rulesDlg_->dump();
	QJsonObject hb;
	hb[QStringLiteral("beats")] = (qint64)beats_;
	hb[QStringLiteral("refreshes")] = (qint64)refreshes_;
	hb[QStringLiteral("maxGapMs")] = maxGapMs_;
	hb[QStringLiteral("maxRefreshMs")] = maxRefreshMs_;
	hb[QStringLiteral("beatMs")] = BEAT_MS;
	o[QStringLiteral("heartbeat")] = hb;
	return o;
}

} // namespace andross_dock
