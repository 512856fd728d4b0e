#!/usr/bin/python3
"""The Python side of bench/analyze.sh: the job of `quarry analyze` done the way a fairlearn
MetricFrame user does it, with pandas and scikit-learn: read the rows and the model's predictions
(exported once by `quarry predict`), group the rows per slice, and call scikit-learn's metric
functions on each group.

    analyze_peer.py TEST.csv PREDICTIONS.csv --target label --slice COL [--slice A,B]
                    [--slice COL=VALUE] [--bins 4] [--bootstrap 1000] [--measured 100]
                    [--repeat 3] [--quarry-json FILE]

Slices as `quarry analyze` makes them: overall; COL: each value, or for a numeric column of more
than 10 values its quantile bins (pandas.qcut); A,B: the cross; COL=VALUE: one value. Per slice
(binary target, positive class the second column of PREDICTIONS.csv): accuracy, balanced accuracy,
precision, recall, F1, ROC AUC, log loss and a 10-bin expected calibration error of the top class
(numpy), plus what Quarry also reports per slice: per-class precision/recall/F1/support, the
confusion matrix, the ROC curve and the reliability bins. --bootstrap N: per slice, N resamples of
its rows with the eight scalar metrics each (as Quarry does); only --measured of them are run and
the time is scaled to N (scikit-learn's per-call overhead makes every resample cost the same).
Timed: from after the imports to the end (reading both CSV files, slicing, scoring); the best of
--repeat runs. Prints `peer ...` lines (key=value) and, with --quarry-json, an `agree ...` line:
the largest difference between the overall metrics of both sides.
"""

import argparse
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score,
                             log_loss, precision_recall_fscore_support, precision_score,
                             recall_score, roc_auc_score, roc_curve)

METRICS = ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "log_loss",
           "ece"]


def ece(y, proba, bins=10):
    """Expected calibration error of the top class: equal-width bins of its probability."""
    top = np.where(proba >= 0.5, proba, 1 - proba)
    guess = (proba >= 0.5).astype(int)
    right = (guess == y).astype(float)
    which = np.clip((top * bins).astype(int), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            total += abs(right[m].sum() - top[m].sum())
    return total / len(y)


def scalars(y, proba):
    """The eight scalar metrics of one group, one scikit-learn call each (MetricFrame's way)."""
    pred = (proba >= 0.5).astype(int)
    both = len(np.unique(y)) == 2
    return {
        "accuracy": accuracy_score(y, pred),
        "balanced_accuracy": balanced_accuracy_score(y, pred),
        "precision": precision_score(y, pred, zero_division=0),
        "recall": recall_score(y, pred, zero_division=0),
        "f1": f1_score(y, pred, zero_division=0),
        "roc_auc": roc_auc_score(y, proba) if both else float("nan"),
        "log_loss": log_loss(y, np.clip(proba, 1e-15, 1 - 1e-15), labels=[0, 1]),
        "ece": ece(y, proba),
    }


def details(y, proba):
    """What Quarry reports per slice besides the scalars."""
    pred = (proba >= 0.5).astype(int)
    out = {"per_class": precision_recall_fscore_support(y, pred, labels=[0, 1], zero_division=0),
           "confusion": confusion_matrix(y, pred, labels=[0, 1])}
    if len(np.unique(y)) == 2:
        out["roc"] = roc_curve(y, proba)
    top = np.where(proba >= 0.5, proba, 1 - proba)
    which = np.clip((top * 10).astype(int), 0, 9)
    out["reliability"] = [(top[which == b].mean(), (pred == y)[which == b].mean())
                          for b in range(10) if (which == b).any()]
    return out


def keyed(frame, column, bins):
    """The grouping key of one column: its values, or quantile bins of a many-valued number."""
    col = frame[column]
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) \
            and col.nunique() > 10:
        return pd.qcut(col, bins, duplicates="drop")
    return col


def slices(frame, specs, bins):
    """[(name, row positions)], overall first, in the order of the specs."""
    out = [("overall", np.arange(len(frame)))]
    for spec in specs:
        if "=" in spec:
            column, value = spec.split("=", 1)
            mask = frame[column].astype(str).str.lower() == value.lower()
            out.append((spec, np.flatnonzero(mask.to_numpy())))
            continue
        columns = spec.split(",")
        keys = [keyed(frame, c, bins) for c in columns]
        for key, rows in frame.groupby(keys, observed=True, dropna=False).indices.items():
            out.append((f"{spec}={key}", rows))
    return out


def run(args):
    """One timed run: returns (seconds by phase, the overall slice's metrics, slice count)."""
    t0 = time.perf_counter()
    frame = pd.read_csv(args.test)
    predicted = pd.read_csv(args.predictions)
    y = frame[args.target].to_numpy().astype(int)
    proba = predicted.iloc[:, 2].to_numpy(dtype=float)  # label, proba_<class 0>, proba_<class 1>
    t1 = time.perf_counter()
    groups = slices(frame, args.slice, args.bins)
    results = []
    for _, rows in groups:
        results.append((scalars(y[rows], proba[rows]), details(y[rows], proba[rows])))
    t2 = time.perf_counter()
    rng = np.random.default_rng(0)
    for _, rows in groups:
        draws = []
        for _ in range(min(args.measured, args.bootstrap)):
            pick = rows[rng.integers(0, len(rows), len(rows))]
            draws.append(scalars(y[pick], proba[pick]))
        if draws:
            values = np.array([[d[m] for m in METRICS] for d in draws])
            np.nanpercentile(values, [2.5, 97.5], axis=0)
    t3 = time.perf_counter()
    ran = min(args.measured, args.bootstrap)
    boot = (t3 - t2) * (args.bootstrap / ran) if ran else 0.0
    return {"read": t1 - t0, "score": t2 - t1, "bootstrap": boot,
            "measured": t3 - t2}, results[0][0], len(groups)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("test")
    parser.add_argument("predictions")
    parser.add_argument("--target", required=True)
    parser.add_argument("--slice", action="append", default=[])
    parser.add_argument("--bins", type=int, default=4)
    parser.add_argument("--bootstrap", type=int, default=0)
    parser.add_argument("--measured", type=int, default=100,
                        help="bootstrap resamples actually run (time scaled to --bootstrap)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quarry-json")
    args = parser.parse_args()
    if args.repeat < 1 or args.bootstrap < 0 or args.measured < 1:
        parser.error("--repeat and --measured must be positive, --bootstrap >= 0")
    warnings.simplefilter("ignore")  # undefined metrics of one-class resamples

    best, overall, count = None, None, 0
    for _ in range(args.repeat):
        t, overall, count = run(args)
        if best is None or t["read"] + t["score"] + t["bootstrap"] < \
                best["read"] + best["score"] + best["bootstrap"]:
            best = t
    print(f"peer slices={count} read={best['read']:.3f} score={best['score']:.3f} "
          f"total={best['read'] + best['score']:.3f}")
    if args.bootstrap:
        ran = min(args.measured, args.bootstrap)
        print(f"peer bootstrap={args.bootstrap} measured={ran} "
              f"measured_s={best['measured']:.3f} bootstrap_s={best['bootstrap']:.3f} "
              f"total_ci={best['read'] + best['score'] + best['bootstrap']:.3f}")
    if args.quarry_json:
        with open(args.quarry_json) as f:
            q = json.load(f)["slices"][0]["metrics"]
        diffs = {m: abs(q[m] - overall[m]) for m in METRICS if q.get(m) is not None}
        worst = max(diffs, key=diffs.get)
        print(f"agree overall_metrics={len(diffs)} max_abs_diff={diffs[worst]:.2e} "
              f"(at {worst})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
