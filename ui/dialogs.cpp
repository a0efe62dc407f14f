/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "widgets.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace andross_dock {

QLabel *errorLabel(QWidget *parent, const char *name, const char *colour)
{
	auto *l = new QLabel(parent);
	l->setObjectName(QString::fromLatin1(name));
	l->setWordWrap(true);
	l->setStyleSheet(QStringLiteral("color: %1;").arg(QString::fromLatin1(colour)));
	l->hide();
	return l;
}

void dialogFoot(QWidget *dialog, QLayout *top, const Text &t, QLabel **saveError, QPushButton **save,
		QPushButton **cancel)
{
	*saveError = errorLabel(dialog, "saveError");
	*save = new QPushButton(t("Dock.Save"), dialog);
	(*save)->setObjectName(QStringLiteral("save"));
	(*save)->setDefault(true);
	*cancel = new QPushButton(t("Dock.Cancel"), dialog);
	(*cancel)->setObjectName(QStringLiteral("cancel"));
	auto *buttons = new QHBoxLayout();
	buttons->addStretch(1);
	buttons->addWidget(*cancel);
	buttons->addWidget(*save);
	auto *v = new QVBoxLayout(dialog);
	v->addLayout(top);
	v->addWidget(*saveError);
	v->addLayout(buttons);
}

/* A field with its error below it, as one row of the form. */
QWidget *withError(QWidget *field, QLabel *error, QWidget *extra)
{
	auto *w = new QWidget();
	auto *v = new QVBoxLayout(w);
	v->setContentsMargins(0, 0, 0, 0);
	v->setSpacing(2);
	if (extra) {
		auto *h = new QHBoxLayout();
		h->addWidget(field, 1);
		h->addWidget(extra);
		v->addLayout(h);
	} else {
		v->addWidget(field);
	}
	v->addWidget(error);
	return w;
}

