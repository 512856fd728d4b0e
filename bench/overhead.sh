#!/usr/bin/env bash
# Search overhead, Quarry next to Optuna: 1,000 trials of a trivial objective, random sampler, one
# thread, in-memory and SQLite stores. Builds nothing: run `make bench`, or build first and run
#   bench/overhead.sh BUILD_DIR
# Environment: TRIALS (1000), REPEAT (3: each figure is the median of REPEAT runs),
#              PYTHON (/usr/bin/python3, the interpreter that has Optuna).
# Prints every measurement, then the table and whether the goal (Quarry >= 20x faster than Optuna
# with both stores) is met. Exit status: 0 when the measurements ran (goal met or not), 2 on misuse.
set -euo pipefail

build=${1:-}
if [[ -z $build || $# -ne 1 ]]; then
  echo "usage: bench/overhead.sh BUILD_DIR" >&2
  exit 2
fi
bin=$build/bench/bench_overhead
if [[ ! -x $bin ]]; then
  echo "overhead.sh: $bin does not exist; build it first (make bench)" >&2
  exit 2
fi
trials=${TRIALS:-1000}
repeat=${REPEAT:-3}
python=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/quarry-overhead.XXXXXX")
trap 'rm -rf "$work"' EXIT
results=$work/results.txt
: >"$results"

echo "== Quarry ($bin, $trials trials, $repeat runs each)"
"$bin" --trials "$trials" --repeat "$repeat" --dir "$work" | tee -a "$results"

have_optuna=0
if "$python" -c 'import optuna' 2>/dev/null; then
  have_optuna=1
  echo "== Optuna $("$python" -c 'import optuna; print(optuna.__version__)') ($python)"
  "$python" "$here/optuna_overhead.py" --trials "$trials" --repeat "$repeat" --dir "$work" |
    tee -a "$results"
else
  echo "== Optuna: not importable by $python; Quarry figures only"
fi

# median TOOL BACKEND MODE: the median loop_s of those measurements (empty if none).
median() {
  grep "^$1 backend=$2 mode=$3 " "$results" | sed 's/.*loop_s=\([^ ]*\).*/\1/' | sort -g |
    awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# row LABEL QUARRY_SECONDS OPTUNA_SECONDS: prints one table line; sets $ratio.
row() {
  ratio=$(awk -v q="$2" -v o="$3" 'BEGIN { if (q > 0 && o != "") printf "%.1f", o / q }')
  awk -v l="$1" -v q="$2" -v o="$3" -v r="$ratio" -v n="$trials" 'BEGIN {
    printf "%-29s | %10.4f | %10s | %8s | %15.1f\n", l, q, (o == "" ? "-" : sprintf("%.4f", o)),
           (r == "" ? "-" : r "x"), q / n * 1e6 }'
}

echo
echo "Median of $repeat runs, $trials trials, seconds for the trials (store setup excluded):"
printf "%-29s | %10s | %10s | %8s | %15s\n" "backend" "Quarry s" "Optuna s" "ratio" "Quarry us/trial"
printf -- "------------------------------+------------+------------+----------+----------------\n"
opt_memory=$(median optuna memory optimize)
opt_sqlite=$(median optuna sqlite optimize)
row "memory (ask/tell)" "$(median quarry memory ask_tell)" "$opt_memory"
memory_ratio=$ratio
row "sqlite (ask/tell)" "$(median quarry sqlite ask_tell)" "$opt_sqlite"
sqlite_ratio=$ratio
row "sqlite full_sync (ask/tell)" "$(median quarry sqlite-fullsync ask_tell)" "$opt_sqlite"
row "memory (runner, 1 worker)" "$(median quarry memory runner)" "$opt_memory"
row "sqlite (runner, 1 worker)" "$(median quarry sqlite runner)" "$opt_sqlite"
echo "(Optuna s: study.optimize(n_trials=$trials); the full_sync and runner rows are compared"
echo " with the same Optuna figure as the plain row of their store.)"

if [[ $have_optuna -eq 0 ]]; then
  echo "GOAL (Quarry >= 20x faster than Optuna, memory and SQLite): not checked (no Optuna)"
  exit 0
fi
met() { awk -v r="$1" 'BEGIN { exit !(r != "" && r >= 20) }'; }
if met "$memory_ratio" && met "$sqlite_ratio"; then
  echo "GOAL (Quarry >= 20x faster than Optuna, memory and SQLite): MET" \
    "(memory ${memory_ratio}x, sqlite ${sqlite_ratio}x)"
else
  echo "GOAL (Quarry >= 20x faster than Optuna, memory and SQLite): NOT MET" \
    "(memory ${memory_ratio:-?}x, sqlite ${sqlite_ratio:-?}x)"
fi
