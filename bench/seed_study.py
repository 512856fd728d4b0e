#!/usr/bin/python3
"""The seed study side by side: Quarry's `quarry search examples/fashion_mnist.yaml` and Optuna 3.1
+ PyTorch 1.13 over the same space, run by bench/seed_study.sh one after the other.

Subcommands:
  stamp LOG -- COMMAND...   runs COMMAND, copying each line of its output to LOG prefixed with the
                            seconds since COMMAND started ("12.345 <line>"); exits with its status.
  optuna LOG [--timeout S] [--workers W] [--seed N]
                            the Optuna side, written to LOG in the same form (see below).
  report QUARRY_LOG OPTUNA_LOG
                            the table: best validation accuracy after 1, 2, 5 and 10 minutes, the
                            time to 0.885 and to 0.890, trials and epochs run, search time, and the
                            test accuracy of the retrained best (and of each of Quarry's seeds).

The Optuna side is the seed study written the way an Optuna user writes it: the same space
(units 16..512 step 16, learning_rate in {1e-2, 1e-3, 1e-4}), the same network (flatten -> dense
(units, relu) -> dropout 0.2 -> dense 10, Glorot-uniform weights and zero biases, Adam with Keras'
epsilon 1e-7, cross-entropy on logits, batch 32), the same split (the first 48,000 training images
to train on, the last 12,000 to validate: Keras' validation_split 0.2), at most 10 epochs per
trial, TPESampler(seed) with HyperbandPruner(min_resource=1, max_resource=10, reduction_factor=3)
reporting each epoch's validation accuracy, and as the trial's value the best epoch's validation
accuracy (Quarry's objective). W worker processes (default 2, one per core) share one SQLite
study, as Optuna's documentation has several processes share a study; each is pinned to one math
thread (OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1, torch.set_num_threads(1)) with glibc's heap
trimming turned off (MALLOC_TRIM_THRESHOLD_; bench/README.md's trainer section says why). When the
timeout ends the search, the best trial's parameters are trained again from scratch for its best
epoch count on the 48,000 images and tested on the 10,000 test images (one network; `quarry
search` by default trains one per worker on the 60,000 training and validation images and averages
them: fit.retrain).

Log lines (both sides; Quarry's are its own output, stamped):
  SECONDS   trial N epoch E/T: ... val_accuracy V     one finished epoch of a trial
  SECONDS   best epoch E/T: ...                       the retrain of the best
  SECONDS test: loss L accuracy A                     the retrained best on the test images

Run with Debian's interpreter (/usr/bin/python3), which has python3-optuna and python3-torch.
"""

import gzip
import os
import re
import subprocess
import sys
import time

DATA = "/usr/share/datasets/fashion-mnist"
TRAIN_ROWS, VALIDATION_ROWS, BATCH_SIZE, MAX_EPOCHS = 48000, 12000, 32, 10
THRESHOLDS = (0.885, 0.890)
MINUTES = (1, 2, 5, 10)


def usage(problem):
    sys.exit(f"seed_study.py: {problem}\nusage: seed_study.py stamp LOG -- COMMAND... | "
             "optuna LOG [--timeout S] [--workers W] [--seed N] | report QUARRY_LOG OPTUNA_LOG")


# ---- stamp -------------------------------------------------------------------------------------


def stamp(log, command):
    start = time.monotonic()
    with open(log, "w") as out:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, bufsize=1)
        for line in child.stdout:
            out.write(f"{time.monotonic() - start:.3f} {line}")
            out.flush()
        return child.wait()


# ---- the Optuna side ---------------------------------------------------------------------------


def read_idx(path, header):
    import numpy as np

    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def load(prefix):
    import numpy as np
    import torch

    images = read_idx(os.path.join(DATA, f"{prefix}-images-idx3-ubyte.gz"), 16)
    labels = read_idx(os.path.join(DATA, f"{prefix}-labels-idx1-ubyte.gz"), 8)
    x = torch.from_numpy(images.reshape(-1, 784).astype(np.float32) / 255.0)
    return x, torch.from_numpy(labels.astype(np.int64))


def network(units, lr):
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(784, units), nn.ReLU(), nn.Dropout(0.2), nn.Linear(units, 10))
    for layer in (model[0], model[3]):
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
    return model, torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)


def train_epoch(model, optimizer, x, y):
    import torch
    import torch.nn.functional as F

    model.train()
    order = torch.randperm(len(y))
    for start in range(0, len(y), BATCH_SIZE):
        rows = order[start:start + BATCH_SIZE]
        loss = F.cross_entropy(model(x[rows]), y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def accuracy(model, x, y):
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(y), 1024):
            rows = slice(start, start + 1024)
            correct += (model(x[rows]).argmax(1) == y[rows]).sum().item()
    return correct / len(y)


def worker(storage, name, timeout, log, start, index):
    """One worker process: trials of the shared study until `timeout` seconds after `start`."""
    import optuna
    import torch

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    x, y = load("train")
    train, validation = (x[:TRAIN_ROWS], y[:TRAIN_ROWS]), (x[TRAIN_ROWS:], y[TRAIN_ROWS:])
    study = optuna.load_study(study_name=name, storage=storage,
                              sampler=optuna.samplers.TPESampler(seed=int(os.environ["SEED"])
                                                                 + index),
                              pruner=optuna.pruners.HyperbandPruner(1, MAX_EPOCHS, 3))

    def objective(trial):
        units = trial.suggest_int("units", 16, 512, step=16)
        lr = trial.suggest_categorical("learning_rate", [1e-2, 1e-3, 1e-4])
        model, optimizer = network(units, lr)
        best = 0.0
        for epoch in range(1, MAX_EPOCHS + 1):
            train_epoch(model, optimizer, *train)
            value = accuracy(model, *validation)
            best = max(best, value)
            with open(log, "a") as out:
                out.write(f"{time.time() - start:.3f}   trial {trial.number} epoch {epoch}/"
                          f"{MAX_EPOCHS}: val_accuracy {value:.4f}\n")
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return best

    study.optimize(objective, timeout=max(1.0, timeout - (time.time() - start)))


