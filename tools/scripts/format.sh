#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Formats the project's C/C++ sources in place with OBS's .clang-format.
#   tools/scripts/format.sh            format every project source
#   tools/scripts/format.sh --check    change nothing; list the files that need formatting and fail if any do
#   tools/scripts/format.sh FILE...    format (or with --check, check) only these files
# clang-format output differs between major versions, so the project pins one: clang-format-19 (set CLANG_FORMAT to
# override).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
REQUIRED_MAJOR=19

find_clang_format() {
	local candidate
	if [ -n "${CLANG_FORMAT:-}" ]; then
		"$CLANG_FORMAT" --version | grep -Eq "version $REQUIRED_MAJOR\." ||
			echo "format.sh: warning: CLANG_FORMAT=$CLANG_FORMAT is not version $REQUIRED_MAJOR" >&2
		echo "$CLANG_FORMAT"
		return 0
	fi
	for candidate in clang-format-$REQUIRED_MAJOR clang-format; do
		if command -v "$candidate" >/dev/null 2>&1 &&
			"$candidate" --version | grep -Eq "version $REQUIRED_MAJOR\."; then
			echo "$candidate"
			return 0
		fi
	done
	echo "format.sh: clang-format-$REQUIRED_MAJOR not found (Debian 12: apt-get install clang-format-$REQUIRED_MAJOR)" >&2
	return 1
}

# Every C/C++ source of the project, skipping generated tables, test data, node modules and build trees.
list_sources() {
	cd "$ROOT"
	local dirs=()
	local d
	for d in plugin tools tests bench ui; do
		[ -d "$d" ] && dirs+=("$d")
	done
	[ ${#dirs[@]} -gt 0 ] || return 0
	find "${dirs[@]}" \
		\( -type d \( -name node_modules -o -name 'build*' -o -path tests/replays -o -path tests/fuzz/corpus \) -prune \) -o \
		\( -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' -o -name '*.cc' \) \
		! -path plugin/core/sjis_table.c -print \) | LC_ALL=C sort
}

check=0
files=()
for arg in "$@"; do
	case "$arg" in
	--check) check=1 ;;
	-h | --help)
		sed -n '3,8p' "${BASH_SOURCE[0]}"
		exit 0
		;;
	*) files+=("$arg") ;;
	esac
done

CF=$(find_clang_format)
if [ ${#files[@]} -eq 0 ]; then
	mapfile -t files < <(list_sources)
	cd "$ROOT"
fi
if [ ${#files[@]} -eq 0 ]; then
	echo "format.sh: no sources found"
	exit 0
fi

if [ $check -eq 0 ]; then
	"$CF" -i --style=file "${files[@]}"
	echo "format.sh: formatted ${#files[@]} files with $("$CF" --version | head -1)"
	exit 0
fi

bad=()
for f in "${files[@]}"; do
	if ! "$CF" --dry-run --Werror --style=file "$f" >/dev/null 2>&1; then
		bad+=("$f")
	fi
done
if [ ${#bad[@]} -ne 0 ]; then
	echo "format.sh: ${#bad[@]} of ${#files[@]} files need formatting (run tools/scripts/format.sh):"
	printf '  %s\n' "${bad[@]}"
	# Show the first differences so a CI log says what is wrong, not only where.
	"$CF" --dry-run --Werror --style=file "${bad[@]}" 2>&1 | head -n 40 || true
	exit 1
fi
echo "format.sh: ${#files[@]} files are formatted ($("$CF" --version | head -1))"
