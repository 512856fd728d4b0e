#!/usr/bin/python3
"""The two halves of bench/automl.sh that read and write results:

    automl_report.py quarry-line OUT.json --meta META.json --budget 60 --wall 61.2 [--rc 0]
        reads what `quarry automl ... --format json` printed and prints its run line:
        run dataset=NAME seed=S side=quarry task=... metric=... test=... val=... seconds=ELAPSED
            wall=W budget=B candidates=N best=MODEL family=F ensemble_gain=G ... status=ok
        status is `failed` (no JSON, or a non-zero exit), or `mismatch` when Quarry's task or metric
        is not the one the benchmark scores (the test score is then not comparable).
    automl_report.py table RESULTS
        reads every `run ...` line of RESULTS (the three sides' lines, any number of seeds) and
        prints the table, one row per dataset, and the GOAL line.

The JSON's keys (the contract of `quarry automl --format json`): task, metric, validation_score,
test_score, leaderboard (objects with model, family, validation_score, fit_time,
predict_time_per_row), model_dir, elapsed (seconds), ensemble {validation_score,
best_single_validation_score, weights}.
"""

import argparse
import json
import math
import statistics
import sys

METRICS = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
GREATER_IS_BETTER = {"roc_auc": True, "log_loss": False, "rmse": False}
SIDES = ["quarry", "hgb-default", "hgb-search"]