def optuna_side(log, timeout, workers, seed):
    import optuna

    work = os.path.dirname(os.path.abspath(log))
    storage = f"sqlite:///{os.path.join(work, 'optuna.db')}"
    name = "intro_to_kt"
    optuna.create_study(study_name=name, storage=storage, direction="maximize")
    open(log, "w").close()
    start = time.time()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MALLOC_TRIM_THRESHOLD_="268435456", SEED=str(seed))
    children = [subprocess.Popen([sys.executable, __file__, "worker", storage, name, str(timeout),
                                  log, repr(start), str(i)], env=env) for i in range(workers)]
    if any([child.wait() for child in children]):  # a list: wait for every one
        sys.exit("seed_study.py: an Optuna worker failed")

    # The retrain, as quarry search does it: the best parameters and epoch count, from scratch.
    import torch

    torch.set_num_threads(1)
    study = optuna.load_study(study_name=name, storage=storage)
    best = study.best_trial
    epochs = max(best.intermediate_values, key=lambda e: (best.intermediate_values[e], -e))
    torch.manual_seed(seed)
    x, y = load("train")
    test_x, test_y = load("t10k")
    model, optimizer = network(best.params["units"], best.params["learning_rate"])
    for epoch in range(1, epochs + 1):
        train_epoch(model, optimizer, x[:TRAIN_ROWS], y[:TRAIN_ROWS])
        with open(log, "a") as out:
            out.write(f"{time.time() - start:.3f}   best epoch {epoch}/{epochs}:\n")
    with open(log, "a") as out:
        out.write(f"{time.time() - start:.3f} test: accuracy {accuracy(model, test_x, test_y):.4f}"
                  f" (units {best.params['units']}, learning_rate {best.params['learning_rate']},"
                  f" {epochs} epochs)\n")


# ---- the report --------------------------------------------------------------------------------

EPOCH = re.compile(r"^(\S+)\s+trial (\d+) epoch \d+/\d+:.*val_accuracy (\S+)")
RETRAIN = re.compile(r"^(\S+)\s+best epoch ")
TEST = re.compile(r"^(\S+) test: .*accuracy (\S+)")
SEEDS = re.compile(r"^\S+ seeds: accuracy (.*) \(mean (\S+), spread (\S+)\); (.*)")


def summary(log):
    epochs, trials, search_end, test, seeds, test_kind = [], set(), None, None, "one", ""
    with open(log) as f:
        for line in f:
            if m := EPOCH.match(line):
                epochs.append((float(m.group(1)), float(m.group(3))))
                trials.add(int(m.group(2)))
            elif (m := RETRAIN.match(line)) and search_end is None:
                search_end = float(m.group(1))
            elif m := TEST.match(line):
                test = float(m.group(2))
            elif m := SEEDS.match(line):  # Quarry's retrain of several seeds
                kind = "avg" if m.group(4).startswith("the model averages") else "best kept"
                test_kind = f" ({kind})"
                seeds = f"{m.group(1)} (mean {m.group(2)})"
    epochs.sort()
    if search_end is None:
        search_end = epochs[-1][0] if epochs else 0.0

    def best_by(seconds):
        values = [v for t, v in epochs if t <= seconds]
        return f"{max(values):.4f}" if values else "-"

    def time_to(threshold):
        return next((f"{t / 60:.1f} min" for t, v in epochs if v >= threshold), "never")

    return ([best_by(60 * m) for m in MINUTES] + [time_to(t) for t in THRESHOLDS]
            + [str(len(trials)), str(len(epochs)), f"{search_end / 60:.1f} min",
               f"{test:.4f}{test_kind}" if test is not None else "-", seeds])


def report(quarry_log, optuna_log):
    rows = [f"best val acc after {m} min" for m in MINUTES] + \
        [f"time to val acc {t}" for t in THRESHOLDS] + \
        ["trials", "epochs trained", "search time", "retrained best: test accuracy",
         "  each seed's"]
    q, o = summary(quarry_log), summary(optuna_log)
    width = max(10, *(len(a) for a in q + o))
    print(f"{'':32} | {'Quarry':>{width}} | {'Optuna+PyTorch':>14}")
    print(f"{'-' * 32}-+-{'-' * width}-+-{'-' * 14}")
    for label, a, b in zip(rows, q, o):
        print(f"{label:32} | {a:>{width}} | {b:>14}")


def main():
    if len(sys.argv) < 2:
        usage("a subcommand is needed")
    command, args = sys.argv[1], sys.argv[2:]
    if command == "stamp":
        if len(args) < 3 or args[1] != "--":
            usage("stamp LOG -- COMMAND...")
        sys.exit(stamp(args[0], args[2:]))
    if command == "worker":  # started by optuna_side
        worker(args[0], args[1], float(args[2]), args[3], float(args[4]), int(args[5]))
        return
    if command == "optuna":
        if not args:
            usage("optuna LOG ...")
        options = {"--timeout": 600, "--workers": 2, "--seed": 1}
        rest = args[1:]
        while rest:
            if rest[0] not in options or len(rest) < 2:
                usage(f"unknown option {rest[0]}")
            options[rest[0]] = int(rest[1])
            rest = rest[2:]
        optuna_side(args[0], options["--timeout"], options["--workers"], options["--seed"])
        return
    if command == "report" and len(args) == 2:
        report(*args)
        return
    usage(f"unknown subcommand {command}")


if __name__ == "__main__":
    main()
