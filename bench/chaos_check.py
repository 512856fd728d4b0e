"""The checks of bench/chaos.sh on one study, after its chaos run.

usage: chaos_check.py NAME FINAL.json UNDISTURBED.json KILLS.txt SNAPSHOT_DIR SECONDS CALM_SECONDS
                      [BEST_MODEL.json BEST.json]

FINAL.json and UNDISTURBED.json: `quarry trials --format json` of the chaos run and of the same
study run without kills. KILLS.txt: one line per kill, "signal moment orphans". SNAPSHOT_DIR: the
trials as `quarry trials --format json` showed them after each kill. BEST_MODEL.json: the retrained
model's description; BEST.json: `quarry best --format json`. Prints one line per check and exits
1 when one failed.
"""
import json
import sys
from collections import Counter
from pathlib import Path

FINISHED = ("complete", "pruned", "failed")


def facts(trial):
    """What must never change once a trial finished."""
    return json.dumps({k: trial.get(k) for k in ("number", "state", "values", "params", "budget",
                                                 "finished_at", "intermediate")}, sort_keys=True)


def requeues(trial):
    return sum(1 for key in trial.get("attrs", {}) if key.startswith("requeue."))


def main():
    name, final_path, calm_path, kills_path, snapshot_dir, seconds, calm_seconds = sys.argv[1:8]
    final = json.loads(Path(final_path).read_text())
    calm = json.loads(Path(calm_path).read_text())
    kills = [line.split() for line in Path(kills_path).read_text().splitlines() if line.strip()]
    snapshots = [json.loads(p.read_text()) for p in sorted(Path(snapshot_dir).glob("*.json"))]

    finished_at_end = {facts(t) for t in final if t["state"] in FINISHED}
    seen = {facts(t) for snap in snapshots for t in snap if t["state"] in FINISHED}
    lost = seen - finished_at_end
    twice = [snap_numbers for snap_numbers in ([t["number"] for t in s] for s in snapshots + [final])
             if len(snap_numbers) != len(set(snap_numbers))]
    numbers = sorted(t["number"] for t in final)
    states = Counter(t["state"] for t in final)
    unrecorded = [t["number"] for t in final
                  if t["state"] in FINISHED and requeues(t) != t["attempts"] - 1]
    brackets = Counter(t.get("budget") for t in final)
    calm_brackets = Counter(t.get("budget") for t in calm)
    same_trials = (Counter((t.get("budget"), json.dumps(t["params"], sort_keys=True)) for t in final)
                   == Counter((t.get("budget"), json.dumps(t["params"], sort_keys=True))
                              for t in calm))
    orphans = sum(int(k[2]) for k in kills)
    checks = {
        "completed (nothing running or waiting)": states["running"] + states["waiting"] == 0,
        "no finished trial lost or changed": not lost,
        "no number twice, none missing": not twice and numbers == list(range(len(numbers))),
        "Hyperband's brackets as undisturbed (trials per budget)": brackets == calm_brackets,
        "every requeue recorded": not unrecorded,
        "no process a trial started outlived its worker": orphans == 0,
    }
    if len(sys.argv) > 9:
        saved = json.loads(Path(sys.argv[8]).read_text())
        best = json.loads(Path(sys.argv[9]).read_text())
        best_number = best.get("number", best.get("trial"))
        checks[f"the retrained model is the best finished trial ({best_number})"] = \
            saved.get("trial") == best_number
    signals = Counter(k[0] for k in kills)
    moments = Counter(k[1] for k in kills)
    total_requeues = sum(requeues(t) for t in final)
    print(f"{name}: {len(final)} trials {dict(states)}; {len(kills)} kills "
          f"({', '.join(f'{s} {n}' for s, n in sorted(signals.items()))}; moments: "
          f"{', '.join(f'{m} {n}' for m, n in sorted(moments.items()))}); {total_requeues} "
          f"requeues recorded; {seconds} s against {calm_seconds} s undisturbed; the same "
          f"(budget, parameters) as undisturbed: {'yes' if same_trials else 'no'}")
    for check, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {check}")
    if lost:
        print(f"  changed or lost: {sorted(lost)[:3]}")
    if unrecorded:
        print(f"  trials whose requeues are not all recorded: {unrecorded[:10]}")
    if brackets != calm_brackets:
        print(f"  trials per budget: {dict(brackets)}, undisturbed {dict(calm_brackets)}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
