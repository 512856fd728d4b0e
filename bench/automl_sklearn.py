#!/usr/bin/python3
"""The scikit-learn peers of `quarry automl` in bench/automl.sh, on the files bench/automl_data.py
wrote (DIR/train.csv, test.csv, meta.json):

    automl_sklearn.py DIR --side default --workers 2 --seed 1
    automl_sklearn.py DIR --side search --budget 60 --workers 2 --seed 1

--side default: HistGradientBoostingClassifier / Regressor with its defaults (random_state = the
  seed), fitted once on the training file with `workers` OpenMP threads.
--side search: random search over HistGradientBoosting's hyperparameters (sample() below; the first
  candidate is the defaults), each candidate scored by 5-fold cross-validation (stratified for
  classification, shuffled with the seed) on out-of-fold predictions pooled over the folds. The
  folds run in a pool of `workers` processes with one OpenMP thread each, two candidates' folds
  overlapping so that no worker waits. A new candidate starts only while the time it is expected
  to take (its folds, then the refit of the best) still fits in the budget; the best candidate is
  then refitted on all the training rows with `workers` threads, inside the budget.

Text columns (meta.json's `categorical`) go through an OrdinalEncoder fitted on the training rows
(missing and unknown categories -> NaN, i.e. missing) into HistGradientBoosting's
categorical_features; numeric columns go in as they are, NaN where missing.

Scores (the AutoML Benchmark's defaults, defined as Quarry's quarry/automl/metrics.hpp defines
them): ROC AUC of the second class for binary, log loss with probabilities clipped to
[1e-15, 1 - 1e-15] for multiclass, RMSE for regression. Prints one line:
`run dataset=NAME seed=S side=hgb-search task=... metric=... test=... val=... seconds=...
budget=... candidates=... refit_s=... best=... status=ok`; seconds runs from reading the training
file to the end of the (re)fit: the test file's predictions are not in it.
Run it with Debian's interpreter (/usr/bin/python3): scikit-learn 1.2, pandas, numpy.
"""

import argparse
import json
import math
import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

FOLDS = 5
SAFETY = 1.2  # estimated durations are stretched by this much before they are compared
MAX_DRAWS = 50  # random draws in a row that do not fit in the time left before the search stops


# ---- scores ----------------------------------------------------------------------------------

def metric_of(task):
    return {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}[task]


def score(task, y, predicted):
    """y: class indices or values; predicted: probabilities (rows x classes) or values."""
    if task == "binary":
        return float(roc_auc_score(y == 1, predicted[:, 1]))
    if task == "multiclass":
        p = np.clip(predicted[np.arange(len(y)), y.astype(int)], 1e-15, 1 - 1e-15)
        return float(-np.mean(np.log(p)))
    return float(math.sqrt(np.mean((y - predicted) ** 2)))


def better(task, a, b):
    """True when score a beats score b."""
    return a > b if task == "binary" else a < b


# ---- data ------------------------------------------------------------------------------------

def read(path, meta):
    """The file's features (categoricals still text) and its target: class indices in the order
    of meta.json's sorted class labels, or values."""
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""], float_precision="round_trip",
                        dtype={c: str for c in meta["categorical"]})
    target = frame.pop(meta["target"])
    if meta["task"] == "regression":
        y = target.to_numpy(dtype=float)
    else:
        index = {label: i for i, label in enumerate(meta["classes"])}
        y = np.array([index[str(v)] for v in target], dtype=np.int64)
    return frame, y


