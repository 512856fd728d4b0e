#!/usr/bin/env bash
# Installs the built tree into a temporary prefix, then configures, builds and runs a separate
# project that finds it with find_package(Quarry) and uses the search core (consumer) and tabular
# AutoML (consumer_automl).
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/quarry/study/study.hpp"
test -f "$work/prefix/include/quarry/automl/automl.hpp"
test -n "$(find "$work/prefix" -name QuarryConfig.cmake)"
cmake -S "$source_dir/tests/install/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
"$work/build/consumer_automl"
