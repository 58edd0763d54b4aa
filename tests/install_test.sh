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
