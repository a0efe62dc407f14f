#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CTest's format check: fails if any project C/C++ source differs from what clang-format-19 and .clang-format produce.
set -euo pipefail
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tools/scripts/format.sh" --check
