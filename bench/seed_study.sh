#!/usr/bin/env bash
# Time to a good model, side by side: the seed study (examples/fashion_mnist.yaml: Keras Tuner's
# intro, Hyperband over units and learning rate, 10 epochs at most) run by `quarry search` with 2
# workers, then the same study in Optuna 3.1 + PyTorch 1.13 (TPE + HyperbandPruner, 2 worker
# processes; bench/seed_study.py says how it matches), one after the other, on an otherwise idle
# machine. Each side searches for at most TIMEOUT seconds (Quarry stops sooner when Hyperband's
# schedule is done), then trains its best configuration again and tests it. Prints, for each: the
# best validation accuracy after 1, 2, 5 and 10 minutes, the time to 0.885 and to 0.890, the trials
# and epochs run, and the retrained best's test accuracy. Builds nothing: build first (make), then
#   bench/seed_study.sh [BUILD_DIR]
# Environment: BUILD (the build folder when no BUILD_DIR is given), TIMEOUT (600 s per side),
#              WORKERS (2), SEED (1: the study file's seed for Quarry, TPE's for Optuna), PYTHON
#              (/usr/bin/python3, with python3-optuna and python3-torch), OPENBLAS_CORETYPE (both
#              sides; by default the one Quarry picks for the CPU), KEEP (a folder to keep the
#              logs in).
# Exit status: 0 when both sides ran, 1 when one failed, 2 on misuse.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
if [[ $# -gt 1 ]]; then
  echo "usage: bench/seed_study.sh [BUILD_DIR]" >&2
  exit 2
fi
build=${1:-${BUILD:-$root/build}}
bin=$build/quarry
if [[ ! -x $bin || ! -x $build/quarry-nn ]]; then
  echo "seed_study.sh: $bin or quarry-nn beside it does not exist; build first (make)" >&2
  exit 2
fi
timeout=${TIMEOUT:-600}
workers=${WORKERS:-2}
seed=${SEED:-1}
python=${PYTHON:-/usr/bin/python3}
for n in "$timeout" "$workers" "$seed"; do
  if ! [[ $n =~ ^[0-9]+$ ]]; then
    echo "seed_study.sh: TIMEOUT, WORKERS and SEED take integers, got '$n'" >&2
    exit 2
  fi
done
if ! "$python" -c 'import optuna, torch, numpy' 2>/dev/null; then
  echo "seed_study.sh: $python cannot import optuna and torch (scripts/install-deps bench)" >&2
  exit 2
fi
# Both sides run the OpenBLAS kernels Quarry picks for this CPU (quarry/core/cpu.hpp).
if [[ -z ${OPENBLAS_CORETYPE:-} ]]; then
  core=$("$bin" --version | sed -n 's/^OpenBLAS kernels for model studies: \([A-Za-z]*\) .*/\1/p')
  if [[ -n $core ]]; then export OPENBLAS_CORETYPE=$core; fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/quarry-seed-study.XXXXXX")
# KEEP gets the logs also when a side fails.
trap 'if [[ -n ${KEEP:-} ]]; then mkdir -p "$KEEP" && cp "$work"/*.log "$work"/*.yaml "$KEEP"/ 2>/dev/null; fi
      rm -rf "$work"' EXIT
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg); OpenBLAS ${OPENBLAS_CORETYPE:-own choice}"

# Quarry: the study file as shipped, its seed and folder changed (a fresh store).
sed "s/^seed: .*/seed: $seed/" "$root/examples/fashion_mnist.yaml" >"$work/fashion_mnist.yaml"
echo "== Quarry: quarry search fashion_mnist.yaml --workers $workers --timeout $timeout"
"$python" "$here/seed_study.py" stamp "$work/quarry.log" -- \
  "$bin" search "$work/fashion_mnist.yaml" --workers "$workers" --timeout "$timeout" || {
  echo "seed_study.sh: quarry search failed (the log: KEEP=DIR keeps it)" >&2
  exit 1
}
tail -n 3 "$work/quarry.log"

echo "== Optuna 3.1 + PyTorch 1.13: TPE + HyperbandPruner, $workers processes, $timeout s"
"$python" "$here/seed_study.py" optuna "$work/optuna.log" --timeout "$timeout" \
  --workers "$workers" --seed "$seed" || exit 1
tail -n 1 "$work/optuna.log"

echo
"$python" "$here/seed_study.py" report "$work/quarry.log" "$work/optuna.log"
