#!/usr/bin/env bash
# Chaos on a PostgreSQL store: a Hyperband study run by several `quarry worker` processes while a
# random worker is killed with SIGKILL every few seconds (KILLS times, each replaced by a fresh
# worker at once) and the PostgreSQL server is restarted once, halfway. Then the workers finish
# the study and the store is checked:
#   - the study completed: every trial finished, none left running or waiting;
#   - no finished trial lost or changed (snapshots taken after every kill are compared with the end);
#   - no trial number twice, none missing;
#   - every requeue recorded: each finished trial holds one requeue.N attribute per earlier run.
# Builds nothing: build the `quarry` command first (make demo or make bench), then
#   bench/chaos_postgres.sh BUILD_DIR
# Environment: WORKERS (3 worker processes at a time), KILLS (20), EVERY (3: seconds between kills),
#              (the study: Hyperband, max_epochs 9, factor 3, 12 iterations, 0.6 s per epoch),
#              PYTHON (/usr/bin/python3).
# Prints what it did and one verdict line; exit status 0 when every check held, 1 when one failed,
# 2 on misuse.
set -euo pipefail

build=${1:-}
if [[ -z $build || $# -ne 1 || ! -x $build/quarry ]]; then
  echo "usage: bench/chaos_postgres.sh BUILD_DIR (with BUILD_DIR/quarry built)" >&2
  exit 2
fi
quarry=$(cd "$build" && pwd)/quarry
workers=${WORKERS:-3}
kills=${KILLS:-20}
every=${EVERY:-3}
python=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/quarry-chaos.XXXXXX")
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  "$here/../scripts/test-postgres" stop "$work/pg.url"
  rm -rf "$work"
}
trap cleanup EXIT
"$here/../scripts/test-postgres" start "$work/pg.url"
admin=$(cat "$work/pg.url")
socket=${admin#*\?host=}
psql -q "$admin" -c "CREATE DATABASE chaos"
url="postgresql://quarry@/chaos?host=$socket"

# A trial: QUARRY_BUDGET epochs of 0.6 s, one intermediate value each.
cat >"$work/trial.py" <<'PY'
import os, sys, time
x, y = float(sys.argv[1]), float(sys.argv[2])
epochs = int(float(os.environ.get("QUARRY_BUDGET", "1")))
for epoch in range(1, epochs + 1):
    time.sleep(0.6)
    print(f"quarry: step={epoch} loss={(x - 0.3) ** 2 + y ** 2 + 1.0 / epoch:.6f}", flush=True)
print(f"quarry: loss={(x - 0.3) ** 2 + y ** 2 + 1.0 / epochs:.6f}", flush=True)
PY
cat >"$work/study.yaml" <<EOF
study: chaos
objective: loss
space:
  x: {float: [-1, 1]}
  y: {float: [-1, 1]}
command: [$python, trial.py, "{x}", "{y}"]
sampler: random
scheduler: {hyperband: {max_epochs: 9, factor: 3, hyperband_iterations: 12}}
stale_after: 5
max_attempts: 100
storage: $url
seed: 1
EOF

start_worker() {
  "$quarry" worker --storage "$url" --workers 2 --quiet >>"$work/workers.log" 2>&1 &
  pids+=($!)
}
alive() {  # the pids still running
  local out=() pid
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && out+=("$pid"); done
  echo "${out[@]:-}"
}
snapshot() {  # the finished trials' facts, one JSON object per line, sorted
  "$quarry" trials --storage "$url" --study chaos --format json 2>/dev/null |
    "$python" -c '
import json, sys
for t in json.load(sys.stdin):
    if t["state"] in ("complete", "pruned", "failed"):
        print(json.dumps({k: t[k] for k in ("number", "state", "values", "params", "finished_at")},
                         sort_keys=True))' | sort
}

start=$(date +%s)
# The search creates the study (and stores its definition); the workers join it.
"$quarry" search "$work/study.yaml" --workers 2 --quiet >"$work/search.log" 2>&1 &
pids+=($!)
sleep 2
for ((i = 1; i < workers; i++)); do start_worker; done

: >"$work/seen.txt"
restarted=0
done_kills=0
for ((k = 1; k <= kills; k++)); do
  sleep "$every"
  read -r -a live <<<"$(alive)"
  if [[ ${#live[@]} -eq 0 ]]; then
    echo "chaos: every worker finished before kill $k; their output:"
    tail -n 5 "$work/search.log" "$work/workers.log"
    break
  fi
  victim=${live[$((RANDOM % ${#live[@]}))]}
  kill -9 "$victim" 2>/dev/null || true
  start_worker
  echo "kill $k: worker $victim killed, another started"
  done_kills=$k
  if [[ $restarted -eq 0 && $k -eq $((kills / 2)) ]]; then
    "$here/../scripts/test-postgres" restart "$work/pg.url"
    restarted=1
    echo "kill $k: PostgreSQL restarted"
  fi
  snapshot >>"$work/seen.txt" || true
done

# The workers left finish the study (a worker exits when no study has work left); a killed
# worker's trials come back after stale_after.
deadline=$(($(date +%s) + 600))
while [[ -n $(alive) ]]; do
  if [[ $(date +%s) -gt $deadline ]]; then
    echo "chaos: the workers did not finish within 10 minutes"
    break
  fi
  sleep 1
done
# A worker may have ended while the last killed one's trials were still stale: one more runs them.
"$quarry" worker --storage "$url" --workers 2 --quiet >>"$work/workers.log" 2>&1 || true
elapsed=$(($(date +%s) - start))

"$quarry" trials --storage "$url" --study chaos --format json >"$work/final.json"
snapshot >"$work/final.txt"
"$python" - "$work/final.json" "$work/seen.txt" "$work/final.txt" "$done_kills" "$restarted" \
  "$elapsed" <<'PY'
import json, sys
trials = json.load(open(sys.argv[1]))
seen = set(open(sys.argv[2]).read().split("\n")) - {""}
final = set(open(sys.argv[3]).read().split("\n")) - {""}
kills, restarted, elapsed = sys.argv[4], sys.argv[5], sys.argv[6]
numbers = [t["number"] for t in trials]
states = {}
for t in trials:
    states[t["state"]] = states.get(t["state"], 0) + 1
requeues = sum(sum(1 for k in t.get("attrs", {}) if k.startswith("requeue.")) for t in trials)
unrecorded = [t["number"] for t in trials
              if t["state"] in ("complete", "pruned", "failed")
              and sum(1 for k in t.get("attrs", {}) if k.startswith("requeue.")) != t["attempts"] - 1]
checks = {
    "completed (nothing running or waiting)": states.get("running", 0) + states.get("waiting", 0) == 0,
    "no finished trial lost or changed": seen <= final,
    "every number once": sorted(numbers) == list(range(len(numbers))),
    "every requeue recorded": not unrecorded,
}
print(f"{len(trials)} trials {states}; {kills} kills, PostgreSQL restarted {restarted}x; "
      f"{requeues} requeues recorded; {elapsed} s")
for name, ok in checks.items():
    print(f"  {'ok  ' if ok else 'FAIL'} {name}")
if unrecorded:
    print(f"  trials whose requeues are not all recorded: {unrecorded[:10]}")
print("CHAOS: " + ("every check held" if all(checks.values()) else "a check FAILED"))
sys.exit(0 if all(checks.values()) else 1)
PY
