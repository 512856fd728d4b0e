#!/usr/bin/env bash
# The report and the dashboard at 10,000 trials (goal: every chart drawn in under 2 s;
# optuna-dashboard broke at 46,000 trials, its issue #385). Builds nothing: build the `quarry`
# command and bench_report_scale first (make bench), then
#   bench/report.sh BUILD_DIR [TRIALS]
# Makes a SQLite store of TRIALS (10000) trials of a 6-parameter function (8 intermediate values
# each, one in ten pruned, 4 workers), times `quarry report` and opens the page in headless
# Chromium; then serves the store with `quarry dashboard` and opens the study's live page (every
# trial through the JSON API). Prints each chart's build-and-draw time and the slowest.
# Exit status: 0 when the measurements ran, 1 when a page failed to draw or logged an error,
# 2 on misuse.
set -euo pipefail

build=${1:-}
trials=${2:-10000}
if [[ -z $build || $# -gt 2 ]]; then
  echo "usage: bench/report.sh BUILD_DIR [TRIALS]" >&2
  exit 2
fi
bin=$build/bench/bench_report_scale
quarry=$build/quarry
for f in "$bin" "$quarry"; do
  if [[ ! -x $f ]]; then
    echo "report.sh: $f does not exist; build it first (make bench)" >&2
    exit 2
  fi
done
work=$(mktemp -d)
dashboard=
cleanup() {
  [[ -n $dashboard ]] && kill "$dashboard" 2>/dev/null && wait "$dashboard" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "== store and report: $trials trials"
"$bin" make "$work" "$trials"
start=$(date +%s.%N)
"$quarry" report --storage "sqlite://$work/scale.db" --study scale -o "$work/cli.html" >/dev/null
echo "quarry_report_s $(echo "$(date +%s.%N) - $start" | bc)"
echo "== the report in Chromium"
"$bin" open "file://$work/report.html" "$trials"

echo "== the dashboard in Chromium"
"$quarry" dashboard --storage "sqlite://$work/scale.db" --port 0 >"$work/dashboard.log" 2>&1 &
dashboard=$!
for _ in $(seq 100); do
  grep -q http "$work/dashboard.log" && break
  sleep 0.1
done
base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/dashboard.log")
for api in "api/studies" "api/studies/scale" "api/studies/scale/trials?after=-1"; do
  start=$(date +%s.%N)
  bytes=$(curl -s "$base/$api" | wc -c)
  echo "GET /$api: $(echo "$(date +%s.%N) - $start" | bc) s, $bytes bytes"
done
"$bin" open "$base/studies/scale" "$trials"
