/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Slippi dock's widgets, all on the UI thread: the dock (a card per connection, refreshed from status copies
 * at most 10 times a second), a card, the add/edit dialog and the relay client list. They reach the module only
 * through a Provider.
 */
#pragma once

#include "provider.hpp"
#include "rules_view.hpp"
#include "score_view.hpp"
#include "validate.hpp"
#include "view.hpp"

#include <QDialog>
#include <QMessageBox>
#include <QElapsedTimer>
#include <QFrame>
#include <QJsonObject>
#include <QMap>
#include <QPointer>
#include <QWidget>

#include <functional>
#include <memory>

class QBoxLayout;
class QCheckBox;
class QFormLayout;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QTableWidget;
class QTimer;
class QToolButton;
class QVBoxLayout;
class QHBoxLayout;

namespace andross_dock {

/* Where a widget's centre is on the screen, [x, y], or null while it is hidden: for tests that click through X. */
QJsonValue screenCentre(const QWidget *w);
/* A red (or the colour's) label for a field's error, hidden while empty; and a field with it below. */
QLabel *errorLabel(QWidget *parent, const char *name, const char *colour = "#c03030");
QWidget *withError(QWidget *field, QLabel *error, QWidget *extra = nullptr);
/* A dialog's foot: under `top`, the error for the whole form (saveError), then Cancel and Save (the default button),
 * all in a new layout of `dialog`. The three widgets are given back. */
void dialogFoot(QWidget *dialog, QLayout *top, const Text &t, QLabel **saveError, QPushButton **save,
		QPushButton **cancel);

/* One connection. Later issues add a row of buttons to actions() and sections to sections(). */
class Card : public QFrame {
	Q_OBJECT
public:
	Card(uint32_t id, const Text &t, QWidget *parent = nullptr);
	uint32_t id() const { return id_; }
	void apply(const CardView &v, bool relaySetting);
	const CardView &view() const { return view_; }
	void showError(const QString &message); /* beside the buttons, until the next action */
	QHBoxLayout *actions() const { return actions_; }
	QVBoxLayout *sections() const { return sections_; }
	QJsonObject dump() const;
	/* The rule list (GetRules's answer); the words change only when the answer does. */
	void applyRules(const QByteArray &json);
	const RulesView &rules() const { return rules_; }
	/* The set score and its Reset and Swap buttons. */
	void applyScore(const ScoreView &v);

Q_SIGNALS:
	void rulesClicked(uint32_t id);
	void scoreResetClicked(uint32_t id);
	void scoreSwapClicked(uint32_t id);
	void connectClicked(uint32_t id, bool connect);
	void relayToggled(uint32_t id, bool on);
	void copyClicked(uint32_t id);
	void clientsClicked(uint32_t id);
	void folderClicked(uint32_t id);
	void editClicked(uint32_t id);
	void removeClicked(uint32_t id);

private:
	uint32_t id_;
	Text t_;
	CardView view_;
	QLabel *name_, *state_, *gap_, *game_, *players_, *address_, *replay_, *error_;
	QCheckBox *relay_;
	QToolButton *copy_;
	QPushButton *clients_, *folder_, *connect_, *edit_, *remove_;
	QHBoxLayout *actions_;
	QVBoxLayout *sections_;
	QPushButton *rulesButton_;
	QLabel *rulesTitle_;
	QWidget *rulesBox_;
	QByteArray rulesJson_;
	RulesView rules_;
	QLabel *score_;
	QPushButton *scoreReset_, *scoreSwap_;
	ScoreView scoreView_;
};

/* One rule, added or edited: the events, conditions and actions of docs/automation.md, the scene and source pickers
 * filled from OBS, and each field's error beside it as the core's parser finds it. Save hands the rule to apply
 * (which sets the connection's rules); its refusal keeps the dialog open with the reason. */
class RuleDialog : public QDialog {
	Q_OBJECT
public:
	using Apply = std::function<bool(const QJsonObject &rule, QString &err)>;
	RuleDialog(Provider *p, const Text &t, const QJsonObject &rule, Apply apply, QWidget *parent = nullptr);
	/* The rule as the fields say. */
	QJsonObject rule() const;
	/* The parser's check, shown beside the field it is about. True when the rule is right. */
	bool validate();
	bool save();
	QJsonObject dump() const;

private:
	void shape(); /* which fields the event and action have */
	void fillSources();
	QWidget *field(const char *name) const;

