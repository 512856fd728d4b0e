#!/usr/bin/env bash
# scripts/check-includes passes on the repository and catches each kind of forbidden include.
set -euo pipefail
src=$1
"$src/scripts/check-includes" "$src"
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/quarry/samplers" "$tree/quarry/schedulers" "$tree/quarry/config" "$tree/quarry/space" \
  "$tree/quarry/nn" "$tree/quarry/tuners" "$tree/quarry/report" "$tree/quarry/analysis"
printf '#include <torch/torch.h>\n' >"$tree/quarry/nn/model.hpp"
printf '#include "quarry/nn/model.hpp"\n' >"$tree/quarry/tuners/tuner.hpp"
printf '#include "quarry/tuners/tuner.hpp"\n#include <torch/torch.h>\n' \
  >"$tree/quarry/tuners/sklearn_tuner.cpp"
printf '#include "quarry/nn/model.hpp"\n' >"$tree/quarry/nn/layers.hpp"
printf '#include "quarry/nn/spec.hpp"\n' >"$tree/quarry/nn/spec_rules.hpp"
printf '#include "quarry/storage/storage.hpp"\n' >"$tree/quarry/samplers/a.cpp"
printf '#include "quarry/study/study.hpp"\n' >"$tree/quarry/schedulers/b.hpp"
printf '#include "quarry/nn/layers.hpp"\n#include <torch/torch.h>\n#include "quarry/nn/spec_rules.hpp"\n' \
  >"$tree/quarry/config/c.cpp"
printf '#include "quarry/study/trial.hpp"\n' >"$tree/quarry/space/d.hpp"
printf '#include "quarry/report/html.hpp"\n#include "quarry/core/error.hpp"\n#include "quarry/study/trial.hpp"\n#include "quarry/report/export.hpp"\n' \
  >"$tree/quarry/report/html.cpp"
printf '#include "quarry/report/html.hpp"\n#include "quarry/automl/task.hpp"\n#include "quarry/runner/runner.hpp"\n' \
  >"$tree/quarry/analysis/e.cpp"
if out=$("$src/scripts/check-includes" "$tree"); then
  echo "check-includes passed a tree with forbidden includes"
  exit 1
fi
expected=(
  "quarry/config/c.cpp:1: config/ must not include quarry/nn/layers.hpp (it needs LibTorch)"
  "quarry/analysis/e.cpp:3: analysis/ must not include quarry/runner/runner.hpp"
  "quarry/config/c.cpp:2: includes <torch/torch.h>: LibTorch belongs to nn/, tuners/ (not sklearn_tuner*), automl/mlp*"
  "quarry/report/html.cpp:3: report/html must not include quarry/study/trial.hpp"
  "quarry/report/html.cpp:4: report/html must not include quarry/report/export.hpp"
  "quarry/samplers/a.cpp:1: samplers/ must not include quarry/storage/storage.hpp"
  "quarry/schedulers/b.hpp:1: schedulers/ must not include quarry/study/study.hpp (use the history or the context)"
  "quarry/space/d.hpp:1: space/ must not include quarry/study/trial.hpp"
  "quarry/tuners/sklearn_tuner.cpp:1: must not include quarry/tuners/tuner.hpp (it needs LibTorch)"
  "quarry/tuners/sklearn_tuner.cpp:2: includes <torch/torch.h>: LibTorch belongs to nn/, tuners/ (not sklearn_tuner*), automl/mlp*"
)
for line in "${expected[@]}"; do
  grep -qxF "check-includes: $line" <<<"$out" || { echo "missing: $line"; echo "$out"; exit 1; }
done
[ "$(wc -l <<<"$out")" -eq ${#expected[@]} ] || { echo "unexpected lines:"; echo "$out"; exit 1; }
echo "check-includes: ${#expected[@]} offences caught, the repository is clean"
