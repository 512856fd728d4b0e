#!/usr/bin/env bash
# Parameter importance side by side: `quarry importance` (fANOVA in C++) next to Optuna's
# FanovaImportanceEvaluator(seed=0) (bench/optuna_importance.py) on the same trials, for two
# functions on [0, 1] whose ranking is known:
#   linear3: f = 10 x0 + 0.1 x1 + 0 x2
#   mixed5:  f = 8 x0^2 + 4 x1 + off(c) + 2 sin(3 x2) + x3 + 0 x4,  c in {a, b, c}, off = 0, 1, 2
# Each is a black-box study of N random trials (N in TRIALS) that `quarry search` runs (the trial
# program is an awk script); `quarry trials --format json` exports them and the Python side loads
# exactly those into an in-memory Optuna study (create_trial + add_trials). Every parameter is
# linear: Optuna measures a log-scaled one on a linear axis, Quarry on its log axis. The categorical
# c is one column in Quarry's forest and three one-hot columns in Optuna's. The `exact` column is
# each parameter's share of f's variance over uniform inputs (f is additive: the true fANOVA main
# effects). Builds nothing: build the `quarry` command first (make, or the target quarry_cli), then
#   bench/importance.sh [BUILD_DIR]
# Environment: BUILD (the build folder when no BUILD_DIR is given: the repository's build),
#              TRIALS (200,1000), REPEAT (3: runs of `quarry importance`, the fastest is kept),
#              OPTUNA_REPEAT (1: runs of Optuna's evaluator, ~45 s each at 1000 trials),
#              PYTHON (/usr/bin/python3, the interpreter that has Optuna and scikit-learn).
# What the seconds include. Quarry: the wall time of the whole `quarry importance STUDY.yaml
# --format json` process (start, reading the SQLite store, the forest, fANOVA, the JSON). Optuna:
# the get_param_importances call only (not the interpreter's start, imports or the study's making).
# Prints the table, one row per study and parameter, then one per study. Exit status: 0 when the
# measurements ran, 1 when a step failed, 2 on misuse.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
if [[ $# -gt 1 ]]; then
  echo "usage: bench/importance.sh [BUILD_DIR]" >&2
  exit 2
fi
build=${1:-${BUILD:-$root/build}}
bin=$build/quarry
if [[ ! -x $bin ]]; then
  echo "importance.sh: $bin does not exist; build it first (make, or the target quarry_cli)" >&2
  exit 2
fi
if ! "$bin" importance --help >/dev/null 2>&1; then
  echo "importance.sh: $bin has no 'importance' command" >&2
  exit 2
fi
trials=${TRIALS:-200,1000}
repeat=${REPEAT:-3}
optuna_repeat=${OPTUNA_REPEAT:-1}
python=${PYTHON:-/usr/bin/python3}
for n in ${trials//,/ } "$repeat" "$optuna_repeat"; do
  if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
    echo "importance.sh: TRIALS, REPEAT and OPTUNA_REPEAT take positive integers, got '$n'" >&2
    exit 2
  fi
done
if ! "$python" -c 'import optuna, sklearn' 2>/dev/null; then
  echo "importance.sh: $python cannot import optuna and sklearn (scripts/install-deps bench)" >&2
  exit 2
fi

load=$(cut -d' ' -f1-3 /proc/loadavg)  # before the run: is the machine idle?
work=$(mktemp -d "${TMPDIR:-/tmp}/quarry-importance.XXXXXX")
trap 'rm -rf "$work"' EXIT
results=$work/results.txt
: >"$results"

# Each function: its parameters (NAME KIND ARGS: `float LOW:HIGH` or `choice V1,V2,...`), its value
# in awk (p["NAME"] is the parameter), and each parameter's variance under uniform inputs.
declare -A space expr variance
space[linear3]='x0 float 0:1
x1 float 0:1
x2 float 0:1'
expr[linear3]='10 * p["x0"] + 0.1 * p["x1"] + 0 * p["x2"]'
variance[linear3]='x0 100/12
x1 0.01/12
x2 0'
space[mixed5]='x0 float 0:1
x1 float 0:1
c choice a,b,c
x2 float 0:1
x3 float 0:1
x4 float 0:1'
expr[mixed5]='8 * p["x0"]^2 + 4 * p["x1"] + (p["c"] == "b") + 2 * (p["c"] == "c") +
  2 * sin(3 * p["x2"]) + p["x3"] + 0 * p["x4"]'
variance[mixed5]='x0 64*(1/5-1/9)
x1 16/12
c 2/3
x2 4*(1/2-sin(6)/12-((1-cos(3))/3)^2)
x3 1/12
x4 0'
functions=(linear3 mixed5)

seconds_since() {  # seconds_since START (an $EPOCHREALTIME)
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f", b - a }'
}

for fn in "${functions[@]}"; do
  {
    echo 'BEGIN {'
    while read -r name kind _; do
      plus=
      if [[ $kind == float ]]; then plus=' + 0'; fi  # a float's text becomes a number
      echo "  p[\"$name\"] = ENVIRON[\"QUARRY_PARAM_${name^^}\"]$plus"
    done <<<"${space[$fn]}"
    echo "  printf \"quarry: value=%.17g\\n\", ${expr[$fn]//$'\n'/ }"
    echo '}'
  } >"$work/$fn.awk"
  total=$(awk '{ printf "%s+", $2 } END { print 0 }' <<<"${variance[$fn]}")
  while read -r name v; do
    awk -v n="$name" "BEGIN { printf \"%s %.6g\\n\", n, ($v) / ($total) }"
  done <<<"${variance[$fn]}" >"$work/$fn.exact"

  for n in ${trials//,/ }; do
    study=$fn-$n
    yaml=$work/$study.yaml
    {
      echo "study: $study"
      echo "directory: \"$work\""
      echo "objective: {metric: value, direction: minimize}"
      echo "space:"
      while read -r name kind args; do
        if [[ $kind == float ]]; then
          echo "  $name: {float: [${args%:*}, ${args#*:}]}"
        else
          echo "  $name: {choice: [$args]}"
        fi
      done <<<"${space[$fn]}"
      echo "command: [awk, -f, \"$work/$fn.awk\"]"
      echo "sampler: random"
      echo "max_trials: $n"
      echo "workers: 2"
      echo "seed: 1"
    } >"$yaml"
    echo "== $study: $n random trials (quarry search)"
    "$bin" search "$yaml" >"$work/$study.search.log" 2>&1 ||
      { cat "$work/$study.search.log" >&2; exit 1; }
    "$bin" trials "$yaml" --format json >"$work/$study.trials.json"
    complete=$(grep -c '"state": "complete"' "$work/$study.trials.json" || true)
    if [[ $complete != "$n" ]]; then
      echo "importance.sh: $study has $complete complete trials, not $n" >&2
      exit 1
    fi
    sed "s/^/exact $study /" "$work/$fn.exact" >>"$results"

    best=
    for ((r = 0; r < repeat; r++)); do
      start=$EPOCHREALTIME
      "$bin" importance "$yaml" --format json >"$work/$study.quarry.json"
      s=$(seconds_since "$start")
      best=$(awk -v a="$s" -v b="$best" 'BEGIN { print (b == "" || a < b) ? a : b }')
    done
    echo "time quarry $study $best" >>"$results"
    "$python" -c 'import json, sys
for name, share in json.load(open(sys.argv[1])).items():
    print("quarry", sys.argv[2], name, "%.6g" % share)' "$work/$study.quarry.json" "$study" \
      >>"$results"

    params=()
    while read -r name kind args; do
      params+=(--param "$name=$kind:$args")
    done <<<"${space[$fn]}"
    echo "== $study: Optuna's fANOVA ($optuna_repeat run(s); ~45 s each at 1000 trials)"
    "$python" "$here/optuna_importance.py" --trials "$work/$study.trials.json" "${params[@]}" \
      --repeat "$optuna_repeat" >"$work/$study.optuna.txt"
    sed -n "s/^optuna trials=.* seconds=\([^ ]*\).*/time optuna $study \1/p" \
      "$work/$study.optuna.txt" >>"$results"
    sed -n "s/^optuna param=\([^ ]*\) importance=\(.*\)/optuna $study \1 \2/p" \
      "$work/$study.optuna.txt" >>"$results"
  done
done

# ranking TOOL STUDY: the parameters, most important first (ties by name).
ranking() {
  awk -v t="$1" -v s="$2" '$1 == t && $2 == s { print $4, $3 }' "$results" |
    sort -k1,1gr -k2,2 | cut -d' ' -f2 | paste -sd' '
}
share() {  # share X: 0.1234, or 1.2e-05 below 0.001 (the ranking of tiny shares shows)
  awk -v x="$1" 'BEGIN {
    if (x == "") print "-"; else printf (x > 0 && x < 0.001 ? "%.1e" : "%.4f"), x }'
}
value() {  # value TOOL STUDY PARAM
  awk -v t="$1" -v s="$2" -v p="$3" '$1 == t && $2 == s && $3 == p { print $4 }' "$results"
}

echo
echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
  "($(nproc) cores); load average before the run: $load"
echo "Quarry: $bin; Optuna $("$python" -c 'import optuna; print(optuna.__version__)')," \
  "scikit-learn $("$python" -c 'import sklearn; print(sklearn.__version__)') ($python)"
echo
printf "%-8s | %6s | %-9s | %8s | %8s | %8s\n" function trials parameter exact Quarry Optuna
printf -- "---------+--------+-----------+----------+----------+---------\n"
for fn in "${functions[@]}"; do
  for n in ${trials//,/ }; do
    for name in $(ranking exact "$fn-$n"); do
      printf "%-8s | %6s | %-9s | %8s | %8s | %8s\n" "$fn" "$n" "$name" \
        "$(share "$(value exact "$fn-$n" "$name")")" "$(share "$(value quarry "$fn-$n" "$name")")" \
        "$(share "$(value optuna "$fn-$n" "$name")")"
    done
  done
done
echo
printf "%-13s | %-12s | %-13s | %-13s | %9s | %9s | %8s\n" study "same ranking" \
  "Quarry=exact" "Optuna=exact" "Quarry s" "Optuna s" "O/Q"
printf -- "--------------+--------------+---------------+---------------+-----------+-----------+"
printf -- "---------\n"
for fn in "${functions[@]}"; do
  for n in ${trials//,/ }; do
    study=$fn-$n
    q=$(ranking quarry "$study") o=$(ranking optuna "$study") e=$(ranking exact "$study")
    qs=$(awk -v s="$study" '$1 == "time" && $2 == "quarry" && $3 == s { print $4 }' "$results")
    os=$(awk -v s="$study" '$1 == "time" && $2 == "optuna" && $3 == s { print $4 }' "$results")
    printf "%-13s | %-12s | %-13s | %-13s | %9.3f | %9.3f | %8s\n" "$study" \
      "$([[ $q == "$o" ]] && echo yes || echo no)" "$([[ $q == "$e" ]] && echo yes || echo no)" \
      "$([[ $o == "$e" ]] && echo yes || echo no)" "$qs" "$os" \
      "$(awk -v q="$qs" -v o="$os" 'BEGIN { printf (o / q < 10 ? "%.1fx" : "%.0fx"), o / q }')"
  done
done
echo "(ranking: the parameters ordered by importance; exact: by their true share of the variance)"
