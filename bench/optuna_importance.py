#!/usr/bin/python3
"""Optuna's fANOVA parameter importance on trials Quarry ran, measured for bench/importance.sh.

Reads the trials `quarry trials STUDY --format json` wrote, keeps the complete ones with a finite
value of METRIC, builds an in-memory Optuna study of exactly those (optuna.trial.create_trial with
the distributions given by --param, then study.add_trials), and times
  optuna.importance.get_param_importances(
      study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
REPEAT times (the evaluator is seeded, so every run gives the same importances). Only that call is
timed: not the interpreter's start, the imports, reading the file or building the study.

  --param x0=float:0:1      a FloatDistribution(0, 1) (linear: Optuna measures every parameter on a
                            linear axis, so a log-scaled one would not compare with Quarry)
  --param c=choice:a,b,c    a CategoricalDistribution(["a", "b", "c"]) (text values)

Prints machine-readable lines (bench/importance.sh reads them):
  optuna trials=1000 seconds=12.3 best_of=1
  optuna param=x0 importance=0.701
Exit status: 0 on success, 2 on misuse.

Run it with Debian's interpreter (/usr/bin/python3), which has python3-optuna and python3-sklearn.
"""

import argparse
import json
import math
import sys
import time

import optuna


def distribution(spec):
    name, _, rest = spec.partition("=")
    kind, _, args = rest.partition(":")
    if not name or not args:
        raise ValueError(spec)
    if kind == "float":
        low, high = (float(a) for a in args.split(":"))
        return name, optuna.distributions.FloatDistribution(low, high)
    if kind == "choice":
        return name, optuna.distributions.CategoricalDistribution(args.split(","))
    raise ValueError(spec)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--trials", required=True, help="the output of `quarry trials --format json`"
    )
    parser.add_argument("--param", action="append", required=True, metavar="NAME=KIND:ARGS")
    parser.add_argument("--metric", default="value")
    parser.add_argument("--direction", default="minimize", choices=("minimize", "maximize"))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    try:
        distributions = dict(distribution(p) for p in args.param)
    except ValueError as e:
        parser.error(f"--param {e}: expected NAME=float:LOW:HIGH or NAME=choice:V1,V2,...")
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")

    with open(args.trials) as f:
        exported = json.load(f)
    trials = []
    for t in exported:
        value = t.get("values", {}).get(args.metric)
        if t.get("state") != "complete" or not isinstance(value, (int, float)):
            continue
        if not math.isfinite(value):
            continue
        params = {}
        for name, dist in distributions.items():
            raw = t["params"][name]
            is_float = isinstance(dist, optuna.distributions.FloatDistribution)
            params[name] = float(raw) if is_float else raw
        trials.append(
            optuna.trial.create_trial(params=params, distributions=distributions, value=value)
        )
    if len(trials) < 2:
        sys.exit(
            f"optuna_importance: {args.trials} has {len(trials)} complete trials; 2 are needed"
        )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=args.direction)
    study.add_trials(trials)

    best = math.inf
    for _ in range(args.repeat):
        start = time.perf_counter()
        importances = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
        )
        best = min(best, time.perf_counter() - start)
    print(f"optuna trials={len(trials)} seconds={best:.6f} best_of={args.repeat}")
    for name, share in importances.items():
        print(f"optuna param={name} importance={share:.6g}")


if __name__ == "__main__":
    main()
