#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Ingest latency, andross console:// source vs slippi-js ConsoleConnection, same server and replay, in one run.
#
#   bench/ingest/run.sh BENCH_INGEST_BINARY REPLAY.slp [--frames N]
#   e.g. bench/ingest/run.sh build-release/bench/ingest/bench_ingest tests/replays/v3.14.0.slp
#
# Environment: NODE (default node), TASKSET (e.g. "taskset -c 0" to pin both runs to one core).
# Always exits 0 unless it is called wrongly: a benchmark never fails a build.
set -u

if [ $# -lt 2 ]; then
	sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
bench=$1
replay=$2
shift 2
node=${NODE:-node}
pin=${TASKSET:-}

echo "command: $0 $bench $replay $*${pin:+ (TASKSET=\"$pin\")}"
echo "machine: $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'); $(nproc 2>/dev/null) cores"
echo

# shellcheck disable=SC2086 # $pin is a word list on purpose
c_out=$($pin "$bench" --replay "$replay" "$@" 2>&1)
c_status=$?
echo "$c_out" | grep -v '^RESULT'
echo
# shellcheck disable=SC2086
js_out=$($pin "$node" "$here/slippi_js_ingest.mjs" "$bench" --replay "$replay" "$@" 2>&1)
js_status=$?
echo "$js_out" | grep -v '^RESULT'
echo

field() { # field NAME KEY: a value from a RESULT line
	printf '%s\n%s\n' "$c_out" "$js_out" | awk -v n="$1" -v k="$2" \
		'$1 == "RESULT" && $2 == n { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }'
}
c_p99=$(field andross p99_us)
js_p99=$(field slippi-js p99_us)
if [ $c_status -ne 0 ] || [ -z "$c_p99" ]; then
	echo "andross run incomplete (exit $c_status): no numbers"
	exit 0
fi
printf '%-12s %8s %10s %10s %10s\n' "" frames "p50 us" "p99 us" "max us"
for side in andross slippi-js; do
	[ -n "$(field "$side" p99_us)" ] || continue
	printf '%-12s %8s %10s %10s %10s\n' "$side" "$(field "$side" frames)" "$(field "$side" p50_us)" \
		"$(field "$side" p99_us)" "$(field "$side" max_us)"
done
[ -n "$js_p99" ] || echo "slippi-js run incomplete (exit $js_status): see above"
echo
if [ "$c_p99" -lt 200 ]; then
	echo "target: andross p99 under 200 us: met"
else
	echo "target: andross p99 under 200 us: NOT met"
fi
exit 0
