#!/usr/bin/env bash
# Tabular AutoML side by side: `quarry automl` next to scikit-learn's HistGradientBoosting, (a) with
# its defaults and (b) a random search with 5-fold cross-validation (bench/automl_sklearn.py), for
# the same wall-clock budget per dataset, on the same train/test files (bench/automl_data.py: 9
# tables Debian installs, split 75/25 per seed). Builds nothing: build the `quarry` command first
# (make, or the target quarry_cli) and run
#   bench/automl.sh BUILD_DIR
# Environment: BUDGET (60: seconds per dataset and side), SEEDS (1: comma-separated split seeds;
#              1,2,3 gives the spread between seeds), WORKERS (2: Quarry's --workers; the HGB
#              search's process pool, one OpenMP thread each; the OpenMP threads of a single HGB
#              fit), DATASETS (all: comma-separated names, see `bench/automl_data.py --list`),
#              OMP_WAIT_POLICY (passive, for both sides: libgomp's spinning threads stall each
#              other when the cores are shared), PYTHON (/usr/bin/python3, the interpreter that
#              has scikit-learn), KEEP (1: keep the work folder and say where).
# Prints one `run ...` line per dataset, seed and side (and a `data ...` line per table), then the
# table and the GOAL line. Exit status: 0 when the measurements ran, 2 on misuse.
set -euo pipefail

build=${1:-}
if [[ -z $build || $# -ne 1 ]]; then
  echo "usage: bench/automl.sh BUILD_DIR" >&2
  exit 2
fi
bin=$build/quarry
if [[ ! -x $bin ]]; then
  echo "automl.sh: $bin does not exist; build it first (make, or the target quarry_cli)" >&2
  exit 2
fi
budget=${BUDGET:-60}
seeds=${SEEDS:-1}
workers=${WORKERS:-2}
python=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

if ! "$python" -c 'import sklearn, pandas' 2>/dev/null; then
  echo "automl.sh: $python cannot import scikit-learn and pandas (scripts/install-deps bench)" >&2
  exit 2
fi
datasets=${DATASETS:-$("$python" "$here/automl_data.py" --list | tr ' ' ',')}

work=$(mktemp -d "${TMPDIR:-/tmp}/quarry-automl.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then
  trap 'echo "automl.sh: the work folder is kept: $work"' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi
results=$work/results.txt
: >"$results"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# peer SIDE DIR NAME SEED: one scikit-learn run; its line gets the process's wall time added.
peer() {
  local side=$1 dir=$2 name=$3 seed=$4 start line rc=0
  start=$(now)
  line=$(OMP_NUM_THREADS=$workers "$python" "$here/automl_sklearn.py" "$dir" --side "$side" \
    --budget "$budget" --workers "$workers" --seed "$seed" 2>"$dir/$side.log") || rc=$?
  if ((rc == 0)) && [[ $line == run\ * ]]; then
    echo "$line wall=$(since "$start")" | tee -a "$results"
  else
    echo "run dataset=$name seed=$seed side=hgb-$side status=failed reason=exit_$rc" |
      tee -a "$results"
    sed 's/^/    /' "$dir/$side.log" | tail -n 20
  fi
}

sklearn_version=$("$python" -c 'import sklearn; print(sklearn.__version__)')
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "== quarry automl ($bin) and scikit-learn $sklearn_version HistGradientBoosting ($python)"
echo "   CPU: $cpu, $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   budget $budget s per dataset and side; seeds $seeds; Quarry --workers $workers;" \
  "HGB search: $workers worker processes x 1 OpenMP thread; HGB default and the search's" \
  "refit: $workers OpenMP threads; OMP_WAIT_POLICY=$OMP_WAIT_POLICY"

for seed in ${seeds//,/ }; do
  data=$work/seed$seed
  echo
  echo "== seed $seed"
  "$python" "$here/automl_data.py" --out "$data" --seed "$seed" --datasets "$datasets" |
    tee -a "$results"
  for name in ${datasets//,/ }; do
    dir=$data/$name
    mapfile -t options <"$dir/quarry.args"
    start=$(now)
    rc=0
    "$bin" automl "$dir/train.csv" "${options[@]}" --time "$budget" --workers "$workers" \
      --test "$dir/test.csv" --out "$dir/quarry" --format json >"$dir/quarry.json" \
      2>"$dir/quarry.log" || rc=$?
    wall=$(since "$start")
    line=$("$python" "$here/automl_report.py" quarry-line "$dir/quarry.json" \
      --meta "$dir/meta.json" --budget "$budget" --wall "$wall" --rc "$rc")
    echo "$line" | tee -a "$results"
    if [[ $line != *status=ok* ]]; then
      sed 's/^/    /' "$dir/quarry.log" | tail -n 20
    fi
    peer default "$dir" "$name" "$seed"
    peer search "$dir" "$name" "$seed"
  done
done

echo
echo "== Results (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
"$python" "$here/automl_report.py" table "$results"
