#!/usr/bin/python3
"""The tables of bench/automl.sh: reads them where Debian installs them, splits each 75/25 with a
fixed seed (stratified for classification) and writes DIR/<name>/train.csv, test.csv and
meta.json, which both sides of the benchmark then read.

    automl_data.py --out DIR --seed 1 [--datasets breast_cancer,digits]
    automl_data.py --list

Sources (nothing is downloaded): scikit-learn's bundled CSV files (python3-sklearn), statsmodels'
datasets (python3-statsmodels) and the Palmer penguins (r-cran-palmerpenguins); see DATASETS.
Files written: a header line, the target column named, missing cells empty, numbers in their
shortest round-trip form; rows whose target is missing are dropped before the split.
meta.json: name, task (binary / multiclass / regression), target, source, rows, categorical (the
text columns, which the scikit-learn side encodes), missing_cells (features, train + test), and
quarry_args (extra options for `quarry automl`: --task where Quarry's detection rule would read
the target otherwise, e.g. an integer count as multiclass); quarry.args: `--target NAME` and those
options, one per line, for the shell.
Prints one line per table: `data dataset=NAME task=... rows=... train=... test=... ...`.
Run it with Debian's interpreter (/usr/bin/python3): it needs pandas and scikit-learn.
"""

import argparse
import gzip
import json
import os
import sys

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

SKLEARN_DATA = "/usr/lib/python3/dist-packages/sklearn/datasets/data"
STATSMODELS = "/usr/lib/python3/dist-packages/statsmodels"
PENGUINS = "/usr/lib/R/site-library/palmerpenguins/extdata"

BREAST_CANCER_FEATURES = [
    f"{stat} {name}" for stat in ("mean", "error", "worst")
    for name in ("radius", "texture", "perimeter", "area", "smoothness", "compactness",
                 "concavity", "concave points", "symmetry", "fractal dimension")]
WINE_FEATURES = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
                 "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
                 "od280/od315_of_diluted_wines", "proline"]
DIABETES_FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


def read_csv(source, **options):
    """pandas.read_csv keeping every number exactly as written (its default parser may round the
    last digit, and the written file would then show 5.3660000000000005 for 5.366)."""
    return pd.read_csv(source, float_precision="round_trip", **options)


def sklearn_counted_csv(path, features):
    """scikit-learn's breast_cancer.csv / wine_data.csv: a first line 'rows,features,class names...'
    instead of a header, then the features and the class index last. The class names replace the
    indices."""
    with open(path) as f:
        first = f.readline().strip().split(",")
        frame = read_csv(f, header=None)
    rows, cols, names = int(first[0]), int(first[1]), first[2:]
    if frame.shape != (rows, cols + 1) or cols != len(features):
        sys.exit(f"automl_data: {path}: expected {rows} rows of {cols} features + class, "
                 f"read {frame.shape}")
    frame.columns = features + ["target"]
    frame["target"] = [names[int(i)] for i in frame["target"]]
    return frame


def breast_cancer():
    return sklearn_counted_csv(f"{SKLEARN_DATA}/breast_cancer.csv", BREAST_CANCER_FEATURES)


def wine():
    return sklearn_counted_csv(f"{SKLEARN_DATA}/wine_data.csv", WINE_FEATURES)


def digits():
    # 1,797 rows of 64 pixel counts (0-16) and the digit last; no header.
    with gzip.open(f"{SKLEARN_DATA}/digits.csv.gz", "rt") as f:
        frame = read_csv(f, header=None)
    frame.columns = [f"pixel_{i}" for i in range(64)] + ["digit"]
    return frame


def diabetes():
    # The unscaled features (space-separated, no header) and the target in a second file.
    with gzip.open(f"{SKLEARN_DATA}/diabetes_data_raw.csv.gz", "rt") as f:
        frame = read_csv(f, header=None, sep=" ")
    with gzip.open(f"{SKLEARN_DATA}/diabetes_target.csv.gz", "rt") as f:
        target = read_csv(f, header=None)[0]
    frame.columns = DIABETES_FEATURES
    frame["progression"] = target.round().astype(int)  # integers written as 151.0 in the file
    return frame


def fair():
    # statsmodels' documented use: affair = affairs > 0 (logit on the rest).
    frame = read_csv(f"{STATSMODELS}/datasets/fair/fair.csv")
    frame["affair"] = (frame.pop("affairs") > 0).astype(int)
    return frame


def randhie():
    # RAND Health Insurance Experiment: mdvis, the number of outpatient visits (a count).
    return read_csv(f"{STATSMODELS}/datasets/randhie/randhie.csv")