class Encoder:
    """Text columns -> ordinal codes (fitted on the rows given to fit; missing and unseen -> NaN),
    numeric columns as they are. categorical_mask() is HistGradientBoosting's
    categorical_features."""

    def __init__(self, columns, categorical):
        self.columns = list(columns)
        self.categorical = [c for c in self.columns if c in set(categorical)]
        self.encoder = None

    def fit(self, frame):
        if self.categorical:
            self.encoder = OrdinalEncoder(handle_unknown="use_encoded_value",
                                          unknown_value=np.nan, encoded_missing_value=np.nan,
                                          dtype=np.float64)
            self.encoder.fit(frame[self.categorical])
        return self

    def transform(self, frame):
        out = frame[self.columns].copy()
        if self.categorical:
            out[self.categorical] = self.encoder.transform(frame[self.categorical])
        return out.to_numpy(dtype=np.float64)

    def categorical_mask(self):
        return np.array([c in self.categorical for c in self.columns]) if self.categorical \
            else None

    def max_categories(self):
        if not self.categorical:
            return 0
        return max(len([v for v in cats if not (isinstance(v, float) and math.isnan(v))])
                   for cats in self.encoder.categories_)


def make_model(task, params, categorical_mask, seed):
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return cls(categorical_features=categorical_mask, random_state=seed, **params)


def predict(task, model, x):
    return model.predict(x) if task == "regression" else model.predict_proba(x)


def trees_per_iteration(task, classes):
    return classes if task == "multiclass" else 1


# ---- the search space --------------------------------------------------------------------------

def log_uniform(rng, low, high):
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def log_int(rng, low, high):
    return int(round(log_uniform(rng, low, high)))