EditDialog::EditDialog(Provider *p, const Text &t, uint32_t id, QWidget *parent)
	: QDialog(parent),
	  p_(p),
	  t_(t),
	  id_(id)
{
	setObjectName(QStringLiteral("andross-edit"));
	setWindowTitle(t_(id ? "Dock.EditTitle" : "Dock.AddTitle"));
	auto *form = new QFormLayout();

	name_ = new QLineEdit(this);
	name_->setObjectName(QStringLiteral("name"));
	nameError_ = errorLabel(this, "nameError");
	form->addRow(t_("Dock.Field.Name"), withError(name_, nameError_));

	kind_ = new QComboBox(this);
	kind_->setObjectName(QStringLiteral("kind"));
	kind_->addItem(t_("Dock.Kind.Wii"), (int)Kind::Wii);
	kind_->addItem(t_("Dock.Kind.Dolphin"), (int)Kind::Dolphin);
	kind_->addItem(t_("Dock.Kind.Relay"), (int)Kind::Relay);
	kind_->addItem(t_("Dock.Kind.Demo"), (int)Kind::Demo);
	form->addRow(t_("Dock.Field.Kind"), kind_);

	address_ = new QLineEdit(this);
	address_->setObjectName(QStringLiteral("address"));
	address_->setPlaceholderText(QStringLiteral("192.168.1.20"));
	addressError_ = errorLabel(this, "addressError");
	form->addRow(t_("Dock.Field.Address"), withError(address_, addressError_));

	consolesLabel_ = new QLabel(this);
	consolesLabel_->setObjectName(QStringLiteral("consolesLabel"));
	consolesLabel_->setWordWrap(true);
	consoles_ = new QListWidget(this);
	consoles_->setObjectName(QStringLiteral("consoles"));
	consoles_->setMaximumHeight(90);
	auto *found = new QWidget(this);
	auto *fv = new QVBoxLayout(found);
	fv->setContentsMargins(0, 0, 0, 0);
	fv->addWidget(consolesLabel_);
	fv->addWidget(consoles_);
	form->addRow(QString(), found);

	port_ = new QLineEdit(this);
	port_->setObjectName(QStringLiteral("port"));
	portError_ = errorLabel(this, "portError");
	form->addRow(t_("Dock.Field.Port"), withError(port_, portError_));

	relayOn_ = new QCheckBox(t_("Dock.Field.RelayOn"), this);
	relayOn_->setObjectName(QStringLiteral("relayOn"));
	form->addRow(t_("Dock.Relay"), relayOn_);
	listen_ = new QLineEdit(this);
	listen_->setObjectName(QStringLiteral("listen"));
	listen_->setPlaceholderText(t_("Dock.Field.ListenDefault"));
	listenError_ = errorLabel(this, "listenError");
	listenWarning_ = errorLabel(this, "listenWarning", "#d08010");
	auto *listenBox = new QWidget(this);
	auto *lv = new QVBoxLayout(listenBox);
	lv->setContentsMargins(0, 0, 0, 0);
	lv->setSpacing(2);
	lv->addWidget(listen_);
	lv->addWidget(listenError_);
	lv->addWidget(listenWarning_);
	form->addRow(t_("Dock.Field.Listen"), listenBox);

	folder_ = new QLineEdit(this);
	folder_->setObjectName(QStringLiteral("folder"));
	folder_->setPlaceholderText(t_("Dock.Field.FolderDefault"));
	browse_ = new QPushButton(t_("Dock.Browse"), this);
	browse_->setObjectName(QStringLiteral("browse"));
	folderError_ = errorLabel(this, "folderError");
	form->addRow(t_("Dock.Field.Folder"), withError(folder_, folderError_, browse_));

	autoConnect_ = new QCheckBox(t_("Dock.Field.AutoConnect"), this);
	autoConnect_->setObjectName(QStringLiteral("autoConnect"));
	autoConnect_->setChecked(true);
	form->addRow(QString(), autoConnect_);

	dialogFoot(this, form, t_, &saveError_, &save_, &cancel_);

	/* a predictable tab order for keyboards (and for tests typing through X) */
	setTabOrder(name_, kind_);
	setTabOrder(kind_, address_);
	setTabOrder(address_, consoles_);
	setTabOrder(consoles_, port_);
	setTabOrder(port_, relayOn_);
	setTabOrder(relayOn_, listen_);
	setTabOrder(listen_, folder_);
	setTabOrder(folder_, browse_);
	setTabOrder(browse_, autoConnect_);
	setTabOrder(autoConnect_, cancel_);
	setTabOrder(cancel_, save_);

	if (id_) {
		current_ = new Status();
		if (p_->status(id_, *current_)) {
			const Settings &c = current_->c;
			name_->setText(c.name);
			UrlParts u = parseUrl(c.url);
			kind_->setCurrentIndex(kind_->findData((int)u.kind));
			address_->setText(u.host);
			port_->setText(u.port);
			extra_ = u.extra;
			relayOn_->setChecked(c.relayEnabled);
			listen_->setText(c.relayListen);
			folder_->setText(c.folder);
			autoConnect_->setChecked(c.autoConnect);
		}
	}
	kindChanged();
	checkListenField();

	connect(kind_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this] { kindChanged(); });
	connect(name_, &QLineEdit::textEdited, this, [this] { setError(nameError_, checkName(name_->text())); });
	connect(address_, &QLineEdit::textEdited, this,
		[this] { setError(addressError_, checkHost(address_->text())); });
	connect(port_, &QLineEdit::textEdited, this, [this] { setError(portError_, checkPort(port_->text())); });
	connect(listen_, &QLineEdit::textEdited, this, [this] { checkListenField(); });
	connect(folder_, &QLineEdit::textEdited, this,
		[this] { setError(folderError_, checkFolder(folder_->text())); });
	connect(browse_, &QPushButton::clicked, this, [this] {
		QString dir = QFileDialog::getExistingDirectory(this, t_("Dock.Field.Folder"), folder_->text());
		if (!dir.isEmpty()) {
			folder_->setText(dir);
			setError(folderError_, checkFolder(dir));
		}
	});
	connect(consoles_, &QListWidget::itemClicked, this, [this](QListWidgetItem *it) {
		address_->setText(it->data(Qt::UserRole).toString());
		setError(addressError_, "");
		if (name_->text().trimmed().isEmpty())
			name_->setText(it->data(Qt::UserRole + 1).toString());
	});
	connect(save_, &QPushButton::clicked, this, [this] { save(); });
	connect(cancel_, &QPushButton::clicked, this, &QDialog::reject);

	QString err;
	discovering_ = p_->discoveryStart(err);
	discoveryError_ = err;
	timer_ = new QTimer(this);
	timer_->setInterval(500);
	connect(timer_, &QTimer::timeout, this, &EditDialog::refreshConsoles);
	timer_->start();
	refreshConsoles();
	name_->setFocus();
}

