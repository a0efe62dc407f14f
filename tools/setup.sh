#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Sets up a Debian 12 (or Ubuntu) machine to build and test andross, then builds into build/.
#   1. apt: the compilers, libobs, Qt 5, cmocka, enet, Xvfb, clang-format-19, valgrind, node >= 18, OBS itself;
#   2. npm ci in tests/node (the slippi-js reference tests), if that folder has a package-lock.json;
#   3. cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2.
# Safe to re-run: it installs only what is missing and skips npm ci when node_modules matches the lock file.
# Environment: ANDROSS_CMAKE_ARGS (extra arguments for the configure step), ANDROSS_JOBS (default 2).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { echo "setup.sh: $*"; }
die() {
	echo "setup.sh: error: $*" >&2
	exit 1
}

# Run a command as root: directly when we are root, through sudo when it exists.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

apt_updated=0
apt_install() {
	local missing=()
	local p
	for p in "$@"; do
		is_installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	if [ $apt_updated -eq 0 ]; then
		log "apt-get update"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
		apt_updated=1
	fi
	log "installing: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_packages() {
	command -v apt-get >/dev/null 2>&1 || die "this script needs apt-get (Debian 12 or Ubuntu)"

	# Build: compilers, CMake, libobs 29 (Debian 12), Qt 5 for the dock (Debian's OBS 29 is Qt 5) and Qt 6 (the dock's
	# widgets are also built and tested for OBS 30+), cmocka, enet.
	# Test: Xvfb for headless libobs and OBS E2E, clang + clang-format-19 for fuzzing and the format check,
	# valgrind, python3 (tools/scripts), OBS itself (E2E), x11-utils (xdpyinfo to wait for a display), imagemagick
	# (screenshots of OBS under Xvfb: tests/obs/e2e, tools/obs-demo.sh), xdotool (sizes OBS's window on Xvfb).
	local packages=(build-essential cmake pkg-config libobs-dev qtbase5-dev qt6-base-dev libcmocka-dev libenet-dev
		xvfb xauth clang clang-format-19 valgrind python3 obs-studio obs-plugins x11-utils imagemagick xdotool)

	# node >= 18 for tests/node. Keep a newer node that is already there (e.g. NodeSource's, which bundles npm):
	# Debian's npm package would conflict with it.
	if ! command -v node >/dev/null 2>&1 || [ "$(node_major)" -lt 18 ]; then
		packages+=(nodejs npm)
	elif ! command -v npm >/dev/null 2>&1; then
		packages+=(npm)
	fi
	apt_install "${packages[@]}"

	# libFuzzer and the sanitizer runtimes of clang live in libclang-rt-<N>-dev, which clang does not pull in.
	local clang_major
	clang_major=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
	if [ -n "$clang_major" ] && apt-cache show "libclang-rt-$clang_major-dev" >/dev/null 2>&1; then
		apt_install "libclang-rt-$clang_major-dev"
	fi

	if [ "$(node_major)" -lt 18 ]; then
		log "warning: node $(node --version 2>/dev/null || echo missing) is older than v18; tests/node needs v18+"
	fi
}

install_node_modules() {
	local dir=tests/node
	if [ ! -f "$dir/package.json" ]; then
		log "no $dir/package.json yet: skipping npm ci"
		return 0
	fi
	if [ ! -f "$dir/package-lock.json" ]; then
		log "$dir has no package-lock.json: skipping npm ci"
		return 0
	fi
	# npm writes node_modules/.package-lock.json after a successful install; newer than the lock = up to date.
	if [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
		log "$dir/node_modules is up to date"
		return 0
	fi
	log "npm ci in $dir"
	(cd "$dir" && npm ci --no-audit --no-fund)
}

build() {
	local jobs=${ANDROSS_JOBS:-2}
	# shellcheck disable=SC2086 # ANDROSS_CMAKE_ARGS is a list of arguments
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo ${ANDROSS_CMAKE_ARGS:-}
	cmake --build build -j"$jobs"
}

install_packages
install_node_modules
build
log "done: build/ is ready (tests: xvfb-run -a ctest --test-dir build, or tools/test.sh for everything)"
