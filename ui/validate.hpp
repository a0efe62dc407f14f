/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The add/edit dialog's checks, without widgets: each returns the key of the error text ("" when the value is
 * right), so the dialog shows it beside the field and the tests check it. Nothing here touches the network; the
 * port check binds a socket on this machine and closes it.
 */
#pragma once

#include <QString>

#include <cstdint>

namespace andross_dock {

enum class Kind { Wii, Dolphin, Relay, Demo };

/* A URL's parts, and back. An unknown scheme reads as a Wii. extra: "?idle_ms=..." kept across an edit. */
struct UrlParts {
	Kind kind = Kind::Wii;
	QString host;
	QString port; /* "" : the kind's default */
	QString extra;
};
UrlParts parseUrl(const QString &url);
QString makeUrl(const UrlParts &p);
uint16_t defaultPort(Kind kind);

const char *checkName(const QString &name);
/* An IPv4 address, an IPv6 one in brackets, or a host name. */
const char *checkHost(const QString &host);
/* "" (the default) or 1..65535. */
const char *checkPort(const QString &port);
/* HOST:PORT with a numeric HOST and PORT 0..65535 ("" is fine: the module picks). host/port receive the parts. */
const char *checkListen(const QString &listen, QString *host = nullptr, uint16_t *port = nullptr);
/* True when a TCP socket can listen on host:port now (false when in use or the address is not this machine's);
 * why receives the key of the reason. */
bool listenFree(const QString &host, uint16_t port, const char **why);
/* A relay listening on an address other than the loopback's can be read by anyone on that network. */
bool listenIsPublic(const QString &listen);
/* "" or an existing folder. */
const char *checkFolder(const QString &folder);

} // namespace andross_dock
