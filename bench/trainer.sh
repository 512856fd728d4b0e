#!/usr/bin/env bash
# Trainer speed, Quarry next to PyTorch and next to the floor (the epoch's matrix products through
# the BLAS alone: bench_trainer_epoch --floor): one epoch of the seed model (784-256-10 MLP,
# dropout 0.2, Adam 1e-3, batch 32) on 48,000 Fashion-MNIST images plus evaluation on 12,000, one
# math thread per model (PyTorch also with glibc's heap trimming turned off, see bench/README.md,
# and with that and torch.set_flush_denormal(True), as Quarry trains with denormals flushed);
# then two models at once (Quarry: two threads of one process; PyTorch: two processes), pinned to
# one math thread each, PyTorch with torch.set_num_threads(1) only, and unpinned. Builds nothing: run
# `make bench`, or build first (target bench_trainer_epoch) and run
#   bench/trainer.sh BUILD_DIR
# Environment: NET (seed: the model above; conv: the macro space's first layers, conv3x3-32 relu ->
#              2x2 max pool -> flatten -> dense(10), same optimiser and batch, with its own
#              floor: see bench/trainer_epoch.cpp),
#              EPOCHS (3 timed epochs per model, after WARMUP (1) untimed ones), REPEAT (3 rounds;
#              each round runs every setup, Quarry and PyTorch in turn), PYTHON (/usr/bin/python3,
#              the interpreter that has Debian's python3-torch), OPENBLAS_CORETYPE (both sides; by
#              default the one Quarry picks for the CPU).
# Prints every measurement, then the table: each figure is the median of the timed epochs of all
# rounds (and of both models when two run at once). Exit status: 0 when the measurements ran, 2 on
# misuse.
set -euo pipefail

