#!/usr/bin/env bash
# Search strategies side by side: Quarry's samplers (`quarry bench`) next to Optuna's TPE, CMA-ES and
# random samplers (bench/optuna_samplers.py) on Branin (50 evaluations), Hartmann6 (100) and
# Rosenbrock 10-D (100), the final regret over SEEDS seeds; the time of one proposal with HISTORY
# finished trials in the history; then Quarry's samplers alone on the NAS-Bench-Macro and
# NAS-Bench-201 tables (best accuracy after 100 and 150 evaluations, NAS_SEEDS seeds). Builds
# nothing: build the `quarry` command first (make, or the target quarry_cli) and run
#   bench/samplers.sh BUILD_DIR
# Environment: SAMPLERS (random,gp,tpe,cmaes,evolution,rl: the Quarry samplers wanted; those not
#              registered in this build are skipped with a note), SEEDS (10), NAS_SEEDS (20),
#              HISTORY (1000), DATA (the folder of the two table files: the repository's
#              data/nas), PYTHON (/usr/bin/python3, the interpreter that has Optuna).
# Exit status: 0 when the measurements ran, 2 on misuse.
set -euo pipefail

build=${1:-}
if [[ -z $build || $# -ne 1 ]]; then
  echo "usage: bench/samplers.sh BUILD_DIR" >&2
  exit 2
fi
bin=$build/quarry
if [[ ! -x $bin ]]; then
  echo "samplers.sh: $bin does not exist; build it first (make, or the target quarry_cli)" >&2
  exit 2
fi
wanted=${SAMPLERS:-random,gp,tpe,cmaes,evolution,rl}
seeds=${SEEDS:-10}
nas_seeds=${NAS_SEEDS:-20}
history=${HISTORY:-1000}
data=${DATA:-$(cd "$(dirname "$0")/.." && pwd)/data/nas}
python=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)

# The wanted samplers this build registers (`quarry list`), in the order asked for.
registered=$("$bin" list | awk '/^samplers/ { on = 1; next } /^$/ { on = 0 } on { print $1 }')
samplers=
for s in ${wanted//,/ }; do
  if grep -qx "$s" <<<"$registered"; then
    samplers+=${samplers:+,}$s
  else
    echo "note: sampler '$s' is not registered in this build; skipped"
  fi
done
if [[ -z $samplers ]]; then
  echo "samplers.sh: none of $wanted is registered" >&2
  exit 2
fi

have_optuna=0
if "$python" -c 'import optuna' 2>/dev/null; then
  have_optuna=1
  optuna_version=$("$python" -c 'import optuna; print(optuna.__version__)')
else
  echo "note: Optuna is not importable by $python; Quarry figures only"
fi

# side_by_side PROBLEM [OPTIONS...]: Quarry's table, then Optuna's rows under the same header.
side_by_side() {
  local problem=$1
  shift
  "$bin" bench "$problem" --samplers "$samplers" "$@"
  if ((have_optuna)); then
    "$python" "$here/optuna_samplers.py" --problems "$problem" "$@" | tail -n +3
  fi
}

echo "== Quarry ($bin: $samplers) and Optuna ${optuna_version:-(absent)} ($python)"
echo "   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== Search quality: final regret, $seeds seeds (seed = 0 .. $((seeds - 1)))"
side_by_side branin --seeds "$seeds" --evaluations 50
echo
side_by_side hartmann6 --seeds "$seeds" --evaluations 100
echo
side_by_side rosenbrock --dims 10 --seeds "$seeds" --evaluations 100
echo
echo "== Proposal time with $history finished random trials in the history"
side_by_side branin --time-proposals "$history"
echo
side_by_side hartmann6 --time-proposals "$history"
echo
side_by_side rosenbrock --dims 10 --time-proposals "$history"
echo
echo "== NAS tables: best accuracy found, $nas_seeds seeds (Quarry only)"
for table in nas-bench-macro:nas-bench-macro-cifar10.json nas-bench-201:nas-bench-201-mini.csv; do
  file=$data/${table#*:}
  if [[ ! -r $file ]]; then
    echo "note: $file is absent; ${table%%:*} skipped"
    continue
  fi
  "$bin" bench "${table%%:*}" --data "$file" --samplers "$samplers" --seeds "$nas_seeds" \
    --evaluations 100,150
  echo
done
