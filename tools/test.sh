#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The one command that runs every andross test:
#   0. tools/setup.sh: packages, npm ci, build/ (RelWithDebInfo)
#   1. xvfb-run -a ctest in build/ (unit tests, the headless-libobs module test, node tests, the format check)
#   2. an ASan+UBSan build in build-asan/ (without OBS; with the dock's widgets and their Qt tests) and its ctest
#   2b. the Slippi dock's widgets built for Qt 6 (OBS 30+) in build-qt6/ and their Qt tests, offscreen (build/ built
#       them for Qt 5, the one Debian's OBS 29 runs, and ran them with the rest)
#   3. a libFuzzer build in build-fuzz/ (clang) and a bounded run of every fuzz_* target
# Prints `N passed, N failed` as its last line (ctest tests of every phase, fuzz runs, and failed build steps) and
# exits non-zero if anything failed.
# Environment: ANDROSS_FUZZ_SECONDS (per fuzz target, default 20), ANDROSS_JOBS (default 2),
#              ANDROSS_SKIP (space-separated phases to skip: asan qt6 fuzz).
set -uo pipefail # not -e: every phase runs and reports even when an earlier one failed

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

JOBS=${ANDROSS_JOBS:-2}
FUZZ_SECONDS=${ANDROSS_FUZZ_SECONDS:-20}
SKIP=" ${ANDROSS_SKIP:-} "
LOG_DIR=$ROOT/build/test-logs

passed=0
failed=0
failures=()

say() { printf '\n=== test.sh: %s ===\n' "$*"; }
pass() { passed=$((passed + ${2:-1})); }
fail() {
	failed=$((failed + 1))
	failures+=("$1")
	echo "test.sh: FAILED: $1"
}

# Runs ctest with the given arguments, prints its output, and adds its test counts to the totals.
# A ctest that ran no test at all (or crashed before its summary) counts as one failure.
run_ctest() {
	local phase=$1
	shift
	local out=$LOG_DIR/ctest-$phase.log
	local rc=0
	"$@" 2>&1 | tee "$out" || rc=$?

	local summary
	summary=$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -1)
	if [ -z "$summary" ]; then
		if grep -q 'No tests were found' "$out"; then
			echo "test.sh: $phase: no tests registered"
			[ $rc -eq 0 ] && return 0
		fi
		fail "$phase: ctest exited with $rc before reporting results"
		return
	fi
	local n_failed n_total
	n_failed=$(echo "$summary" | sed -E 's/.*, ([0-9]+) tests? failed out of ([0-9]+)/\1/')
	n_total=$(echo "$summary" | sed -E 's/.* out of ([0-9]+)/\1/')
	pass "$phase" $((n_total - n_failed))
	failed=$((failed + n_failed))
	if [ "$n_failed" -gt 0 ]; then
		failures+=("$phase: $n_failed of $n_total ctest tests (see $out)")
	elif [ $rc -ne 0 ]; then
		fail "$phase: ctest exited with $rc although every test passed"
	fi
}

# configure_and_build <phase> <build dir> <cmake args...>: counts a failed configure or build as one failure.
configure_and_build() {
	local phase=$1 dir=$2
	shift 2
	if ! cmake -S . -B "$dir" "$@"; then
		fail "$phase: cmake configure"
		return 1
	fi
	if ! cmake --build "$dir" -j"$JOBS"; then
		fail "$phase: build"
		return 1
	fi
}

phase_setup() {
	say "setup (tools/setup.sh)"
	if ! bash tools/setup.sh; then
		fail "setup: tools/setup.sh (packages, npm ci or the build of build/)"
	fi
	mkdir -p "$LOG_DIR"
}

phase_main() {
	say "ctest in build/ under xvfb-run"
	if [ ! -f build/CTestTestfile.cmake ]; then
		fail "main: build/ has no tests (configure failed?)"
		return
	fi
	run_ctest main xvfb-run -a ctest --test-dir build --output-on-failure
}

