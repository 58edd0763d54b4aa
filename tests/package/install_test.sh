#!/usr/bin/env bash
# Installs the built tree into a temporary prefix and builds + runs a consumer
# project that uses find_package(twofold).
set -euo pipefail
build="$1"; source="$2"
prefix=$(mktemp -d); consumer=$(mktemp -d)
trap 'rm -rf "$prefix" "$consumer"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$source/examples/consumer" -B "$consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$consumer" >/dev/null
"$consumer/consumer"
# The script that draws report.html is installed next to the data, and the installed CLI writes the report.
if [ -x "$prefix/bin/twofold" ]; then
  test -x "$prefix/share/twofold/twofold_report.py"
  if python3 -c 'import numpy, matplotlib' 2>/dev/null; then
    "$prefix/bin/twofold" demo --size 16 --runs 2 --chains 4 --levels 30 --backend cpu --out "$consumer/out" >/dev/null 2>&1
    test -s "$consumer/out/report.html"
    # The EEG section comes from a module installed beside the script.
    "$prefix/bin/twofold" demo --problem eeg --runs 2 --chains 4 --backend cpu --out "$consumer/eeg" >/dev/null 2>&1
    grep -q "Sources and sensors" "$consumer/eeg/report.html"
  fi
fi
