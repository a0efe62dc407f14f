/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dock inside OBS: the provider over the module's C glue, and the entry points andross-module.c calls at load
 * and unload. OBS 30+ takes a plain widget (obs_frontend_add_dock_by_id); OBS 29 a QDockWidget with an object name
 * (obs_frontend_add_dock), which its dock state saves and restores by that name. The first time (no saved place:
 * a flag in OBS's config), the dock goes on the right of the main window, visible; afterwards OBS puts it where the
 * user left it.
 */
#include "obs_glue.h"
#include "widgets.hpp"

#include <obs-frontend-api.h>
#include <obs-module.h>
#include <util/config-file.h>

#include <QDesktopServices>
#include <QDockWidget>
#include <QJsonDocument>
#include <QMainWindow>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <cstring>

using namespace andross_dock;

#define DOCK_ID "andross-slippi"
#define PLACED_SECTION "andross"
#define PLACED_KEY "DockPlaced"

namespace {

class ObsProvider : public Provider {
public:
	std::vector<uint32_t> ids() override
	{
		uint32_t ids[ENGINE_MAX_SESSIONS];
		size_t n = dock_glue_ids(ids, ENGINE_MAX_SESSIONS);
		return std::vector<uint32_t>(ids, ids + n);
	}
	bool status(uint32_t id, Status &out) override
	{
		auto g = std::make_unique<dock_glue_status>();
		if (!dock_glue_get_status(id, g.get()))
			return false;
		out.id = id;
		out.c.name = QString::fromUtf8(g->c.name);
		out.c.url = QString::fromUtf8(g->c.url);
		out.c.relayEnabled = g->c.relay_enabled;
		out.c.relayListen = QString::fromUtf8(g->c.relay_listen);
		out.c.folder = QString::fromUtf8(g->c.folder);
		out.c.autoConnect = g->c.auto_connect;
		out.running = g->running;
		out.s = g->s;
		return true;
	}
	static void settings(const Settings &s, dock_glue_settings &g)
	{
		std::memset(&g, 0, sizeof(g));
		qstrncpy(g.name, s.name.toUtf8().constData(), sizeof(g.name));
		qstrncpy(g.url, s.url.toUtf8().constData(), sizeof(g.url));
		g.relay_enabled = s.relayEnabled;
		qstrncpy(g.relay_listen, s.relayListen.toUtf8().constData(), sizeof(g.relay_listen));
		qstrncpy(g.folder, s.folder.toUtf8().constData(), sizeof(g.folder));
		g.auto_connect = s.autoConnect;
	}
	uint32_t add(const Settings &s, QString &err) override
	{
		auto g = std::make_unique<dock_glue_settings>();
		settings(s, *g);
		char e[256] = "";
		uint32_t id = dock_glue_add(g.get(), e, sizeof(e));
		err = QString::fromUtf8(e);
		return id;
	}
	bool update(uint32_t id, const Settings &s, QString &err) override
	{
		auto g = std::make_unique<dock_glue_settings>();
		settings(s, *g);
		char e[256] = "";
		bool ok = dock_glue_update(id, g.get(), e, sizeof(e)) == 0;
		err = QString::fromUtf8(e);
		return ok;
	}
	bool remove(uint32_t id, QString &err) override
	{
		char e[256] = "";
		bool ok = dock_glue_remove(id, e, sizeof(e)) == 0;
		err = QString::fromUtf8(e);
		return ok;
	}
	bool setRelay(uint32_t id, bool on, QString &err) override
	{
		char e[256] = "";
		bool ok = dock_glue_set_relay(id, on, e, sizeof(e)) == 0;
		err = QString::fromUtf8(e);
		return ok;
	}
	bool setConnected(uint32_t id, bool on, QString &err) override
	{
		char e[256] = "";
		bool ok = dock_glue_set_connected(id, on, e, sizeof(e)) == 0;
		err = QString::fromUtf8(e);
		return ok;
	}
	bool discoveryStart(QString &err) override
	{
		char e[256] = "";
		bool ok = dock_glue_discovery_start(e, sizeof(e)) == 0;
		err = QString::fromUtf8(e);
		return ok;
	}
	void discoveryStop() override { dock_glue_discovery_stop(); }
	std::vector<discovery_console> discovered() override
	{
		std::vector<discovery_console> list(DISCOVERY_MAX_CONSOLES);
		list.resize(dock_glue_discovered(list.data(), list.size()));
		return list;
	}
	bool rules(uint32_t id, QByteArray &json) override
	{
		char *j = dock_glue_rules(id);
		if (!j)
			return false;
		json = QByteArray(j);
		dock_glue_free(j);
		return true;
	}
	bool setRules(uint32_t id, const QByteArray &json, QString &err) override
	{
		char e[256] = "";
		bool ok = dock_glue_set_rules(id, json.constData(), e, sizeof(e)) == 0;
		err = QString::fromUtf8(e);
		return ok;
	}
	static bool scoreOp(uint32_t id, dock_glue_score_op op, QByteArray *json, QString &err)
	{
		char e[256] = "";
		char *j = dock_glue_score(id, op, e, sizeof(e));
		err = QString::fromUtf8(e);
		if (j && json)
			*json = QByteArray(j);
		dock_glue_free(j);
		return j != nullptr;
	}
	bool score(uint32_t id, QByteArray &json) override
	{
		QString err;
		return scoreOp(id, DOCK_GLUE_SCORE_GET, &json, err);
	}
	bool resetScore(uint32_t id, QString &err) override { return scoreOp(id, DOCK_GLUE_SCORE_RESET, nullptr, err); }
	bool swapScore(uint32_t id, QString &err) override { return scoreOp(id, DOCK_GLUE_SCORE_SWAP, nullptr, err); }
	/* OBS's own lists, asked on the UI thread */
	QStringList scenes() override
	{
		QStringList names;
		char **list = obs_frontend_get_scene_names();
		for (char **n = list; n && *n; n++)
			names << QString::fromUtf8(*n);
		bfree(list);
		return names;
	}
	static bool addItem(obs_scene_t *, obs_sceneitem_t *item, void *param)
	{
		auto *names = static_cast<QStringList *>(param);
		obs_source_t *src = obs_sceneitem_get_source(item);
		*names << QString::fromUtf8(obs_source_get_name(src));
		if (obs_sceneitem_is_group(item)) /* the rules find sources inside groups too */
			obs_sceneitem_group_enum_items(item, addItem, param);
		return true;
	}
	QStringList sceneSources(const QString &scene) override
	{
		QStringList names;
		obs_source_t *src = obs_get_source_by_name(scene.toUtf8().constData());
		obs_scene_t *s = src ? obs_scene_from_source(src) : nullptr;
		if (s)
			obs_scene_enum_items(s, addItem, &names);
		obs_source_release(src);
		names.removeDuplicates();
		return names;
	}
	QStringList textSources() override
	{
		QStringList names;
		obs_enum_sources(
			[](void *param, obs_source_t *src) {
				if (!std::strcmp(obs_source_get_unversioned_id(src), "andross_text"))
					*static_cast<QStringList *>(param)
						<< QString::fromUtf8(obs_source_get_name(src));
				return true;
			},
			&names);
		return names;
	}
	QString text(const char *key) override { return QString::fromUtf8(dock_glue_text(key)); }
	void openFolder(const QString &path) override { QDesktopServices::openUrl(QUrl::fromLocalFile(path)); }
};

struct State {
	ObsProvider provider;
	QPointer<Dock> dock;
	QPointer<QWidget> frame; /* the QDockWidget around it (OBS 29: ours; 30+: OBS's) */
	QTimer *dumper = nullptr;
};
State *state;

config_t *placedConfig()
{
#if LIBOBS_API_MAJOR_VER >= 31
	return obs_frontend_get_user_config();
#else
	return obs_frontend_get_global_config();
#endif
}

/* The first time OBS runs with the dock, it goes docked on the right and visible; after that, OBS's saved dock
 * state decides (the user's place, or closed). */
void placeFirstTime()
{
	auto *main = static_cast<QMainWindow *>(obs_frontend_get_main_window());
	auto *dw = qobject_cast<QDockWidget *>(state->frame.data());
	config_t *cfg = placedConfig();
	if (!main || !dw || !cfg || config_get_bool(cfg, PLACED_SECTION, PLACED_KEY))
		return;
	main->addDockWidget(Qt::RightDockWidgetArea, dw);
	dw->setFloating(false); /* after: a floating dock added to an area stays floating */
	dw->show();
	dw->raise();
	config_set_bool(cfg, PLACED_SECTION, PLACED_KEY, true);
	blog(LOG_INFO, "[andross] the Slippi dock is placed on the right (first run)");
}

void onFrontendEvent(enum obs_frontend_event event, void *)
{
	if (!state)
		return;
	if (event == OBS_FRONTEND_EVENT_FINISHED_LOADING) {
		/* after what OBS does next in this pass (it restores or resets its docks), not before */
		QTimer::singleShot(0, state->dock, placeFirstTime);
		dock_glue_vendor_register();
	} else if (event == OBS_FRONTEND_EVENT_EXIT) {
		/* the engine stops after this: no more status reads */
		if (state->dock)
			state->dock->setPolling(false);
		if (state->dumper)
			state->dumper->stop();
		dock_glue_vendor_unregister();
	}
}

} // namespace

extern "C" void andross_dock_create(void)
{
	auto *main = static_cast<QMainWindow *>(obs_frontend_get_main_window());
	if (!main || !dock_glue_ready() || state)
		return; /* no frontend (a headless libobs), or the module did not start */
	state = new State();
	obs_frontend_push_ui_translation(obs_module_get_string);
	auto *dock = new Dock(&state->provider);
	QString title = state->provider.text("Dock.Title");
#if LIBOBS_API_MAJOR_VER >= 30
	if (!obs_frontend_add_dock_by_id(DOCK_ID, title.toUtf8().constData(), dock)) {
		blog(LOG_WARNING, "[andross] the dock id %s is taken: no Slippi dock", DOCK_ID);
		delete dock;
		obs_frontend_pop_ui_translation();
		delete state;
		state = nullptr;
		return;
	}
	state->frame = dock->parentWidget();
#else
	auto *dw = new QDockWidget(main);
	dw->setObjectName(QStringLiteral(DOCK_ID));
	dw->setWindowTitle(title);
	dw->setWidget(dock);
	dw->setFeatures(QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetMovable |
			QDockWidget::DockWidgetFloatable);
	dw->setFloating(true);
	dw->hide(); /* OBS's dock state shows it where the user left it; the first run places it */
	obs_frontend_add_dock(dw);
	state->frame = dw;
#endif
	obs_frontend_pop_ui_translation();
	state->dock = dock;
	/* what the dock shows, for GetDock: made on the UI thread, read by obs-websocket's threads */
	state->dumper = new QTimer(dock);
	state->dumper->setInterval(100);
	QObject::connect(state->dumper, &QTimer::timeout, dock, [dock] {
		if (dock_glue_take_reset())
			dock->resetHeartbeat();
		dock_glue_set_dump(QJsonDocument(dock->dump()).toJson(QJsonDocument::Compact).constData());
	});
	state->dumper->start();
	obs_frontend_add_event_callback(onFrontendEvent, nullptr);
	blog(LOG_INFO, "[andross] Slippi dock added (Qt %s at run time, %s at build time)", qVersion(), QT_VERSION_STR);
}

extern "C" void andross_dock_destroy(void)
{
	if (!state)
		return;
	obs_frontend_remove_event_callback(onFrontendEvent, nullptr);
	if (state->dock)
		state->dock->setPolling(false);
	dock_glue_vendor_unregister();
#if LIBOBS_API_MAJOR_VER >= 30
	obs_frontend_remove_dock(DOCK_ID);
#else
	delete state->frame.data(); /* gone already when the main window went first */
#endif
	delete state;
	state = nullptr;
}
