#!/usr/bin/python3
"""The table of bench/analyze.sh: a synthetic customer table with a binary target, written as
DIR/train.csv and DIR/test.csv (same columns, rows drawn independently from one seeded generator).

    analyze_data.py --out DIR [--rows 10000] [--train-rows 5000] [--seed 1]

Columns: age (integer 18-80), income (float, ~2% missing), tenure (months, integer 0-119), region
(north/south/east/west), plan (basic/standard/premium), channel (web/store), member (true/false),
label (0/1: a logistic function of the others plus noise, so no model gets it all right and the
slices differ in their metrics). Numbers are written in their shortest round-trip form; missing
cells are empty. Prints one line: `data rows=... train=... columns=... positives=...`.
Needs numpy only (Debian's /usr/bin/python3 has it).
"""

import argparse
import os

import numpy as np

REGIONS = ["north", "south", "east", "west"]
PLANS = ["basic", "standard", "premium"]
CHANNELS = ["web", "store"]
COLUMNS = ["age", "income", "tenure", "region", "plan", "channel", "member", "label"]


def make_rows(rng, n):
    """n rows as a list of CSV lines (no header)."""
    age = rng.integers(18, 81, n)
    income = np.round(rng.lognormal(10.5, 0.5, n), 2)
    income_missing = rng.random(n) < 0.02
    tenure = rng.integers(0, 120, n)
    region = rng.choice(len(REGIONS), n, p=[0.4, 0.3, 0.2, 0.1])
    plan = rng.choice(len(PLANS), n, p=[0.5, 0.35, 0.15])
    channel = rng.choice(len(CHANNELS), n, p=[0.6, 0.4])
    member = rng.random(n) < 0.3
    # The target: churn-like, with effects that differ by region (so slices differ).
    logit = (-0.6 + 0.03 * (age - 45) - 0.9 * (np.log(income) - 10.5) - 0.015 * tenure
             + np.array([0.0, 0.4, -0.3, 0.8])[region] + np.array([0.3, 0.0, -0.6])[plan]
             + 0.25 * channel - 0.7 * member + 0.02 * (age - 45) * (region == 3)
             + rng.normal(0, 0.8, n))
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    lines = []
    for i in range(n):
        inc = "" if income_missing[i] else repr(float(income[i]))
        lines.append(f"{age[i]},{inc},{tenure[i]},{REGIONS[region[i]]},{PLANS[plan[i]]},"
                     f"{CHANNELS[channel[i]]},{'true' if member[i] else 'false'},{label[i]}")
    return lines, int(label.sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--rows", type=int, default=10000, help="rows of test.csv")
    parser.add_argument("--train-rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.rows < 1 or args.train_rows < 1:
        parser.error("--rows and --train-rows must be positive")
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    positives = 0
    for name, n in (("train.csv", args.train_rows), ("test.csv", args.rows)):
        lines, pos = make_rows(rng, n)
        if name == "test.csv":
            positives = pos
        with open(os.path.join(args.out, name), "w") as f:
            f.write(",".join(COLUMNS) + "\n")
            f.write("\n".join(lines) + "\n")
    print(f"data rows={args.rows} train={args.train_rows} columns={len(COLUMNS)} "
          f"positives={positives}")


if __name__ == "__main__":
    main()
