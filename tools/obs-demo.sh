#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Shows andross doing its job in the real OBS Studio: OBS starts with the plugin from build/ and a ready profile and
# scene collection in its own HOME (build/obs-demo-home; the user's ~/.config/obs-studio is never touched), a
# demo:// connection plays a bundled game in real time while OBS records, and it prints the game's events (JSON
# Lines on stdout) and where the recording, its .slp and its sidecar are. Without a display it runs OBS under Xvfb
# and saves a screenshot too.
#   ./tools/obs-demo.sh [--seconds N] [--xvfb]
#     --seconds N  stop after N seconds instead of at the end of the first game (a few minutes; at most 600 s)
#     --xvfb       run OBS under an Xvfb of its own even when DISPLAY is set
# Needs what tools/setup.sh installs and builds (obs, Xvfb, ImageMagick, node modules, build/ with the module).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${ANDROSS_BUILD_DIR:-$ROOT/build}

die() {
	echo "obs-demo: error: $*" >&2
	exit 1
}

command -v obs >/dev/null 2>&1 || die "OBS Studio is not installed (run ./tools/setup.sh)"
command -v node >/dev/null 2>&1 || die "node is not installed (run ./tools/setup.sh)"
[ -f "$BUILD/obs-plugins/bin/andross.so" ] || die "$BUILD/obs-plugins/bin/andross.so is missing (run ./tools/setup.sh)"
[ -d "$ROOT/tests/node/node_modules/obs-websocket-js" ] || die "tests/node/node_modules is missing (run ./tools/setup.sh)"
if [ -z "${DISPLAY:-}" ] || [[ " $* " == *" --xvfb "* ]]; then
	command -v Xvfb >/dev/null 2>&1 || die "no DISPLAY and no Xvfb (run ./tools/setup.sh)"
	command -v import >/dev/null 2>&1 || die "ImageMagick's import is missing, for the screenshot (run ./tools/setup.sh)"
fi

export ANDROSS_BUILD_DIR=$BUILD
exec node "$ROOT/tools/obs-demo.mjs" "$@"