def number(value):
    """A JSON number as float; NaN for null or anything else."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else float("nan")


def token(text):
    """A value for a `key=value` line: no spaces, never empty."""
    text = str(text).strip().replace(" ", "_")
    return text or "-"


def json_object(text):
    """The JSON object `quarry automl --format json` printed: the whole output, or else the last
    line that starts one (should anything else reach standard output before it)."""
    try:
        out = json.loads(text)
    except ValueError:
        starts = [i for i, line in enumerate(text.splitlines()) if line.startswith("{")]
        if not starts:
            raise
        out = json.loads("\n".join(text.splitlines()[starts[-1]:]))
    if not isinstance(out, dict):
        raise ValueError("not a JSON object")
    return out


def quarry_line(args):
    with open(args.meta) as f:
        meta = json.load(f)
    expected_task = meta["task"]
    expected_metric = METRICS[expected_task]
    head = (f"run dataset={meta['name']} seed={meta['seed']} side=quarry task={expected_task} "
            f"metric={expected_metric}")
    try:
        with open(args.json) as f:
            out = json_object(f.read())
    except (OSError, ValueError) as error:
        reason = f"exit {args.rc}" if args.rc else f"no JSON object ({error})"
        print(f"{head} wall={args.wall:.2f} budget={args.budget:g} status=failed "
              f"reason={token(reason)}")
        return
    task, metric = out.get("task"), out.get("metric")
    test, validation = number(out.get("test_score")), number(out.get("validation_score"))
    leaderboard = out.get("leaderboard") or []
    greater = GREATER_IS_BETTER.get(metric, True)
    scored = [m for m in leaderboard if isinstance(m, dict)
              and not math.isnan(number(m.get("validation_score")))]
    best = (max if greater else min)(scored, key=lambda m: number(m["validation_score"])) \
        if scored else {}
    ensemble = out.get("ensemble") or {}
    ens_val = number(ensemble.get("validation_score"))
    single_val = number(ensemble.get("best_single_validation_score"))
    weights = ensemble.get("weights")
    members = (sum(1 for w in weights.values() if number(w) > 0) if isinstance(weights, dict)
               else sum(1 for w in weights if (number(w.get("weight")) if isinstance(w, dict)
                                               else number(w)) > 0)
               if isinstance(weights, list) else 0)
    status, reason = "ok", ""
    if args.rc:
        status, reason = "failed", f" reason=exit_{args.rc}"
    elif task != expected_task or metric != expected_metric:
        status, reason = "mismatch", f" reason=expected_{expected_task}/{expected_metric}"
    elif math.isnan(test):
        status, reason = "failed", " reason=no_test_score"
    fit_time = sum(number(m.get("fit_time")) for m in scored)
    print(f"run dataset={meta['name']} seed={meta['seed']} side=quarry task={token(task)} "
          f"metric={token(metric)} test={test:.6g} val={validation:.6g} "
          f"seconds={number(out.get('elapsed')):.2f} wall={args.wall:.2f} "
          f"budget={args.budget:g} candidates={len(leaderboard)} "
          f"best={token(best.get('model', '-'))} family={token(best.get('family', '-'))} "
          f"fit_s={fit_time:.2f} ensemble_val={ens_val:.6g} best_single_val={single_val:.6g} "
          f"ensemble_gain={ens_val - single_val:.6g} ensemble_members={members} "
          f"status={status}{reason}")


# ---- the table -------------------------------------------------------------------------------

def parse(path):
    runs = []
    with open(path) as f:
        for line in f:
            if not line.startswith("run "):
                continue
            fields = dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)
            runs.append(fields)
    return runs


def value(run, key):
    try:
        return float(run.get(key, "nan"))
    except ValueError:
        return float("nan")


def summary(values):
    """(mean, sample standard deviation or NaN with fewer than two) of the non-NaN values."""
    present = [v for v in values if not math.isnan(v)]
    if not present:
        return float("nan"), float("nan")
    sd = statistics.stdev(present) if len(present) > 1 else float("nan")
    return statistics.fmean(present), sd


def shown(mean, sd, digits=4):
    if math.isnan(mean):
        return "-"
    text = f"{mean:.{digits}f}"
    return text if math.isnan(sd) else f"{text} ± {sd:.{digits}f}"


def aligned(rows):
    """Rows of cells -> lines, each column as wide as its widest cell (text left, numbers
    right); a row None is a rule."""
    cells = [r for r in rows if r is not None]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    numeric = [all(r[i][:1] in "0123456789+-" or r[i] == "-" for r in cells[1:])
               for i in range(len(widths))]
    lines = []
    for row in rows:
        if row is None:
            lines.append("-" * (sum(widths) + 3 * (len(widths) - 1)))
            continue
        lines.append(" | ".join(c.rjust(w) if n else c.ljust(w)
                                for c, w, n in zip(row, widths, numeric)).rstrip())
    return lines


def seconds(mean):
    return "-" if math.isnan(mean) else f"{mean:.1f}"


def count(mean):
    return "-" if math.isnan(mean) else f"{round(mean, 1):g}"


def table(args):
    runs = parse(args.results)
    datasets = list(dict.fromkeys(r["dataset"] for r in runs if "dataset" in r))
    seeds = sorted({r.get("seed", "?") for r in runs}, key=lambda s: (not s.isdigit(), int(s)
                                                                       if s.isdigit() else 0, s))
    print(f"Test scores, mean ± sample sd over seeds {','.join(seeds)} (roc_auc: higher is "
          f"better; log_loss, rmse: lower). Seconds (the second table): means; `Q s` is "
          f"Quarry's own `elapsed`, `Q wall` its process; HGB's from reading the training file "
          f"to the end of the (re)fit, `wall` its process (interpreter start and imports "
          f"included).")
    scores = [["dataset", "metric", "Quarry", "HGB default", "HGB search", "Q vs best peer",
               "ens-best val"], None]
    times = [["dataset", "budget", "Q s", "Q wall", "def s", "def wall", "srch s", "srch wall",
              "Q models", "srch cands"], None]
    ahead, behind, unassessed, failures = [], [], [], []
    for name in datasets:
        mine = [r for r in runs if r.get("dataset") == name]
        metric = next((r["metric"] for r in mine if r.get("side") != "quarry" and "metric" in r),
                      None) or next((r["metric"] for r in mine if "metric" in r), "?")
        greater = GREATER_IS_BETTER.get(metric, True)
        sides = {}
        for side in SIDES:
            these = [r for r in mine if r.get("side") == side]
            ok = [r for r in these if r.get("status") == "ok" and r.get("metric") == metric]
            sides[side] = {
                "runs": these, "ok": ok,
                "test": summary([value(r, "test") for r in ok]),
                "seconds": summary([value(r, "seconds") for r in ok])[0],
                "wall": summary([value(r, "wall") for r in ok])[0],
                "gain": summary([value(r, "ensemble_gain") for r in ok]),
                "candidates": summary([value(r, "candidates") for r in ok])[0],
            }
            bad = [r for r in these if r not in ok]
            if bad:
                statuses = ", ".join(sorted({r.get("status", "?") for r in bad}))
                failures.append(f"{name} {side} ({statuses} on seed "
                                f"{','.join(r.get('seed', '?') for r in bad)})")
        quarry = sides["quarry"]
        peers = [s for s in ("hgb-default", "hgb-search") if not math.isnan(sides[s]["test"][0])]
        quarry_bad = [r for r in quarry["runs"] if r not in quarry["ok"]]
        verdict = "-"
        if quarry_bad:  # a seed without a comparable Quarry score: neither ahead nor excused
            behind.append(f"{name} (Quarry {quarry_bad[0].get('status', '?')} on seed "
                          f"{','.join(r.get('seed', '?') for r in quarry_bad)})")
        if peers and not math.isnan(quarry["test"][0]):
            best_peer = (max if greater else min)(peers, key=lambda s: sides[s]["test"][0])
            sign = 1 if greater else -1
            margin = sign * (quarry["test"][0] - sides[best_peer]["test"][0])
            verdict = f"{margin:+.4f}"
            spread = max((sd for sd in (quarry["test"][1], sides[best_peer]["test"][1])
                          if not math.isnan(sd)), default=float("nan"))
            if quarry_bad:
                pass
            elif margin > 0:
                ahead.append(name)
            elif math.isnan(spread):
                unassessed.append(name)
            elif -margin > spread:
                behind.append(f"{name} (by {-margin:.4f}, spread {spread:.4f})")
        elif peers and not quarry_bad:
            behind.append(f"{name} (no Quarry score)")
        budget = next((r["budget"] for r in mine if "budget" in r), "-")
        scores.append([name, metric, shown(*quarry["test"]), shown(*sides["hgb-default"]["test"]),
                       shown(*sides["hgb-search"]["test"]), verdict, shown(*quarry["gain"])])
        times.append([name, budget, seconds(quarry["seconds"]), seconds(quarry["wall"]),
                      seconds(sides["hgb-default"]["seconds"]),
                      seconds(sides["hgb-default"]["wall"]),
                      seconds(sides["hgb-search"]["seconds"]),
                      seconds(sides["hgb-search"]["wall"]),
                      count(quarry["candidates"]), count(sides["hgb-search"]["candidates"])])
    print("\n".join(aligned(scores)))
    print("`Q vs best peer`: Quarry's mean minus the better HGB mean, signed so that + means "
          "Quarry is better. `ens-best val`: Quarry's ensemble validation score minus its best "
          "single model's (raw: for log_loss and rmse a negative value is a gain).")
    print()
    print("\n".join(aligned(times)))
    print("`Q models`: the models on Quarry's leaderboard; `srch cands`: the candidates the HGB "
          "search cross-validated.")
    if failures:
        print(f"Runs left out of the means: {'; '.join(failures)}")
    n = len(datasets)
    clause = ("behind by more than the spread on " + "; ".join(behind)) if behind else \
        "never behind by more than the spread"
    if unassessed:
        clause += f"; behind with no spread to compare (one seed) on {', '.join(unassessed)}"
    verdict = "MET" if not behind and not unassessed else \
        ("NOT MET" if behind else "NOT ASSESSED (run SEEDS=1,2,3)")
    print(f"GOAL (Quarry ahead of both on K of N datasets; never behind by more than the spread "
          f"between seeds): ahead on {len(ahead)} of {n}; {clause}: {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quarry-line", help="Quarry's JSON -> its run line")
    q.add_argument("json")
    q.add_argument("--meta", required=True)
    q.add_argument("--budget", type=float, required=True)
    q.add_argument("--wall", type=float, default=float("nan"))
    q.add_argument("--rc", type=int, default=0)
    t = sub.add_parser("table", help="run lines -> the table and the GOAL line")
    t.add_argument("results")
    args = parser.parse_args()
    quarry_line(args) if args.command == "quarry-line" else table(args)


if __name__ == "__main__":
    sys.exit(main())
