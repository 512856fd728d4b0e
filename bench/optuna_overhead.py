#!/usr/bin/python3
"""Search overhead of Optuna, measured the way bench/overhead.cpp measures Quarry.

N trials (default 1,000) of f(x, y) = (x - 2)^2 + (y + 1)^2 over x, y in [-10, 10] with
RandomSampler(seed), one thread, study.optimize(objective, n_trials=N), against the in-memory
storage (storage=None) and a fresh SQLite file (storage="sqlite:///<file>"). Logging is silenced.

Prints one machine-readable line per measurement (bench/overhead.sh reads them):
  optuna backend=sqlite mode=optimize trials=1000 setup_s=0.21 loop_s=9.8 total_s=10.0
setup_s: optuna.create_study (for SQLite: the engine and the schema); loop_s: study.optimize.

Run it with Debian's interpreter (/usr/bin/python3), which has python3-optuna.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

import optuna

SEED = 42
BACKENDS = ("memory", "sqlite")


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_float("y", -10, 10)
    return (x - 2) ** 2 + (y + 1) ** 2


def measure(backend, trials, path):
    storage = "sqlite:///" + path if backend == "sqlite" else None
    start = time.perf_counter()
    study = optuna.create_study(
        storage=storage, sampler=optuna.samplers.RandomSampler(seed=SEED), direction="minimize"
    )
    setup = time.perf_counter() - start
    loop_start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    loop = time.perf_counter() - loop_start
    stored = len(study.trials)
    if stored != trials:
        sys.exit(f"optuna_overhead: expected {trials} trials, found {stored}")
    return setup, loop


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--dir", help="where the SQLite files go (default: a fresh temp dir)")
    parser.add_argument("--only", action="append", choices=BACKENDS)
    args = parser.parse_args()

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    own_dir = args.dir is None
    directory = tempfile.mkdtemp(prefix="optuna-bench-") if own_dir else args.dir
    try:
        for r in range(args.repeat):
            for backend in args.only or BACKENDS:
                path = os.path.join(directory, f"optuna-{backend}-{r}.db")
                if os.path.exists(path):
                    os.remove(path)
                setup, loop = measure(backend, args.trials, path)
                if os.path.exists(path):
                    os.remove(path)
                print(
                    f"optuna backend={backend} mode=optimize trials={args.trials} "
                    f"setup_s={setup:.6f} loop_s={loop:.6f} total_s={setup + loop:.6f}",
                    flush=True,
                )
    finally:
        if own_dir:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