def sample(rng, rows, max_categories):
    """One random candidate. max_bins stays above the largest categorical's cardinality
    (HistGradientBoosting needs a bin per category); min_samples_leaf below a tenth of the
    rows."""
    return {
        "learning_rate": log_uniform(rng, 0.01, 0.3),
        "max_iter": log_int(rng, 50, 1000),
        "max_leaf_nodes": log_int(rng, 8, 128),
        "max_depth": None if rng.uniform() < 0.5 else int(rng.randint(3, 13)),
        "min_samples_leaf": log_int(rng, 2, max(3, min(100, rows // 10))),
        "l2_regularization": 0.0 if rng.uniform() < 0.2 else log_uniform(rng, 1e-6, 10.0),
        "max_bins": int(rng.randint(min(255, max(32, max_categories + 1)), 256)),
    }


DEFAULTS = {}  # HistGradientBoosting's own defaults: the first candidate


def shown(params):
    if not params:
        return "defaults"
    short = {"learning_rate": "lr", "max_iter": "iter", "max_leaf_nodes": "leaves",
             "max_depth": "depth", "min_samples_leaf": "min_leaf", "l2_regularization": "l2",
             "max_bins": "bins"}
    return ",".join(f"{short[k]}={v:.3g}" if isinstance(v, float) else f"{short[k]}={v}"
                    for k, v in params.items())


def work_units(params, task, classes):
    """A candidate's relative cost per fold: iterations x trees per iteration x leaves."""
    leaves = params.get("max_leaf_nodes", 31)
    if params.get("max_depth"):
        leaves = min(leaves, 2 ** params["max_depth"])
    return params.get("max_iter", 100) * trees_per_iteration(task, classes) * leaves


# ---- the pool's side -------------------------------------------------------------------------

_worker = {}


def _init(frame, y, meta, folds, seed):
    _worker["limits"] = threadpool_limits(limits=1)  # one OpenMP thread per worker process
    _worker.update(frame=frame, y=y, meta=meta, folds=folds, seed=seed)


def _fit_fold(params, fold):
    """Fits one fold; returns (validation indices, their predictions, seconds, iterations)."""
    start = time.perf_counter()
    frame, y, meta = _worker["frame"], _worker["y"], _worker["meta"]
    train, valid = _worker["folds"][fold]
    encoder = Encoder(frame.columns, meta["categorical"]).fit(frame.iloc[train])
    model = make_model(meta["task"], params, encoder.categorical_mask(), _worker["seed"])
    model.fit(encoder.transform(frame.iloc[train]), y[train])
    predicted = predict(meta["task"], model, encoder.transform(frame.iloc[valid]))
    return valid, predicted, time.perf_counter() - start, int(model.n_iter_)


# ---- the two sides ---------------------------------------------------------------------------

def fit_all(meta, frame, y, params, workers, seed):
    encoder = Encoder(frame.columns, meta["categorical"]).fit(frame)
    model = make_model(meta["task"], params, encoder.categorical_mask(), seed)
    with threadpool_limits(limits=workers):
        model.fit(encoder.transform(frame), y)
    return encoder, model


class Candidate:
    def __init__(self, number, params, estimate, rows, width):
        self.number, self.params, self.estimate = number, params, estimate
        self.oof = np.zeros((rows, width)) if width > 1 else np.zeros(rows)
        self.done, self.seconds, self.iterations, self.score = 0, [], [], None

    def left(self):
        """Expected seconds of its folds not yet finished (one worker's time)."""
        per_fold = self.estimate if self.estimate else float(np.mean(self.seconds))
        return per_fold * (FOLDS - self.done)


class Search:
    """The random search's bookkeeping: the candidates, the time model, the best so far."""

    def __init__(self, meta, rows, budget, workers, start, log):
        self.task, self.classes = meta["task"], len(meta["classes"])
        self.rows, self.budget, self.workers, self.start, self.log = (rows, budget, workers,
                                                                      start, log)
        self.width = self.classes if self.task != "regression" else 1
        self.candidates, self.best, self.skipped = [], None, 0
        self.rate = []  # seconds per work unit of every finished fold
        self.fold_seconds = []  # seconds of every finished fold

    def estimate(self, params):
        """Expected seconds of one fold of `params` on one worker, or None before any fold."""
        if not self.rate:
            return None
        units = work_units(params, self.task, self.classes)
        return max(float(np.median(self.rate)) * units, min(self.fold_seconds)) * SAFETY

    def fits(self, fold_estimate):
        """Whether a candidate whose folds take fold_estimate each can finish, with the refit of
        the best after it, within the budget, given the folds already queued."""
        outstanding = sum(c.left() for c in self.candidates if c.done < FOLDS)
        best_fold = float(np.mean(self.best.seconds)) * SAFETY if self.best else 0.0
        refit = FOLDS / (FOLDS - 1) * max(fold_estimate, best_fold)  # all rows, not 4/5 of them
        finish = (time.perf_counter() - self.start +
                  (outstanding + FOLDS * fold_estimate) / self.workers + refit)
        return finish <= self.budget

    def next(self, rng, max_categories):
        """The next candidate to start: HistGradientBoosting's defaults first, then random draws;
        a draw that cannot finish in time is skipped, and None (stop) comes when MAX_DRAWS draws
        in a row cannot. Also None while there is no estimate yet (after the first candidate,
        before its first fold is back)."""
        if not self.candidates:
            return self._add(DEFAULTS, 0.0)
        if not self.rate:
            return None
        for _ in range(MAX_DRAWS):
            params = sample(rng, self.rows, max_categories)
            fold_estimate = self.estimate(params)
            if self.fits(fold_estimate):
                return self._add(params, fold_estimate)
            self.skipped += 1
            self.log(f"skip {shown(params)}: {FOLDS} x {fold_estimate:.2f} s would not fit")
        return None

    def _add(self, params, fold_estimate):
        candidate = Candidate(len(self.candidates), params, fold_estimate, self.rows, self.width)
        self.candidates.append(candidate)
        self.log(f"start #{candidate.number} {shown(params)} (fold ~{fold_estimate:.2f} s) at "
                 f"{time.perf_counter() - self.start:.2f} s")
        return candidate

    def finished_fold(self, candidate, y, valid, predicted, seconds, iterations):
        candidate.oof[valid] = predicted
        candidate.done += 1
        candidate.seconds.append(seconds)
        candidate.iterations.append(iterations)
        units = work_units(dict(candidate.params, max_iter=iterations), self.task, self.classes)
        self.rate.append(seconds / units)
        self.fold_seconds.append(seconds)
        if candidate.done == FOLDS:
            candidate.score = score(self.task, y, candidate.oof)
            self.log(f"done #{candidate.number} val={candidate.score:.6g} at "
                     f"{time.perf_counter() - self.start:.2f} s")
            if self.best is None or better(self.task, candidate.score, self.best.score):
                self.best = candidate


def search(meta, frame, y, budget, workers, seed, start, log):
    """Runs the random search; returns its Search (best, candidates, skipped, fold seconds)."""
    rows = len(y)
    splitter = (KFold(FOLDS, shuffle=True, random_state=seed) if meta["task"] == "regression"
                else StratifiedKFold(FOLDS, shuffle=True, random_state=seed))
    folds = list(splitter.split(np.zeros(rows), y))
    max_categories = Encoder(frame.columns, meta["categorical"]).fit(frame).max_categories()
    rng = np.random.RandomState(seed)
    state = Search(meta, rows, budget, workers, start, log)
    pending, stopped = {}, False
    # fork: the workers start at once, without importing scikit-learn again. Safe because this
    # process has run no OpenMP region yet (libgomp cannot be forked once its threads exist); the
    # refit, the first OpenMP work here, comes after the pool.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init,
                             initargs=(frame, y, meta, folds, seed)) as pool:
        while True:
            # Keep every worker busy: queue the next candidate's folds when fewer are waiting.
            while not stopped and len(pending) < workers:
                candidate = state.next(rng, max_categories)
                if candidate is None:
                    stopped = bool(state.rate)  # no estimate yet: ask again after a fold
                    break
                for fold in range(FOLDS):
                    pending[pool.submit(_fit_fold, candidate.params, fold)] = candidate
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                state.finished_fold(pending.pop(future), y, *future.result())
    return state


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", help="the folder with train.csv, test.csv, meta.json")
    parser.add_argument("--side", choices=["default", "search"], required=True)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds (search only)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true",
                        help="the search's decisions on stderr (start, skip, done)")
    args = parser.parse_args()

    def log(message):
        if args.verbose:
            print(f"  hgb-search: {message}", file=sys.stderr, flush=True)

    with open(os.path.join(args.data, "meta.json")) as f:
        meta = json.load(f)
    task = meta["task"]

    start = time.perf_counter()
    frame, y = read(os.path.join(args.data, "train.csv"), meta)
    extra = ""
    if args.side == "default":
        params, validation = DEFAULTS, float("nan")
        encoder, model = fit_all(meta, frame, y, params, args.workers, args.seed)
        seconds = time.perf_counter() - start
        extra = f"iterations={model.n_iter_}"
    else:
        state = search(meta, frame, y, args.budget, args.workers, args.seed, start, log)
        params, validation = state.best.params, state.best.score
        refit_start = time.perf_counter()
        encoder, model = fit_all(meta, frame, y, params, args.workers, args.seed)
        seconds = time.perf_counter() - start
        count = sum(1 for c in state.candidates if c.done == FOLDS)
        extra = (f"candidates={count} skipped={state.skipped} "
                 f"fold_s={sum(state.fold_seconds):.2f} "
                 f"refit_s={seconds - (refit_start - start):.2f} iterations={model.n_iter_}")
    test_frame, test_y = read(os.path.join(args.data, "test.csv"), meta)
    test = score(task, test_y, predict(task, model, encoder.transform(test_frame)))
    side = "hgb-default" if args.side == "default" else "hgb-search"
    budget = f" budget={args.budget:g}" if args.side == "search" else ""
    print(f"run dataset={meta['name']} seed={meta['seed']} side={side} task={task} "
          f"metric={metric_of(task)} test={test:.6g} val={validation:.6g} seconds={seconds:.2f}"
          f"{budget} {extra} best={shown(params)} status=ok", flush=True)


if __name__ == "__main__":
    sys.exit(main())
