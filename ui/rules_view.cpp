/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rules_view.hpp"

#include "rules.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

namespace andross_dock {

const char *const ruleFields[] = {"event",     "seconds",  "port",       "connectCode", "character",
				  "minDamage", "kill",     "endMethods", "action",      "scene",
				  "source",    "template", "toPreview",  "delayMs",     nullptr};

static QString key(const char *prefix, const QString &name)
{
	return QString::fromLatin1(prefix) + name;
}

/* "3" for 3000 ms, "0.5" for 500 */
static QString seconds(double ms)
{
	return QString::number(ms / 1000.0, 'g', 8);
}

QString ruleWords(const QJsonObject &r, const Text &t)
{
	auto tr = [&t](const QString &k) {
		return t(k.toUtf8().constData());
	};
	QString event = r.value(QStringLiteral("event")).toString();
	QString action = r.value(QStringLiteral("action")).toString();
	QString when =
		event == QStringLiteral("menus")
			? tr(QStringLiteral("Rules.Short.menus")).arg(r.value(QStringLiteral("seconds")).toDouble())
			: tr(key("Rules.Short.", event));

	QStringList conds;
	if (r.contains(QStringLiteral("port")))
		conds << t("Rules.Words.Port").arg(r.value(QStringLiteral("port")).toInt());
	if (r.contains(QStringLiteral("connectCode")))
		conds << r.value(QStringLiteral("connectCode")).toString();
	if (r.contains(QStringLiteral("character")))
		conds << characterName(t, (unsigned)r.value(QStringLiteral("character")).toInt());
	bool dmg = r.contains(QStringLiteral("minDamage"));
	bool kill = r.value(QStringLiteral("kill")).toBool();
	QString damage = dmg ? t("Rules.Words.MinDamage").arg(r.value(QStringLiteral("minDamage")).toDouble())
			     : QString();
	if (dmg && kill)
		conds << t("Rules.Words.Or").arg(damage, t("Rules.Words.Kill"));
	else if (dmg)
		conds << damage;
	else if (kill)
		conds << t("Rules.Words.Kill");
	if (r.contains(QStringLiteral("endMethods"))) {
		QStringList names;
		for (const QString &m : r.value(QStringLiteral("endMethods")).toString().split(QLatin1Char(','))) {
			if (!m.trimmed().isEmpty())
				names << tr(key("Rules.EndMethod.", m.trimmed()));
		}
		conds << names.join(QStringLiteral(", "));
	}
	if (!conds.isEmpty())
		when = t("Rules.Words.If").arg(when, conds.join(QStringLiteral(", ")));

	QString scene = r.value(QStringLiteral("scene")).toString(),
		source = r.value(QStringLiteral("source")).toString();
	QString then = tr(key("Rules.Do.", action));
	if (action == QLatin1String("switch_scene"))
		then = then.arg(scene);
	else if (action == QLatin1String("show_source") || action == QLatin1String("hide_source"))
		then = then.arg(source, scene);
	else if (action == QLatin1String("set_text_template"))
		then = then.arg(source, r.value(QStringLiteral("template")).toString());
	if (r.value(QStringLiteral("toPreview")).toBool())
		then = t("Rules.Words.ToPreview").arg(then);
	double delay = r.value(QStringLiteral("delayMs")).toDouble();
	if (delay > 0)
		then = t("Rules.Words.After").arg(then, seconds(delay));
	QString line = t("Rules.Words.Line").arg(when, then);
	if (r.contains(QStringLiteral("enabled")) && !r.value(QStringLiteral("enabled")).toBool())
		line = t("Rules.Words.Off").arg(line);
	return line;
}

RulesView readRules(const QByteArray &json, const Text &t)
{
	RulesView v;
	QJsonParseError pe;
	QJsonDocument d = QJsonDocument::fromJson(json, &pe);
	if (pe.error != QJsonParseError::NoError || !d.isObject())
		return v;
	QJsonObject o = d.object();
	for (const QJsonValue &r : o.value(QStringLiteral("rules")).toArray()) {
		RuleRow row;
		row.rule = r.toObject();
		row.words = ruleWords(row.rule, t);
		v.rows.push_back(row);
	}
	for (const QJsonValue &b : o.value(QStringLiteral("broken")).toArray()) {
		QJsonObject bo = b.toObject();
		int i = bo.value(QStringLiteral("index")).toInt(-1);
		if (i < 0 || i >= (int)v.rows.size())
			continue;
		v.rows[i].broken = true;
		v.rows[i].optional = bo.value(QStringLiteral("optional")).toBool();
		v.rows[i].reason = bo.value(QStringLiteral("reason")).toString();
	}
	QJsonObject rg = o.value(QStringLiteral("recordGames")).toObject();
	v.recordGames = rg.value(QStringLiteral("enabled")).toBool();
	v.stopAfterMs = (qint64)rg.value(QStringLiteral("stopAfterMs")).toDouble(5000);
	v.ok = true;
	return v;
}

QByteArray rulesJson(const std::vector<QJsonObject> &rules, bool recordGames, qint64 stopAfterMs)
{
	QJsonArray list;
	for (const QJsonObject &r : rules)
		list.append(r);
	QJsonObject o;
	o[QStringLiteral("rules")] = list;
	o[QStringLiteral("recordGames")] =
		QJsonObject{{QStringLiteral("enabled"), recordGames}, {QStringLiteral("stopAfterMs"), stopAfterMs}};
	return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray rulesJson(const RulesView &v)
{
	std::vector<QJsonObject> rules;
	for (const RuleRow &r : v.rows)
		rules.push_back(r.rule);
	return rulesJson(rules, v.recordGames, v.stopAfterMs);
}

bool checkRule(const QJsonObject &rule, QString *field, QString *message)
{
	QJsonObject o;
	o[QStringLiteral("rules")] = QJsonArray{rule};
	QByteArray json = QJsonDocument(o).toJson(QJsonDocument::Compact);
	struct rules_set s;
	rules_set_init(&s);
	char err[256] = "";
	int rc = rules_parse(&s, json.constData(), (size_t)json.size(), err, sizeof(err));
	rules_set_free(&s);
	if (field)
		field->clear();
	if (message)
		*message = QString::fromUtf8(err);
	if (rc == 0)
		return true;
	/* "rules[0]: scene is required for switch_scene": the member it names first */
	static const QRegularExpression re(QStringLiteral("^rules\\[0\\]: ([A-Za-z]+)"));
	QRegularExpressionMatch m = re.match(QString::fromUtf8(err));
	if (m.hasMatch() && field) {
		for (int i = 0; ruleFields[i]; i++)
			if (m.captured(1) == QLatin1String(ruleFields[i]))
				*field = m.captured(1);
	}
	return false;
}

} // namespace andross_dock
