"""Optuna's side of bench/stores.sh: P processes sharing one RDB storage run T trials together.

Each process opens the storage (optuna.storages.RDBStorage on the same URL) and runs its share of
T trials (T / P, the first T % P processes one more) of f(x, y) = (x - 2)^2 + (y + 1)^2 with the
random sampler; then the parent checks the study: T trials, every number 0..T-1 once, all
complete. Errors are the processes that failed plus the trials that did not complete (a "database
is locked" from SQLite fails the trial or the process). Prints:
  optuna store=postgresql processes=16 trials=2000 errors=0 numbers_ok=1 loop_s=60.1 trials_per_s=33
URLs in SQLAlchemy's form: postgresql+psycopg2://user@/db?host=/socket/dir, sqlite:////abs/x.db.
"""
import argparse
import multiprocessing
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_float("y", -10, 10)
    return (x - 2) ** 2 + (y + 1) ** 2


def work(url, index, n):
    errors = 0
    try:
        study = optuna.load_study(
            study_name="bench", storage=url, sampler=optuna.samplers.RandomSampler(seed=1000 + index)
        )
        study.optimize(objective, n_trials=n, catch=(Exception,))
    except Exception as e:  # noqa: BLE001 - counted, printed, and the process goes on to exit
        print(f"worker {index}: {e}", file=sys.stderr)
        errors += 1
    sys.exit(min(errors, 100))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", required=True)
    parser.add_argument("--processes", type=int, default=16)
    parser.add_argument("--trials", type=int, default=2000)
    args = parser.parse_args()
    optuna.create_study(study_name="bench", storage=args.storage, direction="minimize")

    start = time.perf_counter()
    shares = [args.trials // args.processes + (i < args.trials % args.processes)
              for i in range(args.processes)]
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=work, args=(args.storage, i, n)) for i, n in enumerate(shares)]
    for p in procs:
        p.start()
    errors = 0
    for p in procs:
        p.join()
        errors += p.exitcode if p.exitcode and p.exitcode > 0 else (1 if p.exitcode else 0)
    seconds = time.perf_counter() - start

    trials = optuna.load_study(study_name="bench", storage=args.storage).trials
    numbers = sorted(t.number for t in trials)
    failed = sum(t.state != optuna.trial.TrialState.COMPLETE for t in trials)
    ok = numbers == list(range(args.trials)) and failed == 0
    store = "postgresql" if args.storage.startswith("postgresql") else "sqlite"
    print(f"optuna store={store} processes={args.processes} trials={len(trials)} errors={errors + failed} "
          f"numbers_ok={int(ok)} loop_s={seconds:.3f} trials_per_s={len(trials) / seconds:.0f}")
    return 0 if ok and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
