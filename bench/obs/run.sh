#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# andross in the real OBS: event latency from the console simulator's write, and OBS's lagged and skipped frames
# with andross idle and busy, in one run (bench/README.md).
#
#   bench/obs/run.sh BUILD_DIR [--seconds S] [--clients N] [--replay FILE]... [--obs-fps N] [--preview on|off]
#                    [--realtime on|off] (more: node bench/obs/obs_bench.mjs --help)
#   bench/obs/run.sh BUILD_DIR --text [--seconds S] [--replay FILE]... [--obs-fps N] [--preview on|off]
#     (a Slippi Text source's latency: text_bench.mjs)
#   e.g. bench/obs/run.sh build
#
# BUILD_DIR holds obs-plugins/bin/andross.so and tools/andross. Needs obs (obs-studio), Xvfb and
# tests/node/node_modules (npm ci). Environment: NODE (default node). Always exits 0 unless it is called wrongly
# or cannot run: a benchmark never fails a build.
set -u

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
	sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$1
shift
node=${NODE:-node}

missing=""
[ -f "$build/obs-plugins/bin/andross.so" ] || missing="$missing $build/obs-plugins/bin/andross.so (build with ANDROSS_BUILD_OBS on)"
[ -x "$build/tools/andross" ] || missing="$missing $build/tools/andross"
command -v obs >/dev/null 2>&1 || missing="$missing obs (apt-get install obs-studio)"
command -v Xvfb >/dev/null 2>&1 || missing="$missing Xvfb (apt-get install xvfb)"
[ -d "$repo/tests/node/node_modules/obs-websocket-js" ] || missing="$missing tests/node/node_modules (cd tests/node && npm ci)"
if [ -n "$missing" ]; then
	echo "bench/obs: cannot run; missing:$missing"
	exit 1
fi
if [ "${1:-}" = "--text" ]; then
	shift
	ANDROSS_BENCH_COMMAND="$0 $build --text${*:+ $*}" exec "$node" "$here/text_bench.mjs" --build "$build" "$@"
fi
ANDROSS_BENCH_COMMAND="$0 $build${*:+ $*}" exec "$node" "$here/obs_bench.mjs" --build "$build" "$@"
