/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A connection's rules as the dock shows and edits them, without widgets: each rule in words, whether it is broken
 * and why (from GetRules's answer), and the check of a rule being edited, made by the core's own parser
 * (plugin/core/rules.h): the dock never has rules of its own about what a rule may hold.
 */
#pragma once

#include "view.hpp"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <vector>

namespace andross_dock {

struct RuleRow {
	QJsonObject rule; /* as GetRules has it */
	QString words;    /* "Game start → switch to scene Game" */
	bool broken = false;
	bool optional = false; /* broken but optional: skipped quietly */
	QString reason;        /* why it is broken */
};

struct RulesView {
	bool ok = false; /* the JSON could be read */
	std::vector<RuleRow> rows;
	bool recordGames = false;
	qint64 stopAfterMs = 5000;
};

/* GetRules's answer, read. */
RulesView readRules(const QByteArray &json, const Text &t);
/* One rule in words. */
QString ruleWords(const QJsonObject &rule, const Text &t);
/* What SetRules takes: {rules, recordGames: {enabled, stopAfterMs}}. */
QByteArray rulesJson(const std::vector<QJsonObject> &rules, bool recordGames, qint64 stopAfterMs);
QByteArray rulesJson(const RulesView &v);

/* The core's parser on one rule. True when it takes it; else field receives the JSON member the error is about
 * ("scene", "delayMs", ...; "" when none) and message the parser's own words. */
bool checkRule(const QJsonObject &rule, QString *field, QString *message);
/* The members of a rule the dialog edits, in the order of its fields. */
extern const char *const ruleFields[];

} // namespace andross_dock
