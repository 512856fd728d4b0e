#!/usr/bin/env bash
# Chaos on a SQLite store: two studies run first undisturbed, then while processes are killed at
# random moments with a random signal (SIGKILL, SIGTERM, SIGINT or SIGHUP) and restarted at once:
#   1. a black-box Hyperband study (max_epochs 9, factor 3, 6 iterations; 0.3 s per epoch) run by
#      `quarry search` and WORKERS-1 `quarry worker` processes on one SQLite file (2 trials each
#      at a time); a random one of them is the victim, every 1-4 s;
#   2. a Hyperband model study on 20,000 Fashion-MNIST images (quarry-nn; max_epochs 9, factor 3,
#      3 iterations, 2 workers), `quarry search` killed 0-8 s into each run (loading LibTorch and
#      the data, or training and writing checkpoints) and at least once while it retrains the best
#      configuration, then run again.
# KILLS in all (half each). After every kill: the victim's trial programs must be gone (no
# orphan), and the trials are saved; at the end, each study is checked by bench/chaos_check.py:
# completed, no finished trial lost or changed, no number twice, Hyperband's brackets as in the
# undisturbed run, every requeue recorded, no orphan, and (model study) the retrained model is the
# best finished trial.
# Builds nothing: build `quarry` and `quarry-nn` first (make demo or make bench), then
#   bench/chaos.sh BUILD_DIR
# Environment: KILLS (20), WORKERS (3), CHAOS_SEED (1: the kills' moments, victims and signals),
#              PYTHON (/usr/bin/python3), ONLY (blackbox or model: one study only), KEEP (set:
#              keep the studies' folders and say where).
# Prints what it did and one verdict line; exit 0 when every check held, 1 when one failed, 2 on
# misuse.
set -euo pipefail

build=${1:-}
if [[ -z $build || $# -ne 1 || ! -x $build/quarry ]]; then
  echo "usage: bench/chaos.sh BUILD_DIR (with BUILD_DIR/quarry and BUILD_DIR/quarry-nn built)" >&2
  exit 2
fi
build=$(cd "$build" && pwd)
quarry=$build/quarry
kills=${KILLS:-20}
workers=${WORKERS:-3}
python=${PYTHON:-/usr/bin/python3}
only=${ONLY:-}
here=$(cd "$(dirname "$0")" && pwd)
RANDOM=${CHAOS_SEED:-1}
if [[ $only != blackbox && ! -x $build/quarry-nn ]]; then
  echo "chaos: $build/quarry-nn is not built (the model study needs it; ONLY=blackbox skips it)" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/quarry-chaos.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n ${KEEP:-} ]]; then echo "chaos: the studies are kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
signals=(KILL TERM INT HUP)

now() { date +%s.%N; }
seconds_since() { "$python" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }
pause() { # a random pause of $1 to $2 seconds, in tenths
  local tenths=$((RANDOM % (($2 - $1) * 10 + 1) + $1 * 10))
  sleep "$((tenths / 10)).$((tenths % 10))"
}
descendants() { # every process below $1
  local child
  for child in $(pgrep -P "$1" || true); do
    echo "$child"
    descendants "$child"
  done
}
alive() { # the pids still running
  local out=() pid
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && out+=("$pid"); done
  echo "${out[@]:-}"
}
# kill_one PID MOMENT KILLS_FILE: a random signal to PID; waits for it to end, then counts the
# processes it had started that are still there 5 s later (orphans; they are then killed).
kill_one() {
  local victim=$1 moment=$2 file=$3 signal=${signals[$((RANDOM % 4))]} below left=0 pid i
  below=$(descendants "$victim")
  kill "-$signal" "$victim" 2>/dev/null || true
  wait "$victim" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    left=0
    for pid in $below; do
      [[ $(ps -o stat= -p "$pid" 2>/dev/null) =~ ^[^Z] ]] && left=$((left + 1))
    done
    [[ $left -eq 0 ]] && break
    sleep 0.1
  done
  for pid in $below; do kill -9 "$pid" 2>/dev/null || true; done
  echo "$signal $moment $left" >>"$file"
  echo "  kill: SIG$signal to $victim ($moment), $left orphan(s)"
}