def dietox():
    # Pig growth (geepack's dietox, kept in statsmodels' test data): the header names 7 columns,
    # every row has 8 (R's row name first). Feed is missing on 72 rows.
    frame = read_csv(f"{STATSMODELS}/regression/tests/results/dietox.csv", index_col=0)
    return frame


def penguins():
    return read_csv(f"{PENGUINS}/penguins.csv", keep_default_na=False, na_values=["NA"])


def penguins_raw():
    # The raw table, less its identifiers and free text (sample number, individual ID, comments,
    # the egg date) and the constant columns (region, stage).
    frame = read_csv(f"{PENGUINS}/penguins_raw.csv", keep_default_na=False, na_values=["NA"])
    keep = ["Species", "Island", "Clutch Completion", "Culmen Length (mm)", "Culmen Depth (mm)",
            "Flipper Length (mm)", "Body Mass (g)", "Delta 15 N (o/oo)", "Delta 13 C (o/oo)", "Sex"]
    return frame[keep]


# name -> (loader, target, task, source, extra options for `quarry automl`)
DATASETS = {
    "breast_cancer": (breast_cancer, "target", "binary", "sklearn breast_cancer.csv", []),
    "fair": (fair, "affair", "binary", "statsmodels fair.csv (affairs > 0)", []),
    "penguins_sex": (penguins_raw, "Sex", "binary", "palmerpenguins penguins_raw.csv", []),
    "wine": (wine, "target", "multiclass", "sklearn wine_data.csv", []),
    "digits": (digits, "digit", "multiclass", "sklearn digits.csv.gz", []),
    "penguins_species": (penguins, "species", "multiclass", "palmerpenguins penguins.csv", []),
    "diabetes": (diabetes, "progression", "regression", "sklearn diabetes_*.csv.gz", []),
    "dietox": (dietox, "Weight", "regression", "statsmodels dietox.csv", []),
    # mdvis holds 59 distinct integers in 15,000 training rows: Quarry's detection rule (after
    # AutoGluon's) reads that as multiclass; the task is the regression of a count.
    "randhie": (randhie, "mdvis", "regression", "statsmodels randhie.csv",
                ["--task", "regression"]),
}


def prepare(name, out, seed):
    loader, target, task, source, quarry_args = DATASETS[name]
    frame = loader()
    if target not in frame.columns:
        sys.exit(f"automl_data: {name}: no column '{target}' in {list(frame.columns)}")
    frame = frame[frame[target].notna()].reset_index(drop=True)
    features = [c for c in frame.columns if c != target]
    frame = frame[features + [target]]  # the target last, as in most benchmark files
    stratify = frame[target] if task != "regression" else None
    train, test = train_test_split(frame, test_size=0.25, random_state=seed, stratify=stratify)
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    train.to_csv(os.path.join(folder, "train.csv"), index=False, na_rep="")
    test.to_csv(os.path.join(folder, "test.csv"), index=False, na_rep="")
    categorical = [c for c in features if frame[c].dtype == object]
    meta = {
        "name": name, "task": task, "target": target, "source": source, "seed": seed,
        "rows": len(frame), "train_rows": len(train), "test_rows": len(test),
        "features": len(features), "categorical": categorical,
        "missing_cells": int(frame[features].isna().sum().sum()),
        "classes": (sorted(map(str, frame[target].unique())) if task != "regression" else []),
        "quarry_args": quarry_args,
    }
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    with open(os.path.join(folder, "quarry.args"), "w") as f:  # for the shell: one per line
        f.write("".join(f"{a}\n" for a in ["--target", target] + quarry_args))
    shown_cats = ",".join(c.replace(" ", "_") for c in categorical) or "-"
    print(f"data dataset={name} task={task} target={target.replace(' ', '_')} rows={len(frame)} "
          f"train={len(train)} test={len(test)} features={len(features)} "
          f"categorical={shown_cats} missing_cells={meta['missing_cells']} "
          f"classes={len(meta['classes'])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="the folder to write DIR/<name>/ into")
    parser.add_argument("--seed", type=int, default=1, help="the split's seed (1)")
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help="comma-separated names (default: all)")
    parser.add_argument("--list", action="store_true", help="print the names and exit")
    args = parser.parse_args()
    if args.list:
        print(" ".join(DATASETS))
        return
    if not args.out:
        parser.error("--out is required")
    names = [n for n in args.datasets.split(",") if n]
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        sys.exit(f"automl_data: unknown dataset(s) {', '.join(unknown)} "
                 f"(known: {', '.join(DATASETS)})")
    for name in names:
        prepare(name, args.out, args.seed)


if __name__ == "__main__":
    np.seterr(all="raise")
    main()
