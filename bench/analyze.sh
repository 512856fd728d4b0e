#!/usr/bin/env bash
# Model analysis side by side: `quarry analyze` next to the same job in pandas + scikit-learn, done
# the way a fairlearn MetricFrame user does it (bench/analyze_peer.py). On a seeded synthetic table
# (bench/analyze_data.py: ROWS test rows, numeric, categorical and boolean columns, a binary
# target) one XGBoost model is trained (`quarry automl ... --families xgboost`), then 20 slices of
# the test rows are scored (overall; region; member; 4 quantile bins of age; plan=premium;
# plan x member; channel), without and with bootstrap intervals (`--ci`: 1000 resamples per
# slice). Builds nothing: build the `quarry` command first (make, or the target quarry_cli) and run
#   bench/analyze.sh BUILD_DIR
# Environment: ROWS (10000: test rows), REPEAT (3: runs per side and mode, the best is kept),
#              MEASURED (100: bootstrap resamples the Python side actually runs; its time is scaled
#              to 1000, since every resample costs the same there), TRAIN_TIME (20: seconds of
#              the automl search that makes the model), PYTHON (/usr/bin/python3, the interpreter
#              that has pandas and scikit-learn), KEEP (1: keep the work folder and say where).
# What each side's seconds include. Quarry: the wall time of the whole `quarry analyze` process
# (start, reading the CSV file, loading the model, predicting every row once, slicing, scoring,
# writing the JSON report); its own `seconds` (slicing and scoring only) is printed too. Python:
# reading the rows and the model's predictions (exported once with `quarry predict`, not timed)
# with pandas, slicing and scoring; the interpreter's start and imports are left out.
# Prints `run ...` lines, then the table and the GOAL line. Exit status: 0 when the measurements
# ran, 1 when a run failed, 2 on misuse.
set -euo pipefail

