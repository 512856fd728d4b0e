#!/usr/bin/env bash
# Architecture search on Fashion-MNIST under a latency constraint, side by side: Hyperband with the
# study's sampler (`plain`), the same with random search (`random`), with weight inheritance by
# network morphism (`inherit`: fit.inherit_weights), with learning-curve extrapolation (`curve`:
# scheduler learning_curve around hyperband), and with both (`both`). Each variant is the same
# study file (a macro space with both heads, SAMPLER, `latency_b1_ms <= LATENCY`) run by
# `quarry search` for BUDGET seconds of wall clock with WORKERS workers, then its best
# configuration retrained and measured on the test set. Reported per variant: trials run (and how
# many inherited weights / were stopped early / broke the constraint), the best validation accuracy,
# the minutes until a feasible trial first reached TARGET validation accuracy, the best trial's test
# accuracy after retraining. Builds nothing: build quarry and quarry-nn first (make), then
#   bench/nas_fashion_mnist.sh BUILD_DIR
# Environment: BUDGET (1200 s per variant, the issue's 20 minutes), VARIANTS (plain,random; also
#              inherit, curve, both), SAMPLER (auto, the default sampler; random for `random`),
#              WORKERS (2), LATENCY (1.0 ms at batch 1), TARGET (0.90), MAX_ROWS (all 60,000 training
#              images), SEED (1), KEEP (a folder to keep the studies in; default a temporary one),
#              PYTHON (/usr/bin/python3: reads the stores' JSON).
# Exit status: 0 when the measurements ran, 2 on misuse.
set -euo pipefail

build=${1:-}
if [[ -z $build || $# -ne 1 ]]; then
  echo "usage: bench/nas_fashion_mnist.sh BUILD_DIR" >&2
  exit 2
fi
bin=$build/quarry
if [[ ! -x $bin || ! -x $build/quarry-nn ]]; then
  echo "nas_fashion_mnist.sh: $bin or $build/quarry-nn is missing; build them first (make)" >&2
  exit 2
fi
budget=${BUDGET:-1200}
variants=${VARIANTS:-plain,random}
sampler=${SAMPLER:-auto}
workers=${WORKERS:-2}
latency=${LATENCY:-1.0}
target=${TARGET:-0.90}
seed=${SEED:-1}
python=${PYTHON:-/usr/bin/python3}
rows_line=
[[ -n ${MAX_ROWS:-} ]] && rows_line=", max_rows: $MAX_ROWS"
if [[ -n ${KEEP:-} ]]; then
  dir=$KEEP
  mkdir -p "$dir"
else
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
fi

# study_file VARIANT: the study; only fit.inherit_weights and the scheduler differ.
study_file() {
  local variant=$1 inherit=false scheduler="{hyperband: {max_epochs: 9, factor: 3}}" chosen=$sampler
  [[ $variant == random ]] && chosen=random
  [[ $variant == inherit || $variant == both ]] && inherit=true
  [[ $variant == curve || $variant == both ]] &&
    scheduler="{learning_curve: {threshold: 0.05, max_step: 9, with: $scheduler}}"
  cat <<YAML
study: nas_$variant
objective: {metric: val_accuracy, direction: maximize}
data: {idx: fashion-mnist, validation_split: 0.2$rows_line}
nas:
  macro: {max_layers: 3, operations: [conv3x3, conv5x5, sepconv3x3, maxpool, identity],
          filters: [8, 16, 32], strides: [1, 2], heads: [gap, flatten], max_dense_layers: 1,
          units: [64, 128]}
model: {optimizer: {adam: {learning_rate: 0.001}}}
constraints: ["latency_b1_ms <= $latency"]
fit: {epochs: 9, batch_size: 64, inherit_weights: $inherit}
scheduler: $scheduler
sampler: $chosen
workers: $workers
seed: $seed
YAML
}

rows=()
for variant in ${variants//,/ }; do
  case $variant in plain | random | inherit | curve | both) ;; *)
    echo "nas_fashion_mnist.sh: unknown variant '$variant' (plain, random, inherit, curve, both)" >&2
    exit 2
    ;;
  esac
  study_file "$variant" >"$dir/$variant.yaml"
  echo "== $variant: $budget s of search, $workers worker(s)"
  start=$(date +%s.%N)
  "$bin" search "$dir/$variant.yaml" --quiet --timeout "$budget" >"$dir/$variant.log" 2>&1 || true
  end=$(date +%s.%N)
  test_line=$(grep -E '^test: ' "$dir/$variant.log" | tail -1 || true)
  "$bin" trials --storage "sqlite://$dir/nas_$variant/quarry.db" --study "nas_$variant" \
    --format json >"$dir/$variant.json"
  rows+=("$("$python" - "$dir/$variant.json" "$target" "$variant" "$test_line" <<'PY'
import json, sys
trials = json.load(open(sys.argv[1]))
target, variant, test_line = float(sys.argv[2]), sys.argv[3], sys.argv[4]
start = min(t["started_at"] for t in trials if t.get("started_at")) if trials else 0
def attr(t, k):
    return t.get("attrs", {}).get(k)
def value(t):
    return list(t["values"].values())[0]
feasible = [t for t in trials if t["state"] == "complete" and attr(t, "feasible") is not False]
best = max((value(t) for t in feasible), default=float("nan"))
hits = [t["finished_at"] - start for t in feasible if value(t) >= target]
reach = f"{min(hits) / 60:.1f}" if hits else "never"
inherited = sum(1 for t in trials if attr(t, "inheritance") == "morphism")
pruned = sum(1 for t in trials if t["state"] == "pruned")
infeasible = sum(1 for t in trials if attr(t, "feasible") is False)
test = test_line.split("accuracy")[-1].strip() if "accuracy" in test_line else "-"
print(f"{variant:8} | {len(trials):6} | {inherited:9} | {pruned:6} | {infeasible:10} | {best:8.4f} | {reach:>9} | {test:>8}")
PY
)")
  echo "   $(((${end%.*} - ${start%.*}))) s including the retrain; log: $dir/$variant.log"
done

echo
echo "Fashion-MNIST macro search, latency_b1_ms <= $latency, $budget s per variant, $workers worker(s), target $target"
echo "variant  | trials | inherited | pruned | infeasible | best val | min to $target | test acc"
echo "---------+--------+-----------+--------+------------+----------+-----------+---------"
printf '%s\n' "${rows[@]}"
