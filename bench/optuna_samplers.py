#!/usr/bin/python3
"""Optuna's samplers on the functions `quarry bench` uses, scored and printed the same way.

For each problem (Branin 50 evaluations, Hartmann6 100, Rosenbrock 10-D 100; the boxes of
quarry/objectives/functions.hpp: Branin x0 in [-5, 10], x1 in [0, 15]; Hartmann6 [0, 1]^6;
Rosenbrock [-5, 10]^n, parameters x0 .. x{n-1}), each sampler (TPESampler with its defaults,
CmaEsSampler, RandomSampler; seed = the seed index 0 .. seeds-1) runs study.optimize in a fresh
in-memory study; the table gives the median and quartiles over the seeds of the final regret (best
value - known optimum), and the mean seconds of one run, in `quarry bench`'s format.

--time-proposals N: instead, N finished random trials are added to a study (study.add_trials with
optuna.trial.create_trial), then study.ask(distributions) (which samples every parameter) is
timed for 5 new trials per sampler, each told as failed afterwards.

Run it with Debian's interpreter (/usr/bin/python3), which has python3-optuna (3.1).
"""

import argparse
import math
import sys
import time
import warnings

import numpy as np
import optuna

TIMED_PROPOSALS = 5  # as `quarry bench --time-proposals` (kTimedProposals in quarry/cli/bench.cpp)
HISTORY_SEED = 20240601

# Hartmann6 (Surjanovic & Bingham's constants, as quarry/objectives/functions.cpp).
ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
     [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]


def branin(x):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    u = x[1] - b * x[0] ** 2 + c * x[0] - 6
    return u * u + 10 * (1 - t) * math.cos(x[0]) + 10


def hartmann6(x):
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2
                                        for j in range(6))) for i in range(4))


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def problem(name, dims):
    """(shown name, function, box, optimum, default evaluations)."""
    if name == "branin":
        return "branin", branin, [(-5, 10), (0, 15)], 0.397887, 50
    if name == "hartmann6":
        return "hartmann6", hartmann6, [(0, 1)] * 6, -3.32237, 100
    if name == "rosenbrock":
        shown = "rosenbrock" if dims == 2 else f"rosenbrock(dims={dims})"
        return shown, rosenbrock, [(-5, 10)] * dims, 0.0, 100
    sys.exit(f"optuna_samplers: unknown problem '{name}' (known: branin, hartmann6, rosenbrock)")


SAMPLERS = {
    "optuna-tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "optuna-cmaes": lambda seed: optuna.samplers.CmaEsSampler(seed=seed),
    "optuna-random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}


def distributions(box):
    return {f"x{i}": optuna.distributions.FloatDistribution(lo, hi) for i, (lo, hi) in
            enumerate(box)}


def objective_of(f, box):
    def objective(trial):
        return f([trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(box)])
    return objective


def quantile(xs, q):
    """Linear interpolation between order statistics (numpy's default), as quarry bench."""
    xs = sorted(x for x in xs if not math.isnan(x))
    if not xs:
        return math.nan
    h = q * (len(xs) - 1)
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def fmt(x):
    return "nan" if math.isnan(x) else f"{x:.6g}"


def quality(spec, samplers, seeds, evaluations, fmt_kind):
    name, f, box, optimum, default = spec
    budget = evaluations or default
    rows = []
    for sampler in samplers:
        regrets, seconds = [], 0.0
        for seed in range(seeds):
            study = optuna.create_study(sampler=SAMPLERS[sampler](seed), direction="minimize")
            start = time.perf_counter()
            study.optimize(objective_of(f, box), n_trials=budget)
            seconds += time.perf_counter() - start
            regrets.append(study.best_value - optimum)
        rows.append((sampler, budget, quantile(regrets, 0.5), quantile(regrets, 0.25),
                     quantile(regrets, 0.75), seconds / seeds))
    if fmt_kind == "csv":
        print("problem,sampler,evaluations,median,q25,q75,seconds_per_run")
        for r in rows:
            print(f'"{name}",{r[0]},{r[1]},' + ",".join(fmt(v) for v in r[2:]))
        return
    print(f"{name}: final regret = best value - optimum ({fmt(optimum)}), lower is better; "
          f"{seeds} seeds")
    print("%-14s %11s %12s %12s %12s %10s" % ("sampler", "evaluations", "median", "q25", "q75",
                                              "s/run"))
    for r in rows:
        print("%-14s %11d %12s %12s %12s %10s" % (r[0], r[1], *(fmt(v) for v in r[2:])))


def timing(spec, samplers, history, fmt_kind):
    name, f, box, _, _ = spec
    dists = distributions(box)
    rng = np.random.RandomState(HISTORY_SEED)
    trials = []
    for _ in range(history):
        params = {k: float(rng.uniform(d.low, d.high)) for k, d in dists.items()}
        trials.append(optuna.trial.create_trial(params=params, distributions=dists,
                                                value=f(list(params.values()))))
    if fmt_kind == "csv":
        print("problem,sampler,history,ms_per_proposal,min_ms,max_ms")
    else:
        print(f"{name}: milliseconds per proposal with {history} finished random trials in the "
              f"history (median, min, max of {TIMED_PROPOSALS} proposals)")
        print("%-14s %8s %14s %10s %10s" % ("sampler", "history", "ms/proposal", "min", "max"))
    for sampler in samplers:
        study = optuna.create_study(sampler=SAMPLERS[sampler](0), direction="minimize")
        study.add_trials(trials)
        times = []
        for _ in range(TIMED_PROPOSALS):
            start = time.perf_counter()
            trial = study.ask(dists)
            times.append((time.perf_counter() - start) * 1e3)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        cells = [fmt(quantile(times, 0.5)), fmt(min(times)), fmt(max(times))]
        if fmt_kind == "csv":
            print(f'"{name}",{sampler},{history},' + ",".join(cells))
        else:
            print("%-14s %8d %14s %10s %10s" % (sampler, history, *cells))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="branin,hartmann6,rosenbrock")
    parser.add_argument("--samplers", default=",".join(SAMPLERS))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--evaluations", type=int, default=0,
                        help="trials per run (default: 50 for branin, 100 otherwise)")
    parser.add_argument("--dims", type=int, default=10, help="Rosenbrock's dimension")
    parser.add_argument("--format", choices=("table", "csv"), default="table")
    parser.add_argument("--time-proposals", type=int, default=0, metavar="N")
    args = parser.parse_args()

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    samplers = args.samplers.split(",")
    for s in samplers:
        if s not in SAMPLERS:
            sys.exit(f"optuna_samplers: unknown sampler '{s}' (known: {', '.join(SAMPLERS)})")
    for i, name in enumerate(args.problems.split(",")):
        if i:
            print()
        spec = problem(name, args.dims)
        if args.time_proposals:
            timing(spec, samplers, args.time_proposals, args.format)
        else:
            quality(spec, samplers, args.seeds, args.evaluations, args.format)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