build=${1:-}
if [[ -z $build || $# -ne 1 ]]; then
  echo "usage: bench/trainer.sh BUILD_DIR" >&2
  exit 2
fi
bin=$build/bench/bench_trainer_epoch
if [[ ! -x $bin ]]; then
  echo "trainer.sh: $bin does not exist; build it first (make bench; it needs QUARRY_TORCH=ON)" >&2
  exit 2
fi
# Both sides run the OpenBLAS kernels Quarry picks for this CPU (quarry/core/cpu.hpp: OpenBLAS
# 0.3.21 falls back to its SSE3 kernels on a CPU model it does not know), or the user's choice.
if [[ -z ${OPENBLAS_CORETYPE:-} ]]; then
  core=$("$bin" --blas-core)
  if [[ -n $core ]]; then export OPENBLAS_CORETYPE=$core; fi
fi
echo "== OpenBLAS core type: ${OPENBLAS_CORETYPE:-chosen by OpenBLAS}"
net=${NET:-seed}
if [[ $net != seed && $net != conv ]]; then
  echo "trainer.sh: NET is seed or conv, got '$net'" >&2
  exit 2
fi
echo "== network: $net"
epochs=${EPOCHS:-3}
warmup=${WARMUP:-1}
repeat=${REPEAT:-3}
python=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/quarry-trainer.XXXXXX")
trap 'rm -rf "$work"' EXIT
results=$work/results.txt
: >"$results"

# Neither side inherits thread settings from the caller: each sets what its mode asks for.
clean_env=(env -u OPENBLAS_NUM_THREADS -u OMP_NUM_THREADS -u MKL_NUM_THREADS)

# quarry [--parallel 2] [--no-pin]
quarry() {
  "${clean_env[@]}" "$bin" --net "$net" --epochs "$epochs" --warmup "$warmup" "$@" |
    tee -a "$results"
}
# pytorch MODE THREADS COUNT [VAR=VALUE | --OPTION]...: COUNT processes at once, each with
# --threads THREADS, the given environment and pytorch_epoch.py's given options.
pytorch() {
  local pids=() i mode=$1 threads=$2 count=$3 envs=() options=()
  shift 3
  for arg in "$@"; do
    if [[ $arg == --* ]]; then options+=("$arg"); else envs+=("$arg"); fi
  done
  for ((i = 0; i < count; i++)); do
    "${clean_env[@]}" "${envs[@]}" "$python" "$here/pytorch_epoch.py" --epochs "$epochs" \
      --warmup "$warmup" --mode "$mode" --threads "$threads" --model "$i" --net "$net" \
      "${options[@]}" | tee -a "$results" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
}

have_torch=0
if "$python" -c 'import torch, numpy' 2>/dev/null; then
  have_torch=1
else
  echo "== PyTorch: torch or numpy not importable by $python; Quarry figures only"
fi
for ((round = 1; round <= repeat; round++)); do
  echo "== round $round/$repeat (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  quarry --floor
  quarry
  if ((have_torch)); then
    pytorch single pinned 1
    # glibc's heap trimming costs PyTorch-from-Python most of its time here; this row keeps the
    # freed memory (a page fault per 4 KiB otherwise, when the next batch takes it back).
    pytorch single-malloc pinned 1 MALLOC_TRIM_THRESHOLD_=268435456
    # ...and with denormals flushed, as Quarry trains (quarry::FlushDenormals, core/cpu.hpp).
    pytorch single-flush pinned 1 MALLOC_TRIM_THRESHOLD_=268435456 --flush-denormal
  fi
  quarry --parallel 2
  if ((have_torch)); then
    pytorch parallel2 pinned 2
    pytorch parallel2 torch-only 2
  fi
  quarry --parallel 2 --no-pin
  if ((have_torch)); then pytorch parallel2 default 2; fi
done

# median TOOL MODE PIN FIELD [EPOCH]: the median of FIELD over the timed epochs of that setup
# (only epoch EPOCH when given); empty if none.
median() {
  grep "^$1 mode=$2 pin=$3 .* warmup=0 " "$results" |
    { if [[ -n ${5:-} ]]; then grep " epoch=$5 "; else cat; fi; } |
    sed "s/.* $4=\([^ ]*\).*/\1/" | sort -g |
    awk '{ v[NR] = $1 }
         END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

last=$((warmup + epochs))
# row LABEL QUARRY_MODE QUARRY_PIN PYTORCH_MODE PYTORCH_PIN
row() {
  local q p qa pa
  q=$(median quarry "$2" "$3" epoch_s)
  p=$(median pytorch "$4" "$5" epoch_s)
  qa=$(median quarry "$2" "$3" val_accuracy "$last")
  pa=$(median pytorch "$4" "$5" val_accuracy "$last")
  awk -v l="$1" -v q="$q" -v p="$p" -v qa="$qa" -v pa="$pa" 'BEGIN {
    printf "%-44s | %9s | %9s | %6s | %8s | %8s\n", l,
           (q == "" ? "-" : sprintf("%.3f", q)), (p == "" ? "-" : sprintf("%.3f", p)),
           (q > 0 && p != "" ? sprintf("%.2fx", p / q) : "-"),
           (qa == "" ? "-" : sprintf("%.4f", qa)), (pa == "" ? "-" : sprintf("%.4f", pa)) }'
}

echo
echo "Seconds per epoch (48,000 training rows + 12,000 validation rows), median of $epochs timed"
echo "epochs after $warmup warm-up epoch(s), over $repeat rounds (and both models when two run at"
echo "once); val acc: after epoch $last. ratio: PyTorch s / Quarry s."
printf "%-44s | %9s | %9s | %6s | %8s | %8s\n" "setup" "Quarry s" "PyTorch s" "ratio" \
  "Q val" "PT val"
rule="---------------------------------------------+-----------+-----------+--------+----------+"
echo "${rule}---------"
row "one model, one math thread" single yes single pinned
row "one model, PyTorch + MALLOC_TRIM_THRESHOLD_" single yes single-malloc pinned
row "one model, PyTorch + that + flush_denormal" single yes single-flush pinned
row "two at once, one math thread each" parallel2 yes parallel2 pinned
row "two at once, PyTorch set_num_threads(1) only" parallel2 yes parallel2 torch-only
row "two at once, unpinned (library defaults)" parallel2 no parallel2 default
slowdown() {
  awk -v a="$1" -v b="$2" 'BEGIN { print (a > 0 && b != "" ? sprintf("%.2fx", b / a) : "-") }'
}
q_pinned=$(median quarry parallel2 yes epoch_s)
p_pinned=$(median pytorch parallel2 pinned epoch_s)
echo "Unpinned / pinned, two at once: Quarry $(slowdown "$q_pinned" \
  "$(median quarry parallel2 no epoch_s)"), PyTorch $(slowdown "$p_pinned" \
  "$(median pytorch parallel2 default epoch_s)")"
echo "Two at once / one model (pinned): Quarry $(slowdown "$(median quarry single yes epoch_s)" \
  "$q_pinned"), PyTorch $(slowdown "$(median pytorch single pinned epoch_s)" "$p_pinned")"
floor=$(median quarry floor yes epoch_s)
q_single=$(median quarry single yes epoch_s)
p_malloc=$(median pytorch single-malloc pinned epoch_s)
echo "Floor (the epoch's matrix products through the BLAS alone): $(printf %.3f "$floor") s;" \
  "Quarry's epoch = $(slowdown "$floor" "$q_single") the floor, PyTorch's (trim threshold" \
  "raised) $(slowdown "$floor" "$p_malloc")"
echo "Minor page faults per epoch, one model: Quarry $(median quarry single yes faults)," \
  "PyTorch $(median pytorch single pinned faults)," \
  "PyTorch MALLOC_TRIM_THRESHOLD_ $(median pytorch single-malloc pinned faults)"