	Provider *p_;
	Text t_;
	Apply apply_;
	QFormLayout *form_;
	QComboBox *event_, *port_, *character_, *action_, *scene_, *source_;
	QLineEdit *seconds_, *code_, *minDamage_, *template_, *delay_;
	QCheckBox *kill_, *toPreview_, *enabled_, *optional_;
	QList<QCheckBox *> endMethods_;
	QWidget *endBox_;
	QMap<QString, QLabel *> errors_;
	QLabel *sceneWarning_, *sourceWarning_, *saveError_;
	QPushButton *save_, *cancel_;
};

/* A connection's rules: the list in words (broken ones with the reason), add, edit, remove, move up and down, and
 * the per-game recording. Every change goes to the module at once (as SetRules), and the list follows the module. */
class RulesDialog : public QDialog {
	Q_OBJECT
public:
	RulesDialog(Provider *p, const Text &t, uint32_t id, QWidget *parent = nullptr);
	~RulesDialog() override;
	uint32_t id() const { return id_; }
	void refresh();
	/* Sets the rules (and the recording option); false with the module's reason shown. */
	bool setRules(const std::vector<QJsonObject> &rules, bool recordGames, qint64 stopAfterMs,
		      QString *err = nullptr);
	void openRule(int index); /* -1: a new rule */
	void removeRule(int index);
	void moveRule(int index, int by);
	RuleDialog *ruleDialog() const { return rule_; }
	QJsonObject dump() const;

private:
	std::vector<QJsonObject> current() const;
	void selectionChanged();
	void recordChanged();

	Provider *p_;
	Text t_;
	uint32_t id_;
	QByteArray json_;
	RulesView view_;
	QLabel *title_, *error_, *stopError_;
	QListWidget *list_;
	QPushButton *add_, *edit_, *remove_, *up_, *down_, *close_;
	QCheckBox *record_;
	QLineEdit *stopAfter_;
	QPointer<RuleDialog> rule_;
};

/* Add (id 0) or edit a connection. Lists the consoles announcing themselves while it is open. Saves nothing until
 * every field is right; the module's own refusal (a port it cannot bind, ...) keeps it open with the reason. */
class EditDialog : public QDialog {
	Q_OBJECT
public:
	EditDialog(Provider *p, const Text &t, uint32_t id, QWidget *parent = nullptr);
	~EditDialog() override;
	uint32_t id() const { return id_; }
	/* Checks every field and shows what is wrong beside it. True when all are right. */
	bool validate();
	/* validate(), then the module: true when saved (the dialog then closes). */
	bool save();
	void refreshConsoles();
	QJsonObject dump() const;

private:
	void kindChanged();
	void checkListenField();
	void setError(QLabel *label, const char *key);

	Provider *p_;
	Text t_;
	uint32_t id_;
	Status *current_ = nullptr; /* the connection being edited, as the dialog opened */
	QString extra_;             /* the URL's options, kept across the edit */
	bool discovering_ = false;
	QString discoveryError_;
	QLineEdit *name_, *address_, *port_, *listen_, *folder_;
	QComboBox *kind_;
	QCheckBox *relayOn_, *autoConnect_;
	QListWidget *consoles_;
	QLabel *nameError_, *addressError_, *portError_, *listenError_, *listenWarning_, *folderError_, *saveError_;
	QLabel *consolesLabel_;
	QPushButton *save_, *cancel_, *browse_;
	QTimer *timer_;
};

/* A relay's clients: address, mode, bytes behind. Refreshed by the dock. */
class ClientsDialog : public QDialog {
	Q_OBJECT
public:
	ClientsDialog(const Text &t, uint32_t id, QWidget *parent = nullptr);
	uint32_t id() const { return id_; }
	void apply(const Status &st);
	int rows() const;
	QTableWidget *table() const { return table_; }

private:
	Text t_;
	uint32_t id_;
	QTableWidget *table_;
	QLabel *title_;
};

class Dock : public QWidget {
	Q_OBJECT
public:
	explicit Dock(Provider *p, QWidget *parent = nullptr);
	~Dock() override;
	/* Reads every connection's status and updates the cards (the timer's tick). */
	void refresh();
	void setPolling(bool on);
	Card *card(uint32_t id) const { return cards_.value(id); }
	int cardCount() const { return cards_.size(); }
	EditDialog *editDialog() const { return edit_; }
	ClientsDialog *clientsDialog() const { return clientsDlg_; }
	QMessageBox *removeQuestion() const { return question_; }
	RulesDialog *rulesDialog() const { return rulesDlg_; }
	void openRules(uint32_t id);
	QPushButton *addButton() const { return add_; }
	/* What the dock shows, as JSON, with where its buttons are on the screen (for tests driving it through X). */
	QJsonObject dump() const;
	/* The UI thread's longest pause between two ticks of a 20 ms heartbeat, since the last reset. */
	double maxGapMs() const { return maxGapMs_; }
	void resetHeartbeat();

	void openAdd();
	void openEdit(uint32_t id);
	void askRemove(uint32_t id);
	void openClients(uint32_t id);

private:
	void heartbeat();
	Provider *p_;
	Text t_;
	QMap<uint32_t, Card *> cards_;
	std::unique_ptr<Status> st_;
	QVBoxLayout *list_;
	QLabel *empty_;
	QPushButton *add_;
	QTimer *poll_, *beat_;
	QElapsedTimer clock_;
	qint64 lastBeat_ = -1;
	double maxGapMs_ = 0, maxRefreshMs_ = 0;
	quint64 beats_ = 0, refreshes_ = 0;
	QPointer<EditDialog> edit_;
	QPointer<ClientsDialog> clientsDlg_;
	QPointer<QMessageBox> question_;
	QPointer<RulesDialog> rulesDlg_;
};

} // namespace andross_dock