build=${1:-}
if [[ -z $build || $# -ne 1 ]]; then
  echo "usage: bench/analyze.sh BUILD_DIR" >&2
  exit 2
fi
bin=$build/quarry
if [[ ! -x $bin ]]; then
  echo "analyze.sh: $bin does not exist; build it first (make, or the target quarry_cli)" >&2
  exit 2
fi
rows=${ROWS:-10000}
repeat=${REPEAT:-3}
measured=${MEASURED:-100}
train_time=${TRAIN_TIME:-20}
python=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
for n in "$rows" "$repeat" "$measured" "$train_time"; do
  if [[ ! $n =~ ^[1-9][0-9]*$ ]]; then
    echo "analyze.sh: ROWS, REPEAT, MEASURED and TRAIN_TIME must be positive integers" >&2
    exit 2
  fi
done
if ! "$python" -c 'import sklearn, pandas' 2>/dev/null; then
  echo "analyze.sh: $python cannot import scikit-learn and pandas (scripts/install-deps bench)" >&2
  exit 2
fi
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

work=$(mktemp -d "${TMPDIR:-/tmp}/quarry-analyze.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then
  trap 'echo "analyze.sh: the work folder is kept: $work"' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi

# 19 specs: with the overall slice, 20 slices (counted from the JSON report below).
slices=(region member age plan=premium "plan,member" channel)
slice_args=()
for s in "${slices[@]}"; do slice_args+=(--slice "$s"); done

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
fail() {
  echo "analyze.sh: $1 failed; its log:" >&2
  sed 's/^/    /' "$2" | tail -n 20 >&2
  exit 1
}

sklearn_version=$("$python" -c 'import sklearn; print(sklearn.__version__)')
pandas_version=$("$python" -c 'import pandas; print(pandas.__version__)')
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "== quarry analyze ($bin) and pandas $pandas_version + scikit-learn $sklearn_version ($python)"
echo "   CPU: $cpu, $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   $rows test rows, slices: overall ${slices[*]}; best of $repeat runs;" \
  "Python bootstrap: $measured of 1000 resamples run, time scaled"

"$python" "$here/analyze_data.py" --out "$work" --rows "$rows" --seed 1
start=$(now)
"$bin" automl "$work/train.csv" --target label --time "$train_time" --families xgboost \
  --max-trials 4 --out "$work/automl" --quiet >"$work/automl.log" 2>&1 ||
  fail "quarry automl" "$work/automl.log"
echo "run side=quarry mode=train seconds=$(since "$start")"
model=$work/automl/model
"$bin" predict "$model" "$work/test.csv" --out "$work/predictions.csv" 2>"$work/predict.log" ||
  fail "quarry predict" "$work/predict.log"

# quarry_runs MODE OPTIONS...: REPEAT timed runs; prints the best wall time and its own seconds.
# Mode `overall` (no --slice) shows what the 19 slices add: the model predicts once either way.
quarry_runs() {
  local mode=$1 best="" best_own="" wall own i
  shift
  for ((i = 0; i < repeat; i++)); do
    start=$(now)
    "$bin" analyze "$model" "$work/test.csv" "$@" --format json --out "$work/$mode.json" \
      2>"$work/$mode.log" || fail "quarry analyze ($mode)" "$work/$mode.log"
    wall=$(since "$start")
    own=$("$python" -c 'import json, sys; print("%.3f" % json.load(open(sys.argv[1]))["seconds"])' \
      "$work/$mode.json")
    if [[ -z $best ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$wall
      best_own=$own
    fi
  done
  count=$("$python" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["slices"]))' \
    "$work/$mode.json")
  echo "run side=quarry mode=$mode slices=$count wall=$best analysis_s=$best_own" |
    tee -a "$work/results.txt"
}
quarry_runs overall
quarry_runs plain "${slice_args[@]}"
quarry_runs ci "${slice_args[@]}" --ci

# The peer: best of REPEAT without intervals, then with the (scaled) bootstrap.
"$python" "$here/analyze_peer.py" "$work/test.csv" "$work/predictions.csv" --target label \
  "${slice_args[@]}" --repeat "$repeat" --quarry-json "$work/plain.json" >"$work/peer.txt" \
  2>"$work/peer.log" || fail "analyze_peer.py" "$work/peer.log"
"$python" "$here/analyze_peer.py" "$work/test.csv" "$work/predictions.csv" --target label \
  "${slice_args[@]}" --repeat "$repeat" --bootstrap 1000 --measured "$measured" \
  >"$work/peer_ci.txt" 2>"$work/peer_ci.log" ||
  fail "analyze_peer.py --bootstrap" "$work/peer_ci.log"
sed 's/^/run side=python /' "$work/peer.txt" "$work/peer_ci.txt" | tee -a "$work/results.txt"

# The table and the goal.
echo
"$python" - "$work/results.txt" "$rows" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
rows = int(sys.argv[2])
fields = [dict(re.findall(r"(\w+)=(\S+)", line)) for line in lines]
q = {f["mode"]: f for f in fields if f.get("side") == "quarry"}
peer = [f for f in fields if f.get("side") == "python"]
plain = next(p for p in peer if "total" in p)
ci = next(p for p in peer if "total_ci" in p)
widths = (24, 6, 9, 10, 9, 7)
def row(*cells):
    out = [f"{cells[0]:<{widths[0]}}"] + [f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:])]
    print(" | ".join(out).rstrip())
row("mode", "slices", "Quarry s", "(analysis)", "Python s", "ratio")
print("-+-".join("-" * w for w in widths))
table = (("overall", "overall slice only", None), ("plain", "metrics per slice", plain["total"]),
         ("ci", "+ bootstrap 1000 (--ci)", ci["total_ci"]))
for mode, name, theirs in table:
    ours = float(q[mode]["wall"])
    row(name, q[mode]["slices"], f"{ours:.3f}", f"{float(q[mode]['analysis_s']):.3f}",
        "" if theirs is None else f"{float(theirs):.3f}",
        "" if theirs is None else f"{float(theirs) / ours:.1f}x")
print("(Quarry s: the whole process's wall time; analysis: its slicing and scoring; Python: "
      f"read + slice + score, the bootstrap's time scaled from {ci['measured']} resamples)")
count = int(q["plain"]["slices"])
wall = float(q["plain"]["wall"])
verdict = "met" if wall < 2 and count >= 20 else "not met"
print(f"GOAL {rows:,} rows x {count} slices < 2 s: {verdict} ({wall:.3f} s; with --ci "
      f"{float(q['ci']['wall']):.3f} s)")
EOF
