/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "validate.hpp"

#include "engine.h"

#include <QFileInfo>
#include <QRegularExpression>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace andross_dock {

/* A numeric address (IPv4 dotted, or IPv6 without brackets) into sockaddr form; false when it is not one. */
static bool numericAddress(const QString &host, uint16_t port, sockaddr_storage *ss, socklen_t *len)
{
	std::memset(ss, 0, sizeof(*ss));
	QByteArray h = host.toLatin1();
	auto *s4 = reinterpret_cast<sockaddr_in *>(ss);
	if (inet_pton(AF_INET, h.constData(), &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return true;
	}
	auto *s6 = reinterpret_cast<sockaddr_in6 *>(ss);
	if (inet_pton(AF_INET6, h.constData(), &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return true;
	}
	return false;
}

static const struct {
	Kind kind;
	const char *scheme;
	uint16_t port;
} kinds[] = {
	{Kind::Wii, "console", 51441},
	{Kind::Dolphin, "dolphin", 51441},
	{Kind::Relay, "relay", 53742},
	{Kind::Demo, "demo", 0},
};

uint16_t defaultPort(Kind kind)
{
	for (const auto &k : kinds)
		if (k.kind == kind)
			return k.port;
	return 0;
}

UrlParts parseUrl(const QString &url)
{
	UrlParts p;
	QString rest = url;
	int sep = url.indexOf(QStringLiteral("://"));
	if (sep >= 0) {
		QString scheme = url.left(sep);
		for (const auto &k : kinds)
			if (scheme == QLatin1String(k.scheme))
				p.kind = k.kind;
		rest = url.mid(sep + 3);
	}
	int q = rest.indexOf(QLatin1Char('?'));
	if (q >= 0) {
		p.extra = rest.mid(q);
		rest = rest.left(q);
	}
	if (p.kind == Kind::Demo)
		return p;
	int colon = rest.lastIndexOf(QLatin1Char(':'));
	int bracket = rest.lastIndexOf(QLatin1Char(']'));
	if (colon > bracket) {
		p.host = rest.left(colon);
		p.port = rest.mid(colon + 1);
	} else {
		p.host = rest;
	}
	return p;
}

QString makeUrl(const UrlParts &p)
{
	const char *scheme = "console";
	for (const auto &k : kinds)
		if (k.kind == p.kind)
			scheme = k.scheme;
	QString url = QString::fromLatin1(scheme) + QStringLiteral("://");
	if (p.kind != Kind::Demo) {
		url += p.host.trimmed();
		if (!p.port.trimmed().isEmpty())
			url += QLatin1Char(':') + p.port.trimmed();
	}
	return url + p.extra;
}

const char *checkName(const QString &name)
{
	if (name.trimmed().isEmpty())
		return "Dock.Error.NameEmpty";
	if (name.toUtf8().size() >= ENGINE_NAME_MAX)
		return "Dock.Error.NameLong";
	return "";
}

const char *checkHost(const QString &host)
{
	QString h = host.trimmed();
	if (h.isEmpty())
		return "Dock.Error.AddressEmpty";
	if (h.startsWith(QLatin1Char('[')) && h.endsWith(QLatin1Char(']'))) {
		sockaddr_storage ss;
		socklen_t len;
		return numericAddress(h.mid(1, h.size() - 2), 0, &ss, &len) && ss.ss_family == AF_INET6
			       ? ""
			       : "Dock.Error.AddressBad";
	}
	static const QRegularExpression ipv4_like(QStringLiteral("^[0-9.]+$"));
	if (ipv4_like.match(h).hasMatch()) {
		sockaddr_storage ss;
		socklen_t len;
		return numericAddress(h, 0, &ss, &len) && ss.ss_family == AF_INET ? "" : "Dock.Error.AddressBad";
	}
	static const QRegularExpression name(
		QStringLiteral("^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\\.?$"));
	if (h.size() > 253 || !name.match(h).hasMatch())
		return "Dock.Error.AddressBad";
	return "";
}

const char *checkPort(const QString &port)
{
	QString p = port.trimmed();
	if (p.isEmpty())
		return "";
	bool ok = false;
	unsigned v = p.toUInt(&ok);
	return ok && v >= 1 && v <= 65535 ? "" : "Dock.Error.PortBad";
}

const char *checkListen(const QString &listen, QString *host_out, uint16_t *port_out)
{
	QString l = listen.trimmed();
	if (l.isEmpty())
		return "";
	int colon = l.lastIndexOf(QLatin1Char(':'));
	if (colon <= 0)
		return "Dock.Error.ListenBad";
	QString host = l.left(colon);
	if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
		host = host.mid(1, host.size() - 2);
	sockaddr_storage ss;
	socklen_t len;
	if (!numericAddress(host, 0, &ss, &len))
		return "Dock.Error.ListenBad";
	bool ok = false;
	unsigned port = l.mid(colon + 1).toUInt(&ok);
	if (!ok || port > 65535)
		return "Dock.Error.ListenBad";
	if (host_out)
		*host_out = host;
	if (port_out)
		*port_out = (uint16_t)port;
	return "";
}

bool listenFree(const QString &host, uint16_t port, const char **why)
{
	*why = "";
	sockaddr_storage ss;
	socklen_t len;
	if (!numericAddress(host, port, &ss, &len)) {
		*why = "Dock.Error.ListenBad";
		return false;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true; /* cannot tell: the module's own bind says it */
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* as the relay binds: TIME_WAIT is no conflict */
	bool ok = bind(fd, reinterpret_cast<sockaddr *>(&ss), len) == 0;
	int e = errno;
	close(fd);
	if (!ok)
		*why = e == EADDRINUSE ? "Dock.Error.ListenInUse" : "Dock.Error.ListenNotHere";
	return ok;
}

bool listenIsPublic(const QString &listen)
{
	QString host;
	if (*checkListen(listen, &host) || listen.trimmed().isEmpty())
		return false;
	sockaddr_storage ss;
	socklen_t len;
	numericAddress(host, 0, &ss, &len);
	if (ss.ss_family == AF_INET)
		return (ntohl(reinterpret_cast<sockaddr_in *>(&ss)->sin_addr.s_addr) >> 24) != 127;
	return !IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_addr);
}

const char *checkFolder(const QString &folder)
{
	if (folder.trimmed().isEmpty())
		return "";
	QFileInfo f(folder.trimmed());
	return f.isDir() ? "" : "Dock.Error.FolderMissing";
}

} // namespace andross_dock