EditDialog::~EditDialog()
{
	if (discovering_)
		p_->discoveryStop();
	delete current_;
}

void EditDialog::setError(QLabel *label, const char *key)
{
	QString text = key && *key ? t_(key) : QString();
	label->setText(text);
	label->setVisible(!text.isEmpty());
}

void EditDialog::kindChanged()
{
	Kind k = (Kind)kind_->currentData().toInt();
	bool network = k != Kind::Demo;
	address_->setEnabled(network);
	port_->setEnabled(network);
	consoles_->setEnabled(k == Kind::Wii);
	port_->setPlaceholderText(network ? QString::number(defaultPort(k)) : QString());
	if (!network) {
		setError(addressError_, "");
		setError(portError_, "");
	}
}

void EditDialog::checkListenField()
{
	QString host;
	uint16_t port = 0;
	const char *e = checkListen(listen_->text(), &host, &port);
	QString text = listen_->text().trimmed();
	if (!*e && !text.isEmpty() && port) {
		/* its own relay holds the port: no conflict */
		bool own = current_ && current_->running && current_->s.relay_on &&
			   QString::fromUtf8(current_->s.relay_address) == text;
		bool other = false;
		auto st = std::make_unique<Status>();
		for (uint32_t id : p_->ids())
			if (id != id_ && p_->status(id, *st) && st->c.relayListen == text)
				other = true;
		if (other)
			e = "Dock.Error.ListenTaken";
		else if (!own)
			listenFree(host, port, &e); /* e says why it is not */
	}
	setError(listenError_, e);
	bool pub = !*e && listenIsPublic(text);
	listenWarning_->setText(pub ? t_("Dock.Warning.Public").arg(host) : QString());
	listenWarning_->setVisible(pub);
}

bool EditDialog::validate()
{
	setError(nameError_, checkName(name_->text()));
	Kind k = (Kind)kind_->currentData().toInt();
	if (k != Kind::Demo) {
		setError(addressError_, checkHost(address_->text()));
		setError(portError_, checkPort(port_->text()));
	}
	checkListenField();
	setError(folderError_, checkFolder(folder_->text()));
	for (QLabel *l : {nameError_, addressError_, portError_, listenError_, folderError_})
		if (!l->text().isEmpty())
			return false;
	return true;
}

bool EditDialog::save()
{
	setError(saveError_, "");
	if (!validate())
		return false;
	Settings s;
	s.name = name_->text().trimmed();
	UrlParts u;
	u.kind = (Kind)kind_->currentData().toInt();
	u.host = address_->text().trimmed();
	u.port = port_->text().trimmed();
	u.extra = extra_;
	s.url = makeUrl(u);
	s.relayEnabled = relayOn_->isChecked();
	s.relayListen = listen_->text().trimmed();
	s.folder = folder_->text().trimmed();
	s.autoConnect = autoConnect_->isChecked();
	QString err;
	bool ok;
	if (id_) {
		ok = p_->update(id_, s, err);
	} else {
		uint32_t id = p_->add(s, err);
		ok = id != 0;
		if (ok)
			id_ = id;
	}
	if (!ok) {
		saveError_->setText(t_("Dock.Error.Save").arg(err));
		saveError_->show();
		return false;
	}
	accept();
	return true;
}

