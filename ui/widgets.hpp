/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Slippi dock's widgets, all on the UI thread: the dock (a card per connection, refreshed from status copies
 * at most 10 times a second), a card, the add/edit dialog and the relay client list. They reach the module only
 * through a Provider.
 */
#pragma once

#include "provider.hpp"
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

#include <memory>

class QBoxLayout;
class QCheckBox;
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

Q_SIGNALS:
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
};

} // namespace andross_dock