# --- 1. the black-box study ----------------------------------------------------------------------
blackbox_files() { # FOLDER: the trial program and the study file
  cat >"$1/trial.py" <<'PY'
import os, sys, time
x, y = float(sys.argv[1]), float(sys.argv[2])
epochs = int(float(os.environ.get("QUARRY_BUDGET", "1")))
for epoch in range(1, epochs + 1):
    time.sleep(0.3)
    print(f"quarry: step={epoch} loss={(x - 0.3) ** 2 + y ** 2 + 1.0 / epoch:.6f}", flush=True)
print(f"quarry: loss={(x - 0.3) ** 2 + y ** 2 + 1.0 / epochs:.6f}", flush=True)
PY
  cat >"$1/study.yaml" <<EOF
study: chaos
objective: loss
space:
  x: {float: [-1, 1]}
  y: {float: [-1, 1]}
command: [$python, $1/trial.py, "{x}", "{y}"]
sampler: random
scheduler: {hyperband: {max_epochs: 9, factor: 3, hyperband_iterations: 6}}
stale_after: 5
max_attempts: 100
seed: 1
EOF
}
# run_blackbox FOLDER KILLS: the study to its end; its wall time in seconds goes to FOLDER/seconds.
run_blackbox() {
  local dir=$1 n=$2 start k live victim url
  mkdir -p "$dir/snapshots"
  : >"$dir/kills.txt"
  blackbox_files "$dir"
  url="sqlite://$dir/chaos/quarry.db"
  start=$(now)
  pids=()
  "$quarry" search "$dir/study.yaml" --workers 2 --quiet >>"$dir/log" 2>&1 &
  pids+=($!)
  sleep 1.5
  for ((k = 1; k < workers; k++)); do
    "$quarry" worker --storage "$url" --workers 2 --quiet >>"$dir/log" 2>&1 &
    pids+=($!)
  done
  for ((k = 1; k <= n; k++)); do
    pause 1 4
    read -r -a live <<<"$(alive)"
    [[ ${#live[@]} -eq 0 ]] && break
    victim=${live[$((RANDOM % ${#live[@]}))]}
    kill_one "$victim" running "$dir/kills.txt"
    "$quarry" worker --storage "$url" --workers 2 --quiet >>"$dir/log" 2>&1 &
    pids+=($!)
    "$quarry" trials --storage "$url" --study chaos --format json >"$dir/snapshots/$k.json"
  done
  while [[ -n $(alive) ]]; do sleep 0.5; done
  # A worker may have ended while a killed one's trials were still stale: one more runs them.
  "$quarry" worker --storage "$url" --workers 2 --quiet >>"$dir/log" 2>&1 || true
  "$quarry" trials --storage "$url" --study chaos --format json >"$dir/trials.json"
  seconds_since "$start" >"$dir/seconds"
}

# --- 2. the model study --------------------------------------------------------------------------
model_file() {
  cat >"$1/study.yaml" <<'EOF'
study: chaos_model
objective: {metric: val_accuracy, direction: maximize}
data: {idx: fashion-mnist, validation_split: 0.2, max_rows: 20000}
model:
  layers:
    - flatten
    - dense: {units: {int: [32, 256], step: 32}, activation: relu}
    - dense: 10
  optimizer: {adam: {learning_rate: {choice: [1e-2, 1e-3]}}}
  loss: sparse_categorical_crossentropy
fit: {epochs: 9}
scheduler: {hyperband: {max_epochs: 9, factor: 3, hyperband_iterations: 3}}
sampler: random
workers: 2
stale_after: 5
max_attempts: 100
seed: 1
EOF
}
# run_model FOLDER KILLS: the study to its end (its retrain included); its wall time in seconds
# goes to FOLDER/seconds.
run_model() {
  local dir=$1 n=$2 start k=0 pid retrain_killed=0 status
  mkdir -p "$dir/snapshots"
  : >"$dir/kills.txt"
  model_file "$dir"
  start=$(now)
  while true; do
    : >"$dir/run.log"
    "$quarry" search "$dir/study.yaml" >"$dir/run.log" 2>&1 &
    pid=$!
    pids=("$pid")
    if ((k < n)); then
      k=$((k + 1))
      if ((k == n && !retrain_killed)); then # the last kill waits for the retrain
        while kill -0 "$pid" 2>/dev/null && ! grep -q "^retraining" "$dir/run.log"; do sleep 0.2; done
        pause 0 2
      else
        pause 0 8
      fi
      if kill -0 "$pid" 2>/dev/null; then
        local moment=loading # LibTorch and the data, until the "data: ..." line
        grep -q "^data: " "$dir/run.log" && moment=training
        grep -q "^retraining" "$dir/run.log" && moment=retrain && retrain_killed=1
        kill_one "$pid" "$moment" "$dir/kills.txt"
        "$quarry" trials "$dir/study.yaml" --format json >"$dir/snapshots/$k.json"
        cat "$dir/run.log" >>"$dir/log"
        continue
      fi
    fi
    status=0
    wait "$pid" || status=$?
    cat "$dir/run.log" >>"$dir/log"
    if [[ $status -ne 0 ]]; then
      echo "chaos: the model study's search ended with exit code $status:" >&2
      tail -n 3 "$dir/run.log" >&2
    fi
    ((k < n)) || break
  done
  "$quarry" trials "$dir/study.yaml" --format json >"$dir/trials.json"
  seconds_since "$start" >"$dir/seconds"
}

verdict=0
echo "chaos: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; seed ${CHAOS_SEED:-1}"
if [[ $only != model ]]; then
  mkdir -p "$work/bb_calm" "$work/bb_chaos"
  run_blackbox "$work/bb_calm" 0
  calm=$(cat "$work/bb_calm/seconds")
  echo "black-box study: undisturbed in $calm s; now with $((kills - kills / 2)) kills"
  run_blackbox "$work/bb_chaos" $((kills - kills / 2))
  chaos=$(cat "$work/bb_chaos/seconds")
  "$python" "$here/chaos_check.py" "black-box study" "$work/bb_chaos/trials.json" \
    "$work/bb_calm/trials.json" "$work/bb_chaos/kills.txt" "$work/bb_chaos/snapshots" \
    "$chaos" "$calm" || verdict=1
fi
if [[ $only != blackbox ]]; then
  mkdir -p "$work/nn_calm" "$work/nn_chaos"
  run_model "$work/nn_calm" 0
  calm=$(cat "$work/nn_calm/seconds")
  echo "model study: undisturbed in $calm s (its retrain included); now with $((kills / 2)) kills"
  run_model "$work/nn_chaos" $((kills / 2))
  chaos=$(cat "$work/nn_chaos/seconds")
  "$quarry" best "$work/nn_chaos/study.yaml" --format json >"$work/nn_chaos/best.json"
  "$python" "$here/chaos_check.py" "model study" "$work/nn_chaos/trials.json" \
    "$work/nn_calm/trials.json" "$work/nn_chaos/kills.txt" "$work/nn_chaos/snapshots" \
    "$chaos" "$calm" "$work/nn_chaos/chaos_model/best_model.json" "$work/nn_chaos/best.json" ||
    verdict=1
fi
leftover=$(pgrep -f "$work" || true)
if [[ -n $leftover ]]; then
  echo "chaos: processes still running from the chaos folder: $leftover"
  verdict=1
fi
echo "CHAOS: $([[ $verdict -eq 0 ]] && echo "every check held" || echo "a check FAILED")"
exit "$verdict"
