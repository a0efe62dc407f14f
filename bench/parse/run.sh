#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Parse benchmark, andross core vs slippi-js, on the same replays in one run. Builds nothing.
#
#   bench/parse/run.sh BENCH_PARSE_BINARY REPLAY_DIR_OR_FILES... [-- --seconds S]
#   e.g. bench/parse/run.sh build/bench/bench_parse tests/replays
#
# Environment: NODE (default node), SECONDS_PER_RUN (default 2), TASKSET (e.g. "taskset -c 0" to pin one core).
# Always exits 0 unless it is called wrongly: a benchmark never fails a build.
set -u

if [ $# -lt 2 ]; then
	sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
bench=$1
shift
node=${NODE:-node}
seconds=${SECONDS_PER_RUN:-2}
pin=${TASKSET:-}

files=""
for arg in "$@"; do
	if [ -d "$arg" ]; then
		for f in "$arg"/*.slp; do
			files="$files $f"
		done
	else
		files="$files $arg"
	fi
done

echo "command: $0 $bench $* (SECONDS_PER_RUN=$seconds${pin:+ TASKSET=\"$pin\"})"
echo "machine: $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'); $(nproc 2>/dev/null) cores"
echo

# shellcheck disable=SC2086 # $files and $pin are word lists on purpose
c_out=$($pin "$bench" --seconds "$seconds" $files 2>&1)
c_status=$?
# shellcheck disable=SC2086
js_out=$($pin "$node" "$here/slippi_js_parse.mjs" --seconds "$seconds" $files 2>&1)
js_status=$?
echo "$c_out" | grep -v '^RESULT'
echo "$js_out" | grep -v '^RESULT'
echo

field() { # field NAME KEY: a value from a RESULT line
	printf '%s\n%s\n' "$c_out" "$js_out" | awk -v n="$1" -v k="$2" \
		'$1 == "RESULT" && $2 == n { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }'
}
c_mb=$(field andross mb_per_s)
c_ev=$(field andross events_per_s)
js_mb=$(field slippi-js mb_per_s)
js_ev=$(field slippi-js events_per_s)
if [ $c_status -ne 0 ] || [ $js_status -ne 0 ] || [ -z "$c_mb" ] || [ -z "$js_mb" ]; then
	echo "benchmark incomplete (andross exit $c_status, slippi-js exit $js_status): no comparison"
	exit 0
fi
c_n=$(field andross events_per_pass)
js_n=$(field slippi-js events_per_pass)
[ "$c_n" = "$js_n" ] || echo "note: event counts per pass differ (andross $c_n, slippi-js $js_n)"

awk -v cm="$c_mb" -v ce="$c_ev" -v jm="$js_mb" -v je="$js_ev" 'BEGIN {
	printf "%-12s %12s %14s\n", "", "MB/s", "events/s"
	printf "%-12s %12.1f %14.0f\n", "andross", cm, ce
	printf "%-12s %12.1f %14.0f\n", "slippi-js", jm, je
	printf "%-12s %11.1fx %13.1fx\n", "ratio", cm / jm, ce / je
	printf "\ntargets: >= 20x slippi-js: %s; >= 500 MB/s on one core: %s\n",
		(cm / jm >= 20 ? "met" : "NOT met"), (cm >= 500 ? "met" : "NOT met")
}'
exit 0