phase_asan() {
	say "ASan+UBSan build in build-asan/ and its ctest"
	configure_and_build asan build-asan -DCMAKE_BUILD_TYPE=Debug -DANDROSS_SANITIZE=address,undefined \
		-DANDROSS_BUILD_OBS=OFF -DANDROSS_BUILD_BENCH=OFF || return
	# The format check already ran in build/; everything else runs again with the sanitizers on.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		run_ctest asan ctest --test-dir build-asan --output-on-failure -LE format
}

phase_qt6() {
	say "the dock's widgets for Qt 6 in build-qt6/ and their Qt tests"
	# Only the dock's library and its tests: no OBS module (Debian's libobs is the Qt 5 OBS 29), no tool, no bench.
	if ! cmake -S . -B build-qt6 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANDROSS_QT_VERSION=6 -DANDROSS_BUILD_OBS=OFF \
		-DANDROSS_BUILD_TOOL=OFF -DANDROSS_BUILD_BENCH=OFF; then
		fail "qt6: cmake configure"
		return
	fi
	if ! cmake --build build-qt6 -j"$JOBS" --target test_dock_ui; then
		fail "qt6: build"
		return
	fi
	run_ctest qt6 ctest --test-dir build-qt6 --output-on-failure -L ui
}

phase_fuzz() {
	say "libFuzzer build in build-fuzz/ and ${FUZZ_SECONDS} s per target"
	if [ ! -f tests/fuzz/CMakeLists.txt ]; then
		echo "test.sh: no fuzz targets yet (tests/fuzz/CMakeLists.txt does not exist): skipping"
		return
	fi
	configure_and_build fuzz build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
		-DANDROSS_FUZZ=ON -DANDROSS_SANITIZE=address,undefined -DANDROSS_BUILD_OBS=OFF -DANDROSS_BUILD_DOCK=OFF \
		-DANDROSS_BUILD_TOOL=OFF -DANDROSS_BUILD_BENCH=OFF -DBUILD_TESTING=OFF || return

	local targets=()
	mapfile -t targets < <(find build-fuzz -type f -name 'fuzz_*' -perm -u+x | LC_ALL=C sort)
	if [ ${#targets[@]} -eq 0 ]; then
		echo "test.sh: build-fuzz/ has no fuzz_* executables: nothing to run"
		return
	fi
	mkdir -p build-fuzz/corpus build-fuzz/artifacts "$LOG_DIR"
	local exe name seeds work out rc
	for exe in "${targets[@]}"; do
		name=$(basename "$exe")
		name=${name#fuzz_}
		work=build-fuzz/corpus/$name # new inputs go here, never into the seed corpus in the source tree
		mkdir -p "$work"
		seeds=()
		[ -d "tests/fuzz/corpus/$name" ] && seeds=("tests/fuzz/corpus/$name")
		out=$LOG_DIR/fuzz-$name.log
		echo "test.sh: fuzz_$name for ${FUZZ_SECONDS} s (seeds: ${seeds[*]:-none}, log: $out)"
		rc=0
		timeout --kill-after=10 $((FUZZ_SECONDS + 120)) "$exe" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 \
			-timeout=25 -artifact_prefix="build-fuzz/artifacts/$name-" -print_final_stats=1 \
			"$work" "${seeds[@]}" >"$out" 2>&1 || rc=$?
		if [ $rc -eq 0 ]; then
			pass "fuzz_$name"
			grep -E '^stat::number_of_executed_units' "$out" | sed "s/^/test.sh: fuzz_$name: /" || true
		else
			tail -n 40 "$out"
			fail "fuzz_$name: exit $rc (crash inputs in build-fuzz/artifacts/, log $out)"
		fi
	done
}

phase_setup
phase_main
case "$SKIP" in *" asan "*) say "ASan phase skipped (ANDROSS_SKIP)" ;; *) phase_asan ;; esac
case "$SKIP" in *" qt6 "*) say "Qt 6 phase skipped (ANDROSS_SKIP)" ;; *) phase_qt6 ;; esac
case "$SKIP" in *" fuzz "*) say "fuzz phase skipped (ANDROSS_SKIP)" ;; *) phase_fuzz ;; esac

say "summary"
if [ ${#failures[@]} -gt 0 ]; then
	printf '  failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