void EditDialog::refreshConsoles()
{
	if (!discovering_) {
		consolesLabel_->setText(t_("Dock.Consoles.Off").arg(discoveryError_));
		return;
	}
	std::vector<discovery_console> list = p_->discovered();
	consolesLabel_->setText(list.empty() ? t_("Dock.Consoles.None") : t_("Dock.Consoles.Some"));
	/* rebuilt only when it changed, so a selection survives the refresh */
	QStringList want;
	for (const discovery_console &c : list)
		want << QStringLiteral("%1 (%2)").arg(QString::fromUtf8(c.nick), QString::fromUtf8(c.ip));
	QStringList have;
	for (int i = 0; i < consoles_->count(); i++)
		have << consoles_->item(i)->text();
	if (want == have)
		return;
	consoles_->clear();
	for (size_t i = 0; i < list.size(); i++) {
		auto *it = new QListWidgetItem(want[(int)i], consoles_);
		it->setData(Qt::UserRole, QString::fromUtf8(list[i].ip));
		it->setData(Qt::UserRole + 1, QString::fromUtf8(list[i].nick));
	}
}

QJsonObject EditDialog::dump() const
{
	QJsonObject o;
	o[QStringLiteral("id")] = (qint64)id_;
	o[QStringLiteral("title")] = windowTitle();
	o[QStringLiteral("name")] = name_->text();
	o[QStringLiteral("kind")] = kind_->currentIndex();
	o[QStringLiteral("address")] = address_->text();
	o[QStringLiteral("port")] = port_->text();
	o[QStringLiteral("listen")] = listen_->text();
	o[QStringLiteral("folder")] = folder_->text();
	QJsonObject errors;
	for (QLabel *l :
	     {nameError_, addressError_, portError_, listenError_, listenWarning_, folderError_, saveError_})
		errors[l->objectName()] = l->isVisible() ? l->text() : QString();
	o[QStringLiteral("errors")] = errors;
	QJsonArray consoles;
	for (int i = 0; i < consoles_->count(); i++)
		consoles.append(QJsonObject{{QStringLiteral("text"), consoles_->item(i)->text()}});
	o[QStringLiteral("consoles")] = consoles;
	o[QStringLiteral("consolesText")] = consolesLabel_->text();
	QJsonObject at;
	at[QStringLiteral("name")] = screenCentre(name_);
	at[QStringLiteral("kind")] = screenCentre(kind_);
	at[QStringLiteral("address")] = screenCentre(address_);
	at[QStringLiteral("save")] = screenCentre(save_);
	at[QStringLiteral("cancel")] = screenCentre(cancel_);
	o[QStringLiteral("at")] = at;
	return o;
}

ClientsDialog::ClientsDialog(const Text &t, uint32_t id, QWidget *parent) : QDialog(parent), t_(t), id_(id)
{
	setObjectName(QStringLiteral("andross-clients"));
	setWindowTitle(t_("Dock.ClientsTitle"));
	auto *v = new QVBoxLayout(this);
	title_ = new QLabel(this);
	v->addWidget(title_);
	table_ = new QTableWidget(0, 3, this);
	table_->setObjectName(QStringLiteral("table"));
	table_->setHorizontalHeaderLabels(
		{t_("Dock.Column.Address"), t_("Dock.Column.Mode"), t_("Dock.Column.Behind")});
	table_->horizontalHeader()->setStretchLastSection(true);
	table_->verticalHeader()->hide();
	table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
	v->addWidget(table_);
	auto *close = new QPushButton(t_("Dock.Close"), this);
	close->setObjectName(QStringLiteral("close"));
	connect(close, &QPushButton::clicked, this, &QDialog::accept);
	v->addWidget(close, 0, Qt::AlignRight);
	resize(420, 300);
}

void ClientsDialog::apply(const Status &st)
{
	title_->setText(t_("Dock.ClientsOf").arg(st.c.name, QString::fromUtf8(st.s.relay_address)));
	std::vector<ClientRow> rows = clientRows(st, t_);
	table_->setRowCount((int)rows.size());
	for (int r = 0; r < (int)rows.size(); r++) {
		const QString cells[3] = {rows[r].address, rows[r].mode, rows[r].behind};
		for (int c = 0; c < 3; c++) {
			QTableWidgetItem *it = table_->item(r, c);
			if (!it)
				table_->setItem(r, c, it = new QTableWidgetItem());
			if (it->text() != cells[c])
				it->setText(cells[c]);
		}
	}
}

int ClientsDialog::rows() const
{
	return table_->rowCount();
}

} // namespace andross_dock
